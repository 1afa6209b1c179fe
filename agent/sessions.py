"""Sessions: the trusted binding of a conversation to one customer and channel."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime

from pydantic import BaseModel

from agent.record import Principal
from arbiter.errors import InputError, NotFoundError
from arbiter.tables import Tables

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS sessions (
    session_id  TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL,
    channel     TEXT NOT NULL,
    created_at  TEXT NOT NULL
)""",
    """CREATE TABLE IF NOT EXISTS session_leases (
    session_id  TEXT PRIMARY KEY,
    holder      TEXT NOT NULL,
    until       DOUBLE PRECISION NOT NULL
)""",
)


_KNOWN_MAX = 50_000


class Session(BaseModel):
    """A conversation bound to a principal."""

    session_id: str
    principal: Principal
    created_at: datetime


class SessionStore:
    """The sessions table (SQLite file, or PostgreSQL shared by replicas)."""

    def __init__(self, tables: Tables) -> None:
        self._db = tables
        tables.create(_SCHEMA)
        # A session never changes once created: read each from the table once.
        self._known: dict[str, Session] = {}

    def create(self, principal: Principal, session_id: str | None = None) -> Session:
        """Create (or return the identical existing) session."""
        session = Session(
            session_id=session_id or f"ses_{uuid.uuid4().hex[:16]}",
            principal=principal,
            created_at=datetime.now(UTC),
        )
        self._db.run(
            "INSERT INTO sessions VALUES (?, ?, ?, ?) ON CONFLICT (session_id) DO NOTHING",
            (
                session.session_id,
                principal.customer_id,
                principal.channel,
                session.created_at.isoformat(),
            ),
        )
        stored = self.get(session.session_id)
        if stored.principal != principal:
            raise InputError(f"session {session.session_id} belongs to another principal")
        return stored

    def get(self, session_id: str) -> Session:
        """A session by id; unknown ids are an input error."""
        known = self._known.get(session_id)
        if known is not None:
            return known
        rows = self._db.run(
            "SELECT session_id, customer_id, channel, created_at FROM sessions"
            " WHERE session_id = ?",
            (session_id,),
        ).rows
        if not rows:
            raise NotFoundError(f"unknown session {session_id}")
        row = rows[0]
        session = Session(
            session_id=row[0],
            principal=Principal(customer_id=row[1], channel=row[2]),
            created_at=datetime.fromisoformat(row[3]),
        )
        if len(self._known) >= _KNOWN_MAX:
            self._known.clear()
        self._known[session_id] = session
        return session

    def ping(self) -> None:
        """Raise if the store cannot be read."""
        self._db.run("SELECT 1 FROM sessions LIMIT 1")

    def lease(self, session_id: str, holder: str, seconds: float) -> bool:
        """Take the session's turn lease unless another live holder has it.

        One turn at a time per session across processes and replicas; a lease left
        by a crashed process lapses after ``seconds``.
        """
        now = time.time()
        taken = self._db.run(
            "INSERT INTO session_leases (session_id, holder, until) VALUES (?, ?, ?)"
            " ON CONFLICT (session_id) DO UPDATE SET holder = excluded.holder,"
            " until = excluded.until WHERE session_leases.until < ?",
            (session_id, holder, now + seconds, now),
        )
        return taken.rowcount == 1

    def release(self, session_id: str, holder: str) -> None:
        """Give the lease back (only the holder's own)."""
        self._db.run(
            "DELETE FROM session_leases WHERE session_id = ? AND holder = ?", (session_id, holder)
        )
