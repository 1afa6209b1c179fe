"""Rate-limit events in PostgreSQL, on the ledger's connection pool (every replica shares it).

``acquire`` is one READ COMMITTED transaction: it upserts each claimed scope's row in
``rate_scopes`` (``ON CONFLICT DO UPDATE`` locks it, in scope order, as the ledger does
for budget scopes), then counts the window and inserts the event while holding the
lock, so two replicas cannot both take the last slot. Import only when a database URL
is configured: psycopg is the optional ``postgres`` extra.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from psycopg import Connection
from psycopg_pool import ConnectionPool

from guardrails.ledger.postgres import create_schema
from guardrails.rate_limit import LOOKBACK_SECONDS, MAX_EVENTS, Clock, counts
from guardrails.verdict import RateClaim

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS rate_scopes (scope TEXT PRIMARY KEY)",
    """CREATE TABLE IF NOT EXISTS rate_events (
        scope       TEXT NOT NULL,
        entry_id    TEXT NOT NULL,
        action_type TEXT NOT NULL,
        at          DOUBLE PRECISION NOT NULL,
        PRIMARY KEY (scope, entry_id)
    )""",
    "CREATE INDEX IF NOT EXISTS rate_events_recent ON rate_events (scope, at)",
)

_LOCK_SCOPES = """
INSERT INTO rate_scopes (scope) SELECT unnest(%(scopes)s::text[])
ON CONFLICT (scope) DO UPDATE SET scope = EXCLUDED.scope
"""


class PostgresRateLimiter:
    """Events in the shared database; the limit holds across replicas."""

    def __init__(self, pool: ConnectionPool[Connection[Any]], *, clock: Clock = time.time) -> None:
        self.clock = clock
        self._pool = pool
        create_schema(pool, _SCHEMA)

    def recent(self, scope: str, lookback_s: float = LOOKBACK_SECONDS) -> list[tuple[float, str]]:
        with self._pool.connection() as conn:
            rows = conn.execute(
                "SELECT at, action_type FROM rate_events WHERE scope = %s AND at > %s"
                " ORDER BY at DESC LIMIT %s",
                (scope, self.clock() - lookback_s, MAX_EVENTS),
            ).fetchall()
        return [(float(at), str(kind)) for at, kind in rows]

    def acquire(self, claims: Sequence[RateClaim], entry_id: str, action_type: str) -> bool:
        if not claims:
            return True
        now = self.clock()
        scopes = sorted({c.scope for c in claims})
        with self._pool.connection() as conn, conn.transaction():
            conn.execute(_LOCK_SCOPES, {"scopes": scopes})
            held = conn.execute(
                "SELECT 1 FROM rate_events WHERE entry_id = %s AND scope = ANY(%s) LIMIT 1",
                (entry_id, scopes),
            ).fetchone()
            if held is not None:
                return True
            for claim in claims:
                rows = conn.execute(
                    "SELECT action_type FROM rate_events WHERE scope = %s AND at > %s",
                    (claim.scope, now - claim.window_seconds),
                ).fetchall()
                if sum(1 for (kind,) in rows if counts(claim, kind)) >= claim.max_actions:
                    return False
            conn.execute(
                """INSERT INTO rate_events
                   SELECT s, %(entry)s, %(kind)s, %(now)s FROM unnest(%(scopes)s::text[]) AS s""",
                {"entry": entry_id, "kind": action_type, "now": now, "scopes": scopes},
            )
            conn.execute(
                "DELETE FROM rate_events WHERE scope = ANY(%s) AND at < %s",
                (scopes, now - LOOKBACK_SECONDS),
            )
            return True

    def release(self, entry_id: str) -> None:
        with self._pool.connection() as conn:
            conn.execute("DELETE FROM rate_events WHERE entry_id = %s", (entry_id,))
