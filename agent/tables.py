"""Where the runtime's small tables live: a SQLite file, or the shared PostgreSQL database.

Sessions and the approvals index are a few indexed rows per conversation; with
``ARBITER_DATABASE_URL`` they move to PostgreSQL beside the ledger, kill switch and
checkpoints, so every replica sees the same sessions and the same approvals queue.
Statements are written once with ``?`` placeholders and ``ON CONFLICT`` (both dialects).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from arbiter.sqlite import connect

_SCHEMA_LOCK = 7_423_311_002
"""Advisory lock id serialising ``CREATE ... IF NOT EXISTS`` across processes."""


@dataclass(frozen=True)
class Result:
    """Rows a statement returned, and how many it changed."""

    rows: list[tuple[Any, ...]]
    rowcount: int


class Tables(Protocol):
    """Runs one statement in its own transaction."""

    def run(self, sql: str, args: Sequence[Any] = ()) -> Result:
        """Execute and fetch."""
        ...

    def create(self, statements: Sequence[str]) -> None:
        """Create tables and indexes if missing."""
        ...


class SqliteTables:
    """Tables in one SQLite file."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def run(self, sql: str, args: Sequence[Any] = ()) -> Result:
        """Execute on a fresh connection (autocommit)."""
        with connect(self.path) as conn:
            cursor = conn.execute(sql, tuple(args))
            return Result(cursor.fetchall(), cursor.rowcount)

    def create(self, statements: Sequence[str]) -> None:
        """Create what is missing."""
        with connect(self.path) as conn:
            for statement in statements:
                conn.execute(statement)


class PostgresTables:
    """Tables in PostgreSQL, through a shared connection pool (psycopg)."""

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
