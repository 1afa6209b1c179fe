"""``arbiter serve``: the HTTP API and the web console."""

from __future__ import annotations

import os
import tempfile
from typing import Annotated, Any

import typer

from api.metrics import MULTIPROC_ENV
from arbiter.commands.common import err
from arbiter.settings import Settings


def serve(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.")] = 8000,
    log_level: Annotated[str, typer.Option(help="uvicorn log level.")] = "info",
    access_log: Annotated[bool, typer.Option(help="Log each request line.")] = False,
    workers: Annotated[
        int,
        typer.Option(
            min=1,
            help="Processes serving the API (turns of one session never overlap: a lease in"
            " the sessions store holds them apart; /metrics sums the processes).",
        ),
    ] = 1,
    timeout_keep_alive: Annotated[
        int,
        typer.Option(
            help="Seconds an idle client connection stays open (keep it above the"
            " load balancer's idle timeout)."
        ),
    ] = 75,
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
    options: dict[str, Any] = {
        "host": host,
        "port": port,
        "log_level": log_level,
        "access_log": access_log,
        "timeout_keep_alive": timeout_keep_alive,
        "timeout_graceful_shutdown": 10,
    }
    if workers == 1:
        uvicorn.run(create_app(settings), **options)
    else:
        # Each worker builds its app from the same environment. Prometheus' multiprocess
        # mode: every worker writes its samples under this directory (read at import, so
        # set before the workers start) and /metrics in any worker sums them all.
        with tempfile.TemporaryDirectory(prefix="arbiter-metrics-") as samples:
            os.environ[MULTIPROC_ENV] = samples
            uvicorn.run("api.app:create_app", factory=True, workers=workers, **options)
