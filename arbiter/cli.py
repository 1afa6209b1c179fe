"""The ``arbiter`` command line, assembled from ``arbiter/commands/``."""

from __future__ import annotations

import typer

from arbiter.commands import (
    approvals,
    audit,
    evals,
    killswitch,
    mcp,
    policy,
    prompts,
    replay,
    sandbox,
    serve,
    trace,
    turns,
)

app = typer.Typer(
    help="Arbiter: an LLM proposes, deterministic rules decide, every turn is recorded.",
    no_args_is_help=True,
    add_completion=False,
)
app.command()(turns.ask)
app.command()(turns.chat)
app.command()(turns.customers)
app.command()(serve.serve)
app.command()(mcp.mcp)
app.add_typer(sandbox.app, name="sandbox")
app.command()(replay.replay)
policy.app.command("simulate")(replay.simulate)
app.add_typer(policy.app, name="policy")
app.add_typer(killswitch.app, name="kill-switch")
app.add_typer(audit.app, name="audit")
app.add_typer(prompts.app, name="prompts")
app.command()(trace.trace)
app.add_typer(evals.app, name="eval")
app.add_typer(approvals.app, name="approvals")


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":
    main()
