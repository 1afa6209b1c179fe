"""The discount budget ledger: reserve before execute, commit after, release on failure.

Reservation is one ``BEGIN IMMEDIATE`` transaction that sums the live entries of a
scope and inserts the new one only if the cap still holds, so concurrent turns (and
processes sharing the file) cannot overspend. Entries are keyed by the action's id,
so a retried reservation is a no-op. Reservations that are never committed expire.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Protocol

from arbiter.sqlite import connect, immediate

_SCHEMA = """
CREATE TABLE IF NOT EXISTS budget_entries (
    entry_id   TEXT PRIMARY KEY,
    scope      TEXT NOT NULL,
    amount     REAL NOT NULL,
    status     TEXT NOT NULL CHECK (status IN ('reserved', 'committed', 'released')),
    expires_at REAL NOT NULL,
    created_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS budget_entries_scope ON budget_entries (scope, status);
"""

_LIVE = "scope = ? AND (status = 'committed' OR (status = 'reserved' AND expires_at > ?))"


class BudgetLedger(Protocol):
    """Atomic money ledger per scope (a session, a customer-day, a campaign)."""

    def spent(self, scope: str) -> float:
        """Committed plus live reserved amount in a scope."""
        ...

    def reserve(self, scope: str, entry_id: str, amount: float, cap: float) -> bool:
        """Reserve ``amount`` if the scope stays within ``cap``; idempotent per entry_id."""
        ...

    def commit(self, entry_id: str) -> None:
        """Make a reservation permanent (the action executed)."""
        ...

    def release(self, entry_id: str) -> None:
        """Give a reservation back (the action failed or was not executed)."""
        ...


class SqliteBudgetLedger:
    """The embedded ledger: one SQLite file, safe across threads and processes."""

    def __init__(self, path: Path, *, reservation_ttl_s: float = 300.0) -> None:
        self._path = path
        self._ttl = reservation_ttl_s
        with connect(self._path) as conn:
            conn.executescript(_SCHEMA)

    def spent(self, scope: str) -> float:
        with connect(self._path) as conn:
            row = conn.execute(
                f"SELECT COALESCE(SUM(amount), 0) FROM budget_entries WHERE {_LIVE}",
                (scope, time.time()),
            ).fetchone()
        return float(row[0])

    def reserve(self, scope: str, entry_id: str, amount: float, cap: float) -> bool:
        now = time.time()
        with connect(self._path) as conn, immediate(conn):
            existing = conn.execute(
                "SELECT status FROM budget_entries WHERE entry_id = ?", (entry_id,)
            ).fetchone()
            if existing is not None:
                return bool(existing[0] != "released")
            used = conn.execute(
                f"SELECT COALESCE(SUM(amount), 0) FROM budget_entries WHERE {_LIVE}", (scope, now)
            ).fetchone()[0]
            if float(used) + amount > cap + 1e-9:
                return False
            conn.execute(
                "INSERT INTO budget_entries VALUES (?, ?, ?, 'reserved', ?, ?)",
                (entry_id, scope, amount, now + self._ttl, now),
            )
            return True

    def commit(self, entry_id: str) -> None:
        self._set_status(entry_id, "committed")

    def release(self, entry_id: str) -> None:
        self._set_status(entry_id, "released")

    def _set_status(self, entry_id: str, status: str) -> None:
        with connect(self._path) as conn:
            conn.execute(
                "UPDATE budget_entries SET status = ? WHERE entry_id = ? AND status = 'reserved'",
                (status, entry_id),
            )
