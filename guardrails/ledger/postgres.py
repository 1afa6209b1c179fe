"""The ledger and the kill switch in PostgreSQL, for several replicas sharing one database.

A reservation is one READ COMMITTED transaction. It first upserts the row of every
scope it claims in ``budget_scopes`` (``ON CONFLICT DO UPDATE`` locks the row whether
it was new or not), in scope order so two reservations can never wait on each other
in a cycle. Holding those row locks, it reads each scope's committed total and live
reservations and inserts its lines only if every cap still holds. Competing turns
queue on the scope row instead of failing and retrying as they would under
SERIALIZABLE. Commit and release take the same row locks, in the same order, before
they move money.

Import this module only when a database URL is configured: psycopg is the optional
``postgres`` extra.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import psycopg
from psycopg import Connection
from psycopg_pool import ConnectionPool

from guardrails.kill_switch import (
    KillSwitchUnavailable,
    Switch,
    checked_scope,
    covering_scopes,
    most_general,
    sort_switches,
    switch_from_row,
)
from guardrails.ledger.base import CAP_EPSILON, Claim, ClaimLike, checked_claims

_SCHEMA_LOCK = 7_423_311_001
"""Advisory lock id serialising ``CREATE ... IF NOT EXISTS`` across processes."""

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS budget_scopes (
        scope     TEXT PRIMARY KEY,
        committed DOUBLE PRECISION NOT NULL DEFAULT 0
    )""",
    """CREATE TABLE IF NOT EXISTS budget_lines (
        entry_id   TEXT NOT NULL,
        scope      TEXT NOT NULL,
        amount     DOUBLE PRECISION NOT NULL,
        status     TEXT NOT NULL CHECK (status IN ('reserved', 'committed', 'released')),
        expires_at DOUBLE PRECISION NOT NULL,
        created_at DOUBLE PRECISION NOT NULL,
        PRIMARY KEY (entry_id, scope)
    )""",
    """CREATE INDEX IF NOT EXISTS budget_lines_live ON budget_lines (scope, expires_at)
       WHERE status = 'reserved'""",
)

_LOCK_SCOPES = """
INSERT INTO budget_scopes (scope) SELECT unnest(%(scopes)s::text[])
ON CONFLICT (scope) DO UPDATE SET scope = EXCLUDED.scope
RETURNING scope, committed
"""

_STATE = """
SELECT (SELECT status FROM budget_lines WHERE entry_id = %(entry)s LIMIT 1),
       COALESCE(jsonb_object_agg(scope, total), '{}')
FROM (SELECT scope, SUM(amount) AS total FROM budget_lines
      WHERE scope = ANY(%(scopes)s) AND status = 'reserved' AND expires_at > %(now)s
      GROUP BY scope) AS live
"""

_LOCK_ENTRY_SCOPES = """
SELECT scope FROM budget_scopes
WHERE scope IN (SELECT scope FROM budget_lines WHERE entry_id = %(entry)s AND status = 'reserved')
ORDER BY scope FOR UPDATE
"""


def open_pool(
    url: str, *, max_size: int = 8, timeout_s: float = 10.0
) -> ConnectionPool[Connection[Any]]:
    """A small autocommit connection pool (transactions are explicit), connected or raising."""
    pool: ConnectionPool[Connection[Any]] = ConnectionPool(
        url,
        min_size=1,
        max_size=max_size,
        kwargs={"autocommit": True},
        timeout=timeout_s,
        open=True,
        name="arbiter-guardrails",
    )
    try:
        pool.wait(timeout=timeout_s)
    except BaseException:
        pool.close()
        raise
    return pool


def create_schema(pool: ConnectionPool[Connection[Any]], statements: tuple[str, ...]) -> None:
    """Run ``CREATE ... IF NOT EXISTS`` statements once even when replicas start together."""
    with pool.connection() as conn, conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (_SCHEMA_LOCK,))
        for statement in statements:
            conn.execute(statement)


class PostgresBudgetLedger:
    """The shared ledger: caps hold across threads, processes and replicas."""

    def __init__(
        self, pool: ConnectionPool[Connection[Any]], *, reservation_ttl_s: float = 300.0
    ) -> None:
        self._pool = pool
        self._ttl = reservation_ttl_s
        create_schema(pool, _SCHEMA)

    @property
    def pool(self) -> ConnectionPool[Connection[Any]]:
        """The shared pool (the rate limiter uses the same database)."""
        return self._pool

    def spent(self, scope: str) -> float:
        with self._pool.connection() as conn:
            row = conn.execute(
                """SELECT COALESCE((SELECT committed FROM budget_scopes WHERE scope = %(s)s), 0)
                        + COALESCE((SELECT SUM(amount) FROM budget_lines WHERE scope = %(s)s
                                    AND status = 'reserved' AND expires_at > %(now)s), 0)""",
                {"s": scope, "now": time.time()},
            ).fetchone()
        assert row is not None
        return float(row[0])

    def reserve(self, scope: str, entry_id: str, amount: float, cap: float) -> bool:
        return self.reserve_many([Claim(scope, amount, cap)], entry_id)

    def reserve_many(self, claims: Sequence[ClaimLike], entry_id: str) -> bool:
        ordered = checked_claims(claims)
        scopes = [c.scope for c in ordered]
        now = time.time()
        with self._pool.connection() as conn, conn.transaction():
            committed = dict(conn.execute(_LOCK_SCOPES, {"scopes": scopes}).fetchall())
            state = conn.execute(
                _STATE, {"entry": entry_id, "scopes": scopes, "now": now}
            ).fetchone()
            assert state is not None
            existing, reserved = state
            if existing is not None:
                return bool(existing != "released")
            for claim in ordered:
                used = float(committed[claim.scope]) + float(reserved.get(claim.scope, 0.0))
                if used + claim.amount > claim.cap + CAP_EPSILON:
                    return False
            conn.execute(
                """INSERT INTO budget_lines
                   SELECT %(entry)s, scope, amount, 'reserved', %(expires)s, %(now)s
                   FROM unnest(%(scopes)s::text[], %(amounts)s::float8[]) AS c (scope, amount)""",
                {
                    "entry": entry_id,
                    "scopes": scopes,
                    "amounts": [c.amount for c in ordered],
                    "expires": now + self._ttl,
                    "now": now,
                },
            )
            return True

    def commit(self, entry_id: str) -> None:
        with self._pool.connection() as conn, conn.transaction():
            conn.execute(_LOCK_ENTRY_SCOPES, {"entry": entry_id})
            conn.execute(
                """WITH moved AS (
                       UPDATE budget_lines SET status = 'committed'
                       WHERE entry_id = %(entry)s AND status = 'reserved'
                       RETURNING scope, amount)
                   UPDATE budget_scopes AS s SET committed = s.committed + moved.amount
                   FROM moved WHERE s.scope = moved.scope""",
                {"entry": entry_id},
            )

    def release(self, entry_id: str) -> None:
        with self._pool.connection() as conn, conn.transaction():
            conn.execute(_LOCK_ENTRY_SCOPES, {"entry": entry_id})
            conn.execute(
                "UPDATE budget_lines SET status = 'released'"
                " WHERE entry_id = %(entry)s AND status = 'reserved'",
                {"entry": entry_id},
            )

    def close(self) -> None:
        """The pool is shared and closed by whoever opened it (``GuardStores``)."""


_KILL_SWITCH_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS kill_switches (
        scope  TEXT PRIMARY KEY,
        reason TEXT NOT NULL,
        set_by TEXT NOT NULL,
        set_at DOUBLE PRECISION NOT NULL
    )""",
)


class PostgresKillSwitch:
    """Switches in the shared database: every replica sees a change on its next verdict."""

    def __init__(self, pool: ConnectionPool[Connection[Any]]) -> None:
        self._pool = pool
        create_schema(pool, _KILL_SWITCH_SCHEMA)

    def set(self, scope: str, reason: str, by: str) -> Switch:
        switch = Switch(checked_scope(scope), reason, by, datetime.now(UTC))
        with self._pool.connection() as conn:
            conn.execute(
                """INSERT INTO kill_switches VALUES (%s, %s, %s, %s) ON CONFLICT (scope)
                   DO UPDATE SET reason = EXCLUDED.reason, set_by = EXCLUDED.set_by,
                                 set_at = EXCLUDED.set_at""",
                (switch.scope, reason, by, switch.set_at.timestamp()),
            )
        return switch

    def clear(self, scope: str) -> bool:
        with self._pool.connection() as conn:
            cur = conn.execute("DELETE FROM kill_switches WHERE scope = %s", (scope,))
            return cur.rowcount > 0

    def active(self) -> list[Switch]:
        rows = self._read("SELECT scope, reason, set_by, set_at FROM kill_switches", None)
        return sort_switches([switch_from_row(r) for r in rows])

    def blocks(self, action_type: str, channel: str) -> Switch | None:
        order = covering_scopes(action_type, channel)
        rows = self._read(
            "SELECT scope, reason, set_by, set_at FROM kill_switches WHERE scope = ANY(%s)",
            (order,),
        )
        return most_general([switch_from_row(r) for r in rows], order) if rows else None

    def close(self) -> None:
        """The pool is shared and closed by whoever opened it (``GuardStores``)."""

    def _read(self, sql: str, args: tuple[Any, ...] | None) -> list[tuple[Any, ...]]:
        try:
            with self._pool.connection() as conn:
                return conn.execute(sql, args).fetchall()
        except psycopg.Error as exc:
            raise KillSwitchUnavailable(f"kill switches unreadable: {exc}") from exc
