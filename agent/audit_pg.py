"""The audit chain in PostgreSQL, shared by every replica (``ARBITER_DATABASE_URL``).

The same chain, schema and checks as the SQLite store (:mod:`agent.audit_base`).
Appends and prunes from any replica serialise on a one-row ``audit_head`` locked
``FOR UPDATE`` in their transaction; the head also issues ``seq`` (head + 1) and keeps
the highest seq ever issued, so a record removed from the end of the chain is still
noticed, and a failed append leaves no gap that could read as tampering.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from agent.audit_base import ChainStore, Conn

_SCHEMA_LOCK = 7_423_311_003
"""Advisory lock id serialising ``CREATE ... IF NOT EXISTS`` across processes."""

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS decision_records (
        seq         BIGINT PRIMARY KEY,
        turn_id     TEXT NOT NULL UNIQUE,
        session_id  TEXT NOT NULL,
        customer_id TEXT NOT NULL,
        created_at  TEXT NOT NULL,
        prev_hash   TEXT NOT NULL,
        record_hash TEXT NOT NULL,
        record      TEXT NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS decision_records_session ON decision_records (session_id, seq)",
    """CREATE TABLE IF NOT EXISTS audit_anchors (
        id           BIGSERIAL PRIMARY KEY,
        seq          BIGINT NOT NULL,
        record_hash  TEXT NOT NULL,
        pruned_at    TEXT NOT NULL,
        pruned_count INTEGER NOT NULL,
        before       TEXT NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS audit_head (
        id  INTEGER PRIMARY KEY CHECK (id = 1),
        seq BIGINT NOT NULL
    )""",
    "INSERT INTO audit_head (id, seq) VALUES (1, 0) ON CONFLICT (id) DO NOTHING",
)


class PostgresAuditStore(ChainStore):
    """The audit store in PostgreSQL, over an autocommit psycopg pool."""

    def __init__(self, pool: Any, *, owns_pool: bool = False) -> None:
        self._pool = pool
        self._owns_pool = owns_pool
        with pool.connection() as conn, conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (_SCHEMA_LOCK,))
            for statement in _SCHEMA:
                conn.execute(statement)

    @classmethod
    def connect(cls, database_url: str) -> PostgresAuditStore:
        """A store with a pool of its own (the CLI), closed with the store."""
        from guardrails.ledger.postgres import open_pool

        pool = open_pool(database_url, max_size=2)
        try:
            return cls(pool, owns_pool=True)
        except BaseException:
            pool.close()
            raise

    def close(self) -> None:
        """Close the pool if this store opened it (the runtime's belongs to the guard stores)."""
        if self._owns_pool:
            self._pool.close()

    def _q(self, sql: str) -> str:
        return sql.replace("?", "%s")

    @contextmanager
    def _read(self) -> Iterator[Conn]:
        with self._pool.connection() as conn:
            yield conn

    @contextmanager
    def _write(self) -> Iterator[Conn]:
        with self._pool.connection() as conn, conn.transaction():
            conn.execute("SELECT seq FROM audit_head WHERE id = 1 FOR UPDATE")
            yield conn

    @contextmanager
    def _snapshot(self) -> Iterator[Conn]:
        with self._pool.connection() as conn, conn.transaction():
            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            yield conn

    def _issue_seq(self, conn: Conn) -> int:
        row = conn.execute("UPDATE audit_head SET seq = seq + 1 WHERE id = 1 RETURNING seq")
        return int(row.fetchone()[0])

    def _highest_seq(self, conn: Conn) -> int:
        return int(conn.execute("SELECT seq FROM audit_head WHERE id = 1").fetchone()[0])
