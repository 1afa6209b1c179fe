"""``arbiter approvals``: the queue of actions waiting for a person, from the terminal."""

from __future__ import annotations

import getpass
from typing import Annotated, Literal

import typer
from rich.table import Table
from rich.text import Text

from arbiter.commands.common import out, run
from arbiter.settings import Settings

app = typer.Typer(help="Actions waiting for a person: list, approve, reject.", no_args_is_help=True)

IdArg = Annotated[str, typer.Argument(help="Approval id (see `arbiter approvals list`).")]
CommentOpt = Annotated[str, typer.Option(help="Why; the shopper or agent is told.")]


@app.command("list")
def list_command(
    all_: Annotated[bool, typer.Option("--all", help="Decided ones too.")] = False,
) -> None:
    """Pending approvals (expired ones are expired first)."""
    from agent.approvals import describe
    from agent.runtime import Arbiter

    async def go() -> None:
        async with Arbiter.open(Settings()) as arbiter:
            await arbiter.expire_due()
            rows = arbiter.approvals.query(status=None if all_ else "pending")
        table = Table("approval", "status", "customer", "action", "why", "expires")
        for row in rows:
            r = row.request
            table.add_row(
                r.approval_id,
                row.status if row.outcome is None else f"{row.status} → {row.outcome}",
                r.customer_id,
                Text(describe(r)),
                Text(" ".join(r.reasons)),
                r.expires_at.strftime("%Y-%m-%d %H:%M UTC"),
            )
        out.print(table if rows else "No approvals waiting.")

    run(go)


def _decide(approval_id: str, decision: Literal["approved", "rejected"], comment: str) -> None:
    from agent.runtime import Arbiter
    from arbiter.render import render_result

    async def go() -> None:
        async with Arbiter.open(Settings()) as arbiter:
            result = await arbiter.decide(
                approval_id, decision, by=f"cli:{getpass.getuser()}", comment=comment
            )
        render_result(out, result)

    run(go)


@app.command("approve")
def approve(approval_id: IdArg, comment: CommentOpt = "") -> None:
    """Approve: the rules run again on facts read now, then the action executes once."""
    _decide(approval_id, "approved", comment)


@app.command("reject")
def reject(approval_id: IdArg, comment: CommentOpt = "") -> None:
    """Reject: nothing runs; the paused turn tells the shopper or agent."""
    _decide(approval_id, "rejected", comment)
