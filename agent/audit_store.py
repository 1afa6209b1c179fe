"""Append-only SQLite store of DecisionRecords, chained by hash.

Each record stores the hash of the record before it; its own hash covers its content
and that link, so editing or removing any stored record breaks the chain from there
on (the hashing and the check live in :mod:`agent.audit_chain`; the chain step, reads,
verify and prune in :mod:`agent.audit_base`). Appends serialize on ``BEGIN IMMEDIATE``
so concurrent writers keep one chain. With ``ARBITER_DATABASE_URL`` the chain lives in
PostgreSQL instead (:mod:`agent.audit_pg`).

There is no update or delete API. The one exception is retention: :meth:`prune`
removes the oldest records in one transaction and keeps an anchor (the last pruned
record's seq and hash), so :meth:`verify` still checks everything that is kept.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from agent.audit_base import AuditChainError, ChainStore, Conn
from agent.audit_chain import GENESIS, record_hash
from arbiter.sqlite import connect, immediate

__all__ = ["GENESIS", "AuditChainError", "AuditLog", "AuditStore", "record_hash"]

AuditLog = ChainStore
"""Either audit store (this SQLite one, or the PostgreSQL one), as the runtime sees it."""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS decision_records (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    turn_id     TEXT NOT NULL UNIQUE,
    session_id  TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    prev_hash   TEXT NOT NULL,
    record_hash TEXT NOT NULL,
    record      TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS decision_records_session ON decision_records (session_id, seq);
CREATE TABLE IF NOT EXISTS audit_anchors (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    seq          INTEGER NOT NULL,
    record_hash  TEXT NOT NULL,
    pruned_at    TEXT NOT NULL,
    pruned_count INTEGER NOT NULL,
    before       TEXT NOT NULL
);
"""


class AuditStore(ChainStore):
    """The embedded audit store."""

    def __init__(self, path: Path) -> None:
        self._path = path
        with connect(self._path) as conn:
            conn.executescript(_SCHEMA)
        # One long-lived writer: opening a connection per append cost more than the write.
        # WAL with synchronous=NORMAL survives a process crash at every commit; only a
        # power loss can drop the last commits, never corrupt or reorder the chain.
        self._writer = sqlite3.connect(
            path, timeout=10.0, isolation_level=None, check_same_thread=False
        )
        self._writer.execute("PRAGMA journal_mode=WAL")
        self._writer.execute("PRAGMA synchronous=NORMAL")
        self._write_lock = threading.Lock()

    def close(self) -> None:
        """Close the writer connection."""
        self._writer.close()

    @contextmanager
    def _read(self) -> Iterator[Conn]:
        with connect(self._path) as conn:
            yield conn

    @contextmanager
    def _write(self) -> Iterator[Conn]:
        with self._write_lock, immediate(self._writer) as conn:
            yield conn

    @contextmanager
    def _snapshot(self) -> Iterator[Conn]:
        with connect(self._path) as conn:
            conn.execute("BEGIN")
            try:
                yield conn
            finally:
                conn.execute("COMMIT")

    def _issue_seq(self, conn: Conn) -> int:
        return self._highest_seq(conn) + 1  # AUTOINCREMENT's own rule, under BEGIN IMMEDIATE

    def _highest_seq(self, conn: Conn) -> int:
        """AUTOINCREMENT never reuses a seq; sqlite_sequence keeps the largest issued."""
        row = conn.execute(
            "SELECT seq FROM sqlite_sequence WHERE name = 'decision_records'"
        ).fetchone()
        return int(row[0]) if row else 0
