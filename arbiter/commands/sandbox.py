"""``arbiter sandbox``: the reference capability services."""

from __future__ import annotations

from typing import Annotated

import typer

from arbiter.commands.common import err, out
from arbiter.settings import Settings

app = typer.Typer(help="The reference capability services.", no_args_is_help=True)


@app.command("serve")
def serve(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.")] = 8100,
) -> None:
    """Serve the capability services over HTTP (point ARBITER_SANDBOX_URL at it)."""
    import uvicorn

    from sandbox.app import create_app

    settings = Settings()
    app_ = create_app(settings.path("sandbox.sqlite"))
    err.print(f"Sandbox services on http://{host}:{port} (set ARBITER_SANDBOX_URL to use it).")
    uvicorn.run(app_, host=host, port=port, log_level="warning")


@app.command("reset")
def reset() -> None:
    """Regenerate the sandbox database from its fixed seed."""
    from sandbox.seed import seed_database

    path = Settings().path("sandbox.sqlite")
    seed_database(path)
    out.print(f"Sandbox data regenerated at {path}.")
