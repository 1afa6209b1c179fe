"""``arbiter serve``: the HTTP API and the web console."""

from __future__ import annotations

from typing import Annotated

import typer

from arbiter.commands.common import err
from arbiter.settings import Settings


def serve(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.")] = 8000,
    log_level: Annotated[str, typer.Option(help="uvicorn log level.")] = "info",
    access_log: Annotated[bool, typer.Option(help="Log each request line.")] = False,
) -> None:
    """Serve the shopping chat and support copilot API, with the console at /console/."""
    import uvicorn

    from agent.models.factory import describe_model
    from api.app import create_app
    from api.auth import load_keys

    settings = Settings()
    keys, path = load_keys(settings, create=True)
    err.print(describe_model(settings), style="dim")
    err.print(
        f"Arbiter API on http://{host}:{port}/v1 (OpenAPI: /docs), console: http://{host}:{port}/console/",
        highlight=False,
    )
    err.print(f"{len(keys)} API keys from {path} (and ARBITER_API_KEYS).", highlight=False)
    uvicorn.run(
        create_app(settings),
        host=host,
        port=port,
        log_level=log_level,
        access_log=access_log,
        timeout_graceful_shutdown=10,
    )
