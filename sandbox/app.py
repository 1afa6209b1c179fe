"""The sandbox FastAPI application: one router per service under its own prefix.

``create_app`` seeds the database when the file is missing or empty and applies the
clock setting directly, without ASGI lifespan events, so the app works in-process
through ``httpx.ASGITransport``.
"""

from __future__ import annotations

import os
from pathlib import Path

from fastapi import FastAPI

from sandbox import (
    admin,
    carts,
    catalog,
    customers,
    fulfillment,
    inventory,
    orders,
    pricing,
    promotions,
    support,
)
from sandbox.clock import ENV_VAR, apply_spec, parse_spec, seed_moment
from sandbox.db import connect, transaction
from sandbox.errors import install_error_handlers
from sandbox.faults import FaultMiddleware, FaultRegistry
from sandbox.seed import seed_database

ROUTERS = (
    catalog,
    pricing,
    inventory,
    promotions,
    fulfillment,
    customers,
    carts,
    orders,
    support,
    admin,
)


def create_app(db_path: Path, *, clock: str | None = None) -> FastAPI:
    """Build the sandbox app over ``db_path``.

    ``clock`` is an ``ARBITER_SANDBOX_CLOCK`` value (``real`` or an ISO time); when
    None the environment variable is read, and when that is unset the clock seeded
    with the database is kept.
    """
    spec = parse_spec(clock if clock is not None else os.environ.get(ENV_VAR))
    if not db_path.exists() or db_path.stat().st_size == 0:
        seed_database(db_path, now=seed_moment(spec))
    conn = connect(db_path)
    try:
        with transaction(conn):
            apply_spec(conn, spec)
    finally:
        conn.close()

    app = FastAPI(
        title="Arbiter sandbox services",
        description="Reference retailer APIs (see docs/sandbox-api.md).",
        version="1.0",
    )
    app.state.db_path = db_path
    app.state.clock_spec = spec
    app.state.faults = FaultRegistry()
    install_error_handlers(app)
    for module in ROUTERS:
        app.include_router(module.router)
    app.add_middleware(FaultMiddleware, registry=app.state.faults)
    return app
