"""Every error the API returns has one shape: ``{"error": {"code", "message", "field"}}``.

Status by who must act: 400 malformed request, 401 no or unknown key, 403 the key's
role or customer may not do this, 404 unknown id, 409 the state does not allow it
now, 413 body too large, 422 a field is invalid (named in ``field``), 503 a service
Arbiter depends on is down.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from arbiter.errors import (
    ArbiterError,
    CapabilityError,
    ConflictError,
    InputError,
    NotFoundError,
    ServiceUnavailableError,
    TurnPausedError,
)
from guardrails.policy import PolicyError


class ApiError(Exception):
    """An error response raised from a route or dependency."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        field: str | None = None,
        extra: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.field = field
        self.extra = extra or {}
        self.headers = headers


def error_body(code: str, message: str, field: str | None = None, **extra: Any) -> dict[str, Any]:
    """The JSON error document."""
    return {"error": {"code": code, "message": message, "field": field, **extra}}


def _response(exc: ApiError) -> JSONResponse:
    return JSONResponse(
        error_body(exc.code, exc.message, exc.field, **exc.extra),
        status_code=exc.status,
        headers=exc.headers,
    )


def _field(loc: Sequence[Any]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"


def from_arbiter_error(exc: ArbiterError) -> ApiError:
    """The HTTP form of an error the runtime raised."""
    if isinstance(exc, PolicyError):
        return ApiError(
            422, "invalid_policy", str(exc), field="yaml", extra={"problems": exc.problems}
        )
    if isinstance(exc, NotFoundError):
        return ApiError(404, "not_found", str(exc))
    if isinstance(exc, InputError):
        return ApiError(422, "invalid_input", str(exc), field="text")
    if isinstance(exc, ConflictError | TurnPausedError):
        return ApiError(409, "conflict", str(exc))
    if isinstance(exc, CapabilityError):
        return ApiError(422, "rejected_by_service", str(exc))
    if isinstance(exc, ServiceUnavailableError):
        return ApiError(503, "service_unavailable", str(exc))
    return ApiError(500, "internal_error", "the request could not be completed")


def install(app: FastAPI) -> None:
    """Register the handlers that give every error the shape above."""

    async def api_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, ApiError)
        return _response(exc)

    async def arbiter_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, ArbiterError)
        return _response(from_arbiter_error(exc))

    async def invalid(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        errors = exc.errors()
        first = errors[0] if errors else {"loc": ("body",), "msg": "invalid request"}
        if first.get("type") == "json_invalid":
            return _response(
                ApiError(400, "malformed_json", "the body is not valid JSON", field="body")
            )
        details = [{"field": _field(e["loc"]), "message": e["msg"]} for e in errors[:10]]
        return _response(
            ApiError(
                422,
                "invalid_request",
                f"{_field(first['loc'])}: {first['msg']}",
                field=_field(first["loc"]),
                extra={"details": details},
            )
        )

    async def http_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        code = {404: "not_found", 405: "method_not_allowed", 413: "body_too_large"}.get(
            exc.status_code, "http_error"
        )
        headers = dict(exc.headers) if exc.headers else None
        return _response(ApiError(exc.status_code, code, str(exc.detail), headers=headers))

    app.add_exception_handler(ApiError, api_error)
    app.add_exception_handler(ArbiterError, arbiter_error)
    app.add_exception_handler(RequestValidationError, invalid)
    app.add_exception_handler(StarletteHTTPException, http_error)
