"""The kill switch: stop one action type, one channel, or every action, at once.

A switch is a row in the same database as the budget ledger, so every replica sees it
as soon as it is written. The validator reads the switches on every verdict (one
primary-key lookup), so a switch set while a turn is in flight stops that turn's next
proposal. Switch scopes are ``all``, ``action:<type>`` and ``channel:<shopper|copilot>``.

If the switches cannot be read, the implementation raises ``KillSwitchUnavailable``
and the validator denies (fail closed).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol, get_args

from arbiter.errors import ArbiterError, InputError
from arbiter.sqlite import immediate
from guardrails.ledger.sqlite import SqliteConnections
from tools.spec import Channel

ALL = "all"
CHANNELS: tuple[str, ...] = get_args(Channel)


class KillSwitchUnavailable(ArbiterError):  # noqa: N818 - reads as a condition
    """The switches could not be read; the caller must fail closed."""


@dataclass(frozen=True)
class Switch:
    """One active switch."""

    scope: str
    """``all``, ``action:<type>`` or ``channel:<name>``."""
    reason: str
    """Why it was set, shown in denials."""
    set_by: str
    """Who set it."""
    set_at: datetime
    """When it was set (UTC)."""


class KillSwitch(Protocol):
    """Where switches are stored; every verdict asks ``blocks`` afresh."""

    def set(self, scope: str, reason: str, by: str) -> Switch:
        """Turn a switch on (or update its reason); effective on the next verdict."""
        ...

    def clear(self, scope: str) -> bool:
        """Turn a switch off; False when it was not on."""
        ...

    def active(self) -> list[Switch]:
        """Every switch that is on, most general first."""
        ...

    def blocks(self, action_type: str, channel: str) -> Switch | None:
        """The switch that stops this action on this channel, if any."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...


def action_scope(action_type: str) -> str:
    """Switch scope of one action type."""
    return f"action:{action_type}"


def channel_scope(channel: str) -> str:
    """Switch scope of one channel."""
    return f"channel:{channel}"


def checked_scope(scope: str) -> str:
    """The scope if well formed; raises InputError naming the accepted forms."""
    kind, _, name = scope.partition(":")
    if scope == ALL or (kind == "action" and name) or (kind == "channel" and name in CHANNELS):
        return scope
    raise InputError(
        f"kill switch scope {scope!r}: use 'all', 'action:<type>' or "
        f"'channel:<{'|'.join(CHANNELS)}>'"
    )


def covering_scopes(action_type: str, channel: str) -> list[str]:
    """The scopes that stop an action, most general first."""
    return [ALL, channel_scope(channel), action_scope(action_type)]


def most_general(switches: list[Switch], order: list[str]) -> Switch | None:
    """The switch whose scope comes first in ``order``."""
    by_scope = {s.scope: s for s in switches}
    return next((by_scope[scope] for scope in order if scope in by_scope), None)


def sort_switches(switches: list[Switch]) -> list[Switch]:
    """``all`` first, then channels, then actions, each alphabetically."""
    rank = {"all": 0, "channel": 1, "action": 2}
    return sorted(switches, key=lambda s: (rank.get(s.scope.partition(":")[0], 3), s.scope))


def switch_from_row(row: tuple[Any, ...]) -> Switch:
    """A Switch from ``(scope, reason, set_by, set_at epoch seconds)``."""
    return Switch(
        scope=str(row[0]),
        reason=str(row[1]),
        set_by=str(row[2]),
        set_at=datetime.fromtimestamp(float(row[3]), UTC),
    )


class NoKillSwitch:
    """No store: nothing is ever switched off (for code that builds a bare Validator)."""

    def set(self, scope: str, reason: str, by: str) -> Switch:
        raise ArbiterError("no kill switch store is configured")

    def clear(self, scope: str) -> bool:
        return False

    def active(self) -> list[Switch]:
        return []

    def blocks(self, action_type: str, channel: str) -> Switch | None:
        return None

    def close(self) -> None:
        return None


_SQLITE_SCHEMA = """CREATE TABLE IF NOT EXISTS kill_switches (
    scope  TEXT PRIMARY KEY,
    reason TEXT NOT NULL,
    set_by TEXT NOT NULL,
    set_at REAL NOT NULL
)"""


class SqliteKillSwitch:
    """Switches in the embedded ledger's SQLite file, seen by every process using it."""

    def __init__(self, path: Path) -> None:
        self._db = SqliteConnections(path)
        conn = self._db.get()
        with immediate(conn):
            conn.execute(_SQLITE_SCHEMA)

    def set(self, scope: str, reason: str, by: str) -> Switch:
        switch = Switch(checked_scope(scope), reason, by, datetime.now(UTC))
        self._db.get().execute(
            "INSERT INTO kill_switches VALUES (?, ?, ?, ?) ON CONFLICT (scope) DO UPDATE"
            " SET reason = excluded.reason, set_by = excluded.set_by, set_at = excluded.set_at",
            (switch.scope, reason, by, switch.set_at.timestamp()),
        )
        return switch

    def clear(self, scope: str) -> bool:
        cur = self._db.get().execute("DELETE FROM kill_switches WHERE scope = ?", (scope,))
        return cur.rowcount > 0

    def active(self) -> list[Switch]:
        rows = self._read("SELECT scope, reason, set_by, set_at FROM kill_switches", ())
        return sort_switches([switch_from_row(r) for r in rows])

    def blocks(self, action_type: str, channel: str) -> Switch | None:
        order = covering_scopes(action_type, channel)
        rows = self._read(
            "SELECT scope, reason, set_by, set_at FROM kill_switches WHERE scope IN (?, ?, ?)",
            tuple(order),
        )
        return most_general([switch_from_row(r) for r in rows], order) if rows else None

    def close(self) -> None:
        self._db.close()

    def _read(self, sql: str, args: tuple[str, ...]) -> list[Any]:
        try:
            return self._db.get().execute(sql, args).fetchall()
        except sqlite3.Error as exc:
            raise KillSwitchUnavailable(f"kill switches unreadable: {exc}") from exc
