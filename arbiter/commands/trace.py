"""``arbiter trace TURN_ID``: a recorded turn as a tree in the terminal."""

from __future__ import annotations

from typing import Annotated

import typer

from arbiter.commands.audit import open_store
from arbiter.commands.common import fail, out
from arbiter.settings import Settings


def trace(
    turn_id: Annotated[str, typer.Argument(help="A turn id (from `ask --json` or the panel).")],
) -> None:
    """Show a recorded turn: steps, LLM calls, tools, verdicts, executions, claim checks."""
    from arbiter.render import render_trace

    record = open_store(Settings()).get(turn_id)
    if record is None:
        raise fail(f"unknown turn {turn_id}", code=2)
    render_trace(out, record)
