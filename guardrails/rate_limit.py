"""Rate limits: how many actions one session executed recently, where every replica sees it.

Events live in the ledger's own database (the SQLite file or the PostgreSQL pool), one
row per executed action: its session scope, its entry id (the execution's idempotency
key), its action type and when it was taken. Validation reads a session's recent
events as a fact (``recent``), so the ``rate_limit`` rule stays a pure function and can
say when the next action will be allowed. Execution enforces the limit with
``acquire``: counting the window and inserting the new event happen in one
transaction under a write lock on the scope, so two replicas cannot both take the last
slot. ``acquire`` is idempotent per entry id; ``release`` gives a slot back when the
action did not run.

The clock is an attribute (``clock``) so tests move time instead of sleeping.
"""

from __future__ import annotations

import time
import weakref
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol

from arbiter.sqlite import immediate
from guardrails.ledger.sqlite import SqliteBudgetLedger, SqliteConnections
from guardrails.verdict import RateClaim

LOOKBACK_SECONDS = 3600.0
"""How far back validation reads a session's events (the longest window a rule may use)."""

MAX_EVENTS = 10_000
"""Most events read for one session (a window longer than that is full anyway)."""

Clock = Callable[[], float]


def rate_scope(session_id: str) -> str:
    """Rate-limit scope of one session."""
    return f"session:{session_id}"


def counts(claim: RateClaim, action_type: str) -> bool:
    """True when an action of this type counts toward the claim's limit."""
    return "*" in claim.counted_types or action_type in claim.counted_types


class RateLimiter(Protocol):
    """Per-session action events with an atomic count-and-insert."""

    clock: Clock

    def recent(self, scope: str, lookback_s: float = LOOKBACK_SECONDS) -> list[tuple[float, str]]:
        """(time, action type) of the scope's events within the lookback, newest first."""
        ...

    def acquire(self, claims: Sequence[RateClaim], entry_id: str, action_type: str) -> bool:
        """Record the action if every claim's window still has room; idempotent per entry."""
        ...

    def release(self, entry_id: str) -> None:
        """Forget an entry's event (the action did not run)."""
        ...


_SQLITE_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS rate_events (
        scope       TEXT NOT NULL,
        entry_id    TEXT NOT NULL,
        action_type TEXT NOT NULL,
        at          REAL NOT NULL,
        PRIMARY KEY (scope, entry_id)
    )""",
    "CREATE INDEX IF NOT EXISTS rate_events_recent ON rate_events (scope, at)",
)


class SqliteRateLimiter:
    """Events in the ledger's SQLite file; ``BEGIN IMMEDIATE`` makes acquire atomic."""

    def __init__(self, db: SqliteConnections | Path, *, clock: Clock = time.time) -> None:
        self.clock = clock
        self._owned = not isinstance(db, SqliteConnections)
        self._db = db if isinstance(db, SqliteConnections) else SqliteConnections(db)
        conn = self._db.get()
        with immediate(conn):
            for statement in _SQLITE_SCHEMA:
                conn.execute(statement)

    def recent(self, scope: str, lookback_s: float = LOOKBACK_SECONDS) -> list[tuple[float, str]]:
        rows = (
            self._db.get()
            .execute(
                "SELECT at, action_type FROM rate_events WHERE scope = ? AND at > ?"
                " ORDER BY at DESC LIMIT ?",
                (scope, self.clock() - lookback_s, MAX_EVENTS),
            )
            .fetchall()
        )
        return [(float(at), str(kind)) for at, kind in rows]

    def acquire(self, claims: Sequence[RateClaim], entry_id: str, action_type: str) -> bool:
        if not claims:
            return True
        now = self.clock()
        conn = self._db.get()
        with immediate(conn):
            scopes = sorted({c.scope for c in claims})
            marks = ",".join("?" for _ in scopes)
            held = conn.execute(
                f"SELECT 1 FROM rate_events WHERE entry_id = ? AND scope IN ({marks}) LIMIT 1",
                (entry_id, *scopes),
            ).fetchone()
            if held is not None:
                return True
            for claim in claims:
                rows = conn.execute(
                    "SELECT action_type FROM rate_events WHERE scope = ? AND at > ?",
                    (claim.scope, now - claim.window_seconds),
                ).fetchall()
                if sum(1 for (kind,) in rows if counts(claim, kind)) >= claim.max_actions:
                    return False
            conn.executemany(
                "INSERT INTO rate_events VALUES (?, ?, ?, ?)",
                [(scope, entry_id, action_type, now) for scope in scopes],
            )
            conn.execute(
                f"DELETE FROM rate_events WHERE scope IN ({marks}) AND at < ?",
                (*scopes, now - LOOKBACK_SECONDS),
            )
            return True

    def release(self, entry_id: str) -> None:
        self._db.get().execute("DELETE FROM rate_events WHERE entry_id = ?", (entry_id,))

    def close(self) -> None:
        """Close the connections this limiter opened (a ledger's are closed by the ledger)."""
        if self._owned:
            self._db.close()


class MemoryRateLimiter:
    """One process only: for ledgers that are not backed by a database (tests, fakes)."""

    def __init__(self, *, clock: Clock = time.time) -> None:
        self.clock = clock
        self._events: dict[str, tuple[str, str, float]] = {}

    def recent(self, scope: str, lookback_s: float = LOOKBACK_SECONDS) -> list[tuple[float, str]]:
        since = self.clock() - lookback_s
        found = [(at, kind) for s, kind, at in self._events.values() if s == scope and at > since]
        return sorted(found, reverse=True)

    def acquire(self, claims: Sequence[RateClaim], entry_id: str, action_type: str) -> bool:
        if not claims or entry_id in self._events:
            return True
        now = self.clock()
        for claim in claims:
            window = self.recent(claim.scope, claim.window_seconds)
            if sum(1 for _, kind in window if counts(claim, kind)) >= claim.max_actions:
                return False
        self._events[entry_id] = (claims[0].scope, action_type, now)
        return True

    def release(self, entry_id: str) -> None:
        self._events.pop(entry_id, None)


_LIMITERS: weakref.WeakKeyDictionary[Any, RateLimiter] = weakref.WeakKeyDictionary()


def rate_limiter_for(ledger: Any) -> RateLimiter:
    """The rate limiter sharing the ledger's database (one per ledger, made on first use)."""
    limiter = _LIMITERS.get(ledger)
    if limiter is None:
        limiter = _LIMITERS[ledger] = _open_for(ledger)
    return limiter


def use_rate_limiter(ledger: Any, limiter: RateLimiter) -> None:
    """Pair a ledger with a given limiter (e.g. one with a test clock)."""
    _LIMITERS[ledger] = limiter


def _open_for(ledger: Any) -> RateLimiter:
    if isinstance(ledger, SqliteBudgetLedger):
        return SqliteRateLimiter(ledger.connections)
    pool = getattr(ledger, "pool", None)
    if pool is not None:
        from guardrails.rate_limit_postgres import PostgresRateLimiter

        return PostgresRateLimiter(pool)
    return MemoryRateLimiter()
