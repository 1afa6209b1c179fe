"""``arbiter kill-switch``: switch actions off (and on) for every replica at once.

    arbiter kill-switch set --action offer_discount --reason "pricing incident"
    arbiter kill-switch set --channel shopper --reason "bad deploy"
    arbiter kill-switch set --all --reason "stop everything"
    arbiter kill-switch status
    arbiter kill-switch clear --action offer_discount

The switches live with the budget ledger (PostgreSQL when ``ARBITER_DATABASE_URL`` is
set, else the data directory's SQLite file) and apply from the next verdict.
"""

from __future__ import annotations

import getpass
from typing import Annotated

import typer
from rich.table import Table

from arbiter.commands.common import err, fail, out
from arbiter.errors import ArbiterError, InputError
from arbiter.settings import Settings

app = typer.Typer(help="Switch actions off for every replica, at once.", no_args_is_help=True)

ActionOpt = Annotated[
    str | None, typer.Option("--action", help="One action type, e.g. offer_discount.")
]
ChannelOpt = Annotated[str | None, typer.Option("--channel", help="shopper or copilot.")]
AllOpt = Annotated[bool, typer.Option("--all", help="Every action on every channel.")]


@app.command("status")
def status() -> None:
    """List the switches that are on."""
    from guardrails.ledger.stores import GuardStores

    settings = Settings()
    try:
        with GuardStores.open(settings.database_url, settings.path("budget.sqlite")) as stores:
            switches = stores.kill_switch.active()
    except ArbiterError as exc:
        raise fail(str(exc)) from None
    if not switches:
        out.print("No kill switch is on: actions run as the policy allows.")
        return
    table = Table(title="kill switches on")
    for column in ("scope", "reason", "set by", "since (UTC)"):
        table.add_column(column)
    for s in switches:
        table.add_row(s.scope, s.reason, s.set_by, s.set_at.strftime("%Y-%m-%d %H:%M:%S"))
    out.print(table)


@app.command("set")
def set_switch(
    reason: Annotated[str, typer.Option("--reason", help="Why; shown in every denial.")],
    action: ActionOpt = None,
    channel: ChannelOpt = None,
    all_: AllOpt = False,
    by: Annotated[str | None, typer.Option("--by", help="Who sets it (default: $USER).")] = None,
) -> None:
    """Switch off one action type, one channel, or everything (from the next verdict)."""
    from guardrails.ledger.stores import GuardStores

    settings = Settings()
    try:
        scope = _scope(action, channel, all_)
        if not reason.strip():
            raise InputError("--reason cannot be empty")
        with GuardStores.open(settings.database_url, settings.path("budget.sqlite")) as stores:
            switch = stores.kill_switch.set(scope, reason.strip(), by or _user())
    except InputError as exc:
        raise fail(str(exc), code=2) from None
    except ArbiterError as exc:
        raise fail(str(exc)) from None
    out.print(f"kill switch on: {switch.scope} ({switch.reason})", highlight=False, markup=False)


@app.command("clear")
def clear_switch(
    action: ActionOpt = None, channel: ChannelOpt = None, all_: AllOpt = False
) -> None:
    """Switch one scope back on."""
    from guardrails.ledger.stores import GuardStores

    settings = Settings()
    try:
        scope = _scope(action, channel, all_)
        with GuardStores.open(settings.database_url, settings.path("budget.sqlite")) as stores:
            cleared = stores.kill_switch.clear(scope)
    except InputError as exc:
        raise fail(str(exc), code=2) from None
    except ArbiterError as exc:
        raise fail(str(exc)) from None
    if cleared:
        out.print(f"kill switch off: {scope}", highlight=False, markup=False)
    else:
        err.print(f"no kill switch was on for {scope}", highlight=False, markup=False)


def _scope(action: str | None, channel: str | None, all_: bool) -> str:
    from guardrails.kill_switch import ALL, action_scope, channel_scope, checked_scope
    from tools.registry import ACTION_TOOLS

    chosen = [opt for opt, given in (("--action", action), ("--channel", channel)) if given]
    chosen += ["--all"] if all_ else []
    if len(chosen) != 1:
        raise InputError("give exactly one of --action, --channel or --all")
    if action:
        known = sorted(t.name for t in ACTION_TOOLS)
        if action not in known:
            raise InputError(f"unknown action type {action!r}; one of: {', '.join(known)}")
        return action_scope(action)
    if channel:
        return checked_scope(channel_scope(channel))
    return ALL


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "cli"
