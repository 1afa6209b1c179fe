"""The sandbox's one error shape: ``{"error": {"code", "message"}}`` for every 4xx/5xx.

Handlers raise :class:`ApiError`; :func:`install_error_handlers` also rewrites
FastAPI's own validation errors and Starlette's 404/405 into the same shape.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException


class ApiError(Exception):
    """A documented error outcome: HTTP status, snake_case code and a one-line message."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message

    def body(self) -> dict[str, dict[str, str]]:
        """The JSON body of this error."""
        return {"error": {"code": self.code, "message": self.message}}

    def response(self) -> JSONResponse:
        """This error as a response."""
        return JSONResponse(self.body(), status_code=self.status)


def not_found(what: str, ident: str) -> ApiError:
    """404 ``not_found`` for an unknown identifier."""
    return ApiError(404, "not_found", f"{what} {ident} not found")


def invalid_state(message: str) -> ApiError:
    """409 ``invalid_state``: the request is valid but not in the resource's current state."""
    return ApiError(409, "invalid_state", message)


def validation_error(field: str, message: str) -> ApiError:
    """422 ``validation_error`` naming the failing field."""
    return ApiError(422, "validation_error", f"{field}: {message}")


def _field_of(loc: Sequence[Any]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"


_HTTP_CODES = {404: "not_found", 405: "method_not_allowed", 400: "bad_request"}


def install_error_handlers(app: FastAPI) -> None:
    """Register handlers so every error body has the documented shape."""

    async def on_api_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, ApiError)
        return exc.response()

    async def on_validation(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        errors = exc.errors()
        first = errors[0] if errors else {"loc": (), "msg": "invalid request"}
        field = _field_of(first.get("loc", ()))
        return ApiError(
            422, "validation_error", f"{field}: {first.get('msg', 'invalid')}"
        ).response()

    async def on_http(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        code = _HTTP_CODES.get(exc.status_code, "http_error")
        message = str(exc.detail)
        if exc.status_code in (404, 405) and message in ("Not Found", "Method Not Allowed"):
            message = f"{message}: {request.method} {request.url.path}"
        return ApiError(exc.status_code, code, message).response()

    async def on_crash(_: Request, exc: Exception) -> JSONResponse:
        # Starlette re-raises after responding, so the failure is still logged.
        return ApiError(500, "internal_error", type(exc).__name__).response()

    app.add_exception_handler(ApiError, on_api_error)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(Exception, on_crash)
