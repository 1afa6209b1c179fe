"""The HTTP service: ``create_app(settings)`` builds it, ``arbiter serve`` runs it.

One ``Arbiter`` runtime per process, opened by the lifespan: it resumes any approval
decided before a crash, then expires overdue approvals in the background. Routes are
versioned under ``/v1``; the console is served at ``/console/``.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Response
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles
from starlette.types import Scope

from agent.models.base import ChatModel
from agent.runtime import Arbiter
from api import errors
from api.auth import load_keys
from api.metrics import Metrics
from api.routes import approvals, conversations, health, operations
from arbiter.settings import Settings

logger = logging.getLogger("arbiter.api")
STATIC = Path(__file__).parent / "static"
VERSION = "1.0.0"
# The console has no inline script or style: nothing but its own files may run.
_CSP = "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'"


class ConsoleFiles(StaticFiles):
    """The console's files, served with headers that let nothing else run in them."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        response.headers["Content-Security-Policy"] = _CSP
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response


async def _expire_loop(arbiter: Arbiter, every_s: float) -> None:
    while True:
        await asyncio.sleep(every_s)
        try:
            await arbiter.expire_due()
            await arbiter.recover(min_age_s=60)
        except Exception:  # a failed sweep must not stop later ones
            logger.exception("approval expiry sweep failed")


def create_app(settings: Settings | None = None, *, model: ChatModel | None = None) -> FastAPI:
    """The API over ``settings`` (from the environment by default)."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.keys, app.state.keys_path = load_keys(settings, create=True)
        async with Arbiter.open(settings, model=model) as arbiter:
            app.state.arbiter = arbiter
            resumed = await arbiter.recover()
            if resumed:
                logger.info("resumed %d decided approvals after a restart", resumed)
            await arbiter.expire_due()
            # What was loaded at start lives as long as the process: keep it out of the
            # collector's full passes, which otherwise stall every request ~100 ms.
            gc.collect()
            gc.freeze()
            sweep = asyncio.create_task(
                _expire_loop(arbiter, min(60.0, max(1.0, settings.approval_ttl_s / 4)))
            )
            try:
                yield
            finally:
                sweep.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await sweep

    app = FastAPI(
        title="Arbiter",
        version=VERSION,
        summary="Shopping chat and support copilot: an LLM proposes, rules decide, people approve.",
        lifespan=lifespan,
        max_body_size=settings.max_request_bytes,
    )
    app.state.metrics = Metrics()
    errors.install(app)
    for router in (conversations.router, approvals.router, operations.router, health.router):
        app.include_router(router)
    app.mount("/console", ConsoleFiles(directory=STATIC, html=True), name="console")

    @app.get("/", include_in_schema=False)
    async def root() -> RedirectResponse:
        return RedirectResponse("/console/")

    return app
