"""Sessions: the trusted binding of a conversation to one customer and channel."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from pydantic import BaseModel

from agent.record import Principal
from agent.tables import Tables
from arbiter.errors import InputError, NotFoundError

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS sessions (
    session_id  TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL,
    channel     TEXT NOT NULL,
    created_at  TEXT NOT NULL
)""",
)


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
        rows = self._db.run(
            "SELECT session_id, customer_id, channel, created_at FROM sessions"
            " WHERE session_id = ?",
            (session_id,),
        ).rows
        if not rows:
            raise NotFoundError(f"unknown session {session_id}")
        row = rows[0]
        return Session(
            session_id=row[0],
            principal=Principal(customer_id=row[1], channel=row[2]),
            created_at=datetime.fromisoformat(row[3]),
        )

    def ping(self) -> None:
        """Raise if the store cannot be read."""
        self._db.run("SELECT 1 FROM sessions LIMIT 1")
