"""``create_retail_app(db_path)``: the retail support dataset served on its own.

A separate small app rather than another router of ``sandbox.app``: the retail data
lives in its own database file (loaded from peer data, not seeded), and the shared
routers read ``app.state.db_path``. The error shape and the idempotency contract are
the sandbox's own.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from sandbox.errors import install_error_handlers
from sandbox.retail.db import load_retail_database
from sandbox.retail.router import router


def create_retail_app(db_path: Path, *, source: Path | None = None) -> FastAPI:
    """Serve the retail database at ``db_path``, loading it from ``source`` if missing."""
    if not db_path.exists() or db_path.stat().st_size == 0:
        if source is None:
            raise FileNotFoundError(f"no retail database at {db_path} and no source to load")
        load_retail_database(source, db_path)
    app = FastAPI(
        title="Arbiter sandbox retail support services",
        description="tau-bench-shaped retail support dataset (see docs/sandbox-api.md).",
        version="1.0",
    )
    app.state.db_path = db_path
    install_error_handlers(app)
    app.include_router(router)
    return app
