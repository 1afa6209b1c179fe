"""The embedded ledger: one SQLite file, safe across threads and processes.

Every reservation is one ``BEGIN IMMEDIATE`` transaction: SQLite admits one writer
at a time, so reading a scope's total and inserting the new lines cannot interleave
with another turn, thread or process sharing the file. Each thread keeps one open
connection (opening one costs more than the reservation itself).
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Sequence
from pathlib import Path

from arbiter.sqlite import immediate
from guardrails.ledger.base import CAP_EPSILON, Claim, ClaimLike, checked_claims

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS budget_scopes (
        scope     TEXT PRIMARY KEY,
        committed REAL NOT NULL DEFAULT 0
    )""",
    """CREATE TABLE IF NOT EXISTS budget_lines (
        entry_id   TEXT NOT NULL,
        scope      TEXT NOT NULL,
        amount     REAL NOT NULL,
        status     TEXT NOT NULL CHECK (status IN ('reserved', 'committed', 'released')),
        expires_at REAL NOT NULL,
        created_at REAL NOT NULL,
        PRIMARY KEY (entry_id, scope)
    )""",
    "CREATE INDEX IF NOT EXISTS budget_lines_live ON budget_lines (scope, status, expires_at)",
)

# Files written before multi-scope reservations kept one line per entry.
_MIGRATE_V1 = (
    """INSERT OR IGNORE INTO budget_lines
       SELECT entry_id, scope, amount, status, expires_at, created_at FROM budget_entries""",
    """INSERT INTO budget_scopes (scope, committed)
       SELECT scope, SUM(amount) FROM budget_entries WHERE status = 'committed' GROUP BY scope
       ON CONFLICT (scope) DO UPDATE SET committed = committed + excluded.committed""",
    "DROP TABLE budget_entries",
)

_USED = """
SELECT COALESCE((SELECT committed FROM budget_scopes WHERE scope = :scope), 0)
     + COALESCE((SELECT SUM(amount) FROM budget_lines
                 WHERE scope = :scope AND status = 'reserved' AND expires_at > :now), 0)
"""


class SqliteConnections:
    """One autocommit WAL connection per thread (and per process, after a fork)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._local = threading.local()
        self._opened: list[sqlite3.Connection] = []
        self._lock = threading.Lock()

    def get(self) -> sqlite3.Connection:
        """This thread's connection, opened on first use."""
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None or self._local.pid != os.getpid():
            conn = sqlite3.connect(
                self.path, timeout=10.0, isolation_level=None, check_same_thread=False
            )
            conn.execute("PRAGMA journal_mode=WAL")
            self._local.conn, self._local.pid = conn, os.getpid()
            with self._lock:
                self._opened.append(conn)
        return conn

    def close(self) -> None:
        """Close every connection this object opened."""
        with self._lock:
            opened, self._opened = self._opened, []
        for conn in opened:
            conn.close()
        self._local = threading.local()


class SqliteBudgetLedger:
    """The embedded ledger: one SQLite file, safe across threads and processes."""

    def __init__(self, path: Path, *, reservation_ttl_s: float = 300.0) -> None:
        self._ttl = reservation_ttl_s
        self._db = SqliteConnections(path)
        conn = self._db.get()
        with immediate(conn):
            for statement in _SCHEMA:
                conn.execute(statement)
            legacy = conn.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'budget_entries'"
            ).fetchone()
            if legacy is not None:
                for statement in _MIGRATE_V1:
                    conn.execute(statement)

    @property
    def connections(self) -> SqliteConnections:
        """This ledger's per-thread connections (the rate limiter shares the file)."""
        return self._db

    def spent(self, scope: str) -> float:
        row = self._db.get().execute(_USED, {"scope": scope, "now": time.time()}).fetchone()
        return float(row[0])

    def reserve(self, scope: str, entry_id: str, amount: float, cap: float) -> bool:
        return self.reserve_many([Claim(scope, amount, cap)], entry_id)

    def reserve_many(self, claims: Sequence[ClaimLike], entry_id: str) -> bool:
        ordered = checked_claims(claims)
        now = time.time()
        conn = self._db.get()
        with immediate(conn):
            existing = conn.execute(
                "SELECT status FROM budget_lines WHERE entry_id = ? LIMIT 1", (entry_id,)
            ).fetchone()
            if existing is not None:
                return bool(existing[0] != "released")
            for claim in ordered:
                used = conn.execute(_USED, {"scope": claim.scope, "now": now}).fetchone()[0]
                if float(used) + claim.amount > claim.cap + CAP_EPSILON:
                    return False
            conn.executemany(
                "INSERT INTO budget_lines VALUES (?, ?, ?, 'reserved', ?, ?)",
                [(entry_id, c.scope, c.amount, now + self._ttl, now) for c in ordered],
            )
            return True

    def commit(self, entry_id: str) -> None:
        conn = self._db.get()
        with immediate(conn):
            moved = conn.execute(
                "UPDATE budget_lines SET status = 'committed'"
                " WHERE entry_id = ? AND status = 'reserved' RETURNING scope, amount",
                (entry_id,),
            ).fetchall()
            conn.executemany(
                "INSERT INTO budget_scopes (scope, committed) VALUES (?, ?)"
                " ON CONFLICT (scope) DO UPDATE SET committed = committed + excluded.committed",
                moved,
            )

    def release(self, entry_id: str) -> None:
        self._db.get().execute(
            "UPDATE budget_lines SET status = 'released'"
            " WHERE entry_id = ? AND status = 'reserved'",
            (entry_id,),
        )

    def close(self) -> None:
        self._db.close()
