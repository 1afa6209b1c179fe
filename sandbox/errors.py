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
        message = f"{_field_of(first.get('loc', ()))}: {first.get('msg', 'invalid')}"
        return validation_error_response(message)

    async def on_http(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        code = _HTTP_CODES.get(exc.status_code, "http_error")
        return ApiError(exc.status_code, code, str(exc.detail)).response()

    app.add_exception_handler(ApiError, on_api_error)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)


def validation_error_response(message: str) -> JSONResponse:
    """422 ``validation_error`` with a ready message (``field: reason``)."""
    return ApiError(422, "validation_error", message).response()
