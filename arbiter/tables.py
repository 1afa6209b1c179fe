"""Where the runtime's small tables live: a SQLite file, or the shared PostgreSQL database.

Sessions and the approvals index are a few indexed rows per conversation; with
``ARBITER_DATABASE_URL`` they move to PostgreSQL beside the ledger, kill switch and
checkpoints, so every replica sees the same sessions and the same approvals queue.
Statements are written once with ``?`` placeholders and ``ON CONFLICT`` (both dialects).
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

_SCHEMA_LOCK = 7_423_311_002
"""Advisory lock id serialising ``CREATE ... IF NOT EXISTS`` across processes."""


@dataclass(frozen=True)
class Result:
    """Rows a statement returned, and how many it changed."""

    rows: list[tuple[Any, ...]]
    rowcount: int


class Tables(Protocol):
    """Runs one statement in its own transaction."""

    kind: str
    """``sqlite`` or ``postgres`` (for the few column types that differ)."""

    def run(self, sql: str, args: Sequence[Any] = ()) -> Result:
        """Execute and fetch."""
        ...

    def create(self, statements: Sequence[str]) -> None:
        """Create tables and indexes if missing."""
        ...

    def close(self) -> None:
        """Release what this object holds (not a shared pool)."""
        ...


class SqliteTables:
    """Tables in one SQLite file, through one long-lived connection (autocommit, WAL).

    Opening a connection per statement cost more than the statement; other processes
    share the file safely (WAL, busy timeout).
    """

    kind = "sqlite"

    def __init__(self, path: Path) -> None:
        self.path = path
        self._conn = sqlite3.connect(
            path, timeout=10.0, isolation_level=None, check_same_thread=False
        )
        self._conn.execute("PRAGMA journal_mode=WAL")
        # Every commit survives a process crash; only a power loss can drop the last ones.
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._lock = threading.Lock()

    def run(self, sql: str, args: Sequence[Any] = ()) -> Result:
        """Execute one statement (its own transaction)."""
        with self._lock:
            cursor = self._conn.execute(sql, tuple(args))
            return Result(cursor.fetchall(), cursor.rowcount)

    def create(self, statements: Sequence[str]) -> None:
        """Create what is missing."""
        with self._lock:
            for statement in statements:
                self._conn.execute(statement)

    def close(self) -> None:
        """Close the connection."""
        with self._lock:
            self._conn.close()


class PostgresTables:
    """Tables in PostgreSQL, through a shared connection pool (psycopg)."""

    kind = "postgres"

    def __init__(self, pool: Any) -> None:
        self._pool = pool

    def run(self, sql: str, args: Sequence[Any] = ()) -> Result:
        """Execute on a pooled connection (autocommit)."""
        with self._pool.connection() as conn:
            cursor = conn.execute(sql.replace("?", "%s"), tuple(args))
            rows = cursor.fetchall() if cursor.description else []
            return Result([tuple(r) for r in rows], cursor.rowcount)

    def create(self, statements: Sequence[str]) -> None:
        """Create what is missing, one process at a time."""
        with self._pool.connection() as conn, conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (_SCHEMA_LOCK,))
            for statement in statements:
                conn.execute(statement)

    def close(self) -> None:
        """Nothing: the pool belongs to the guard stores, which close it."""
