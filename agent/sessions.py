"""Sessions: the trusted binding of a conversation to one customer and channel."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path

from pydantic import BaseModel

from agent.record import Principal
from arbiter.errors import InputError, NotFoundError
from arbiter.sqlite import connect

_SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (
    session_id  TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL,
    channel     TEXT NOT NULL,
    created_at  TEXT NOT NULL
);
"""


class Session(BaseModel):
    """A conversation bound to a principal."""

    session_id: str
    principal: Principal
    created_at: datetime


class SessionStore:
    """SQLite table of sessions."""

    def __init__(self, path: Path) -> None:
        self._path = path
        with connect(self._path) as conn:
            conn.executescript(_SCHEMA)

    def create(self, principal: Principal, session_id: str | None = None) -> Session:
        """Create (or return the identical existing) session."""
        session = Session(
            session_id=session_id or f"ses_{uuid.uuid4().hex[:16]}",
            principal=principal,
            created_at=datetime.now(UTC),
        )
        with connect(self._path) as conn:
            conn.execute(
                "INSERT OR IGNORE INTO sessions VALUES (?, ?, ?, ?)",
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
        with connect(self._path) as conn:
            row = conn.execute(
                "SELECT session_id, customer_id, channel, created_at FROM sessions"
                " WHERE session_id = ?",
                (session_id,),
            ).fetchone()
        if row is None:
            raise NotFoundError(f"unknown session {session_id}")
        return Session(
            session_id=row[0],
            principal=Principal(customer_id=row[1], channel=row[2]),
            created_at=datetime.fromisoformat(row[3]),
        )

    def ping(self) -> None:
        """Raise if the store cannot be read."""
        with connect(self._path) as conn:
            conn.execute("SELECT 1 FROM sessions LIMIT 1").fetchall()
