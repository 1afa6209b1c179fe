"""Request dependencies: the runtime, the authenticated caller, role and customer checks."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Header, Request

from agent.runtime import Arbiter
from agent.sessions import Session
from api.auth import Caller, KeyRing, Role
from api.errors import ApiError

# Dependencies are ``async def`` although they never await: FastAPI runs a plain ``def``
# dependency in its thread pool, a thread hop per dependency per request.


async def get_arbiter(request: Request) -> Arbiter:
    """The process's runtime (opened by the app's lifespan)."""
    arbiter: Arbiter = request.app.state.arbiter
    return arbiter


async def authenticate(
    request: Request,
    authorization: Annotated[str | None, Header(include_in_schema=False)] = None,
    x_api_key: Annotated[str | None, Header(include_in_schema=False)] = None,
    x_customer_id: Annotated[
        str | None,
        Header(
            description="storefront keys: the signed-in shopper this request acts for.",
            max_length=64,
        ),
    ] = None,
) -> Caller:
    """The caller, from ``Authorization: Bearer <key>`` or ``X-API-Key``."""
    secret = x_api_key
    if authorization:
        scheme, _, value = authorization.partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise _unauthorized("use 'Authorization: Bearer <key>'")
        secret = value.strip()
    if not secret:
        raise _unauthorized("an API key is required")
    keys: KeyRing = request.app.state.keys
    entry = keys.find(secret)
    if entry is None:
        raise _unauthorized("unknown API key")
    customer = None
    if entry.role == "storefront":
        if entry.customer_id and x_customer_id and x_customer_id != entry.customer_id:
            raise ApiError(
                403, "forbidden", "this key acts for another customer", field="X-Customer-Id"
            )
        customer = entry.customer_id or x_customer_id
    return Caller(name=entry.name, role=entry.role, customer_id=customer)


def _unauthorized(message: str) -> ApiError:
    return ApiError(401, "unauthorized", message, headers={"WWW-Authenticate": "Bearer"})


def require(*roles: Role) -> Callable[[Caller], Awaitable[Caller]]:
    """A dependency admitting only these roles (403 for the others)."""

    async def check(caller: Annotated[Caller, Depends(authenticate)]) -> Caller:
        if caller.role not in roles:
            raise ApiError(
                403,
                "forbidden",
                f"the {caller.role} role may not do this (needs {' or '.join(roles)})",
            )
        return caller

    return check


ArbiterDep = Annotated[Arbiter, Depends(get_arbiter)]
AnyCaller = Annotated[Caller, Depends(require("storefront", "support_agent", "operator"))]
Staff = Annotated[Caller, Depends(require("support_agent", "operator"))]
Operator = Annotated[Caller, Depends(require("operator"))]


def check_customer(caller: Caller, customer_id: str) -> None:
    """A storefront may only act for the shopper it names; staff for anyone."""
    if caller.role != "storefront":
        return
    if caller.customer_id is None:
        raise ApiError(
            403,
            "forbidden",
            "storefront requests must name the shopper in X-Customer-Id",
            field="X-Customer-Id",
        )
    if caller.customer_id != customer_id:
        raise ApiError(403, "forbidden", "this session belongs to another customer")


def session_for(arbiter: Arbiter, caller: Caller, session_id: str) -> Session:
    """The session, if this caller may use it (unknown: 404; someone else's: 403)."""
    session = arbiter.sessions.get(session_id)
    check_customer(caller, session.principal.customer_id)
    if caller.role == "storefront" and session.principal.channel != "shopper":
        raise ApiError(403, "forbidden", "storefront keys use shopper sessions only")
    return session
