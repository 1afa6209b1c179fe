"""The approvals index: which paused turns wait for whom, and what was decided.

The paused turn itself lives in the LangGraph checkpointer; this table is what the
queue, the API and recovery read. A decision is taken with one conditional UPDATE
(``status = 'pending'``), so two people approving at once cannot both win, and it is
written before the turn resumes: a crash in between leaves a decided, un-resumed row
that ``Arbiter.recover()`` resumes (execution is idempotent by key).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field

from agent.approvals import ApprovalDecision, ApprovalRequest
from arbiter.sqlite import connect

Status = Literal["pending", "approved", "rejected", "expired"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS approvals (
    approval_id  TEXT PRIMARY KEY,
    session_id   TEXT NOT NULL,
    turn_id      TEXT NOT NULL,
    customer_id  TEXT NOT NULL,
    channel      TEXT NOT NULL,
    action_type  TEXT NOT NULL,
    status       TEXT NOT NULL,
    request      TEXT NOT NULL,
    decision     TEXT,
    created_at   TEXT NOT NULL,
    expires_at   TEXT NOT NULL,
    decided_at   TEXT,
    resumed_at   TEXT,
    outcome      TEXT
);
CREATE INDEX IF NOT EXISTS approvals_status ON approvals (status, expires_at);
CREATE INDEX IF NOT EXISTS approvals_session ON approvals (session_id, status);
"""

_COLUMNS = "request, status, decision, resumed_at, outcome"


class ApprovalRow(BaseModel):
    """One approval as the queue shows it."""

    request: ApprovalRequest
    status: Status
    decision: ApprovalDecision | None = None
    resumed_at: datetime | None = Field(
        default=None, description="When the paused turn took the decision and carried on."
    )
    outcome: str | None = Field(
        default=None, description="allowed, denied, changed, rejected or expired, once resumed."
    )

    @property
    def approval_id(self) -> str:
        """The request's id."""
        return self.request.approval_id


class ApprovalStore:
    """SQLite table of approvals (one file in the data directory)."""

    def __init__(self, path: Path) -> None:
        self._path = path
        with connect(self._path) as conn:
            conn.executescript(_SCHEMA)

    def add(self, request: ApprovalRequest) -> None:
        """Queue a request (a retried pause of the same presentation is ignored)."""
        with connect(self._path) as conn:
            conn.execute(
                "INSERT OR IGNORE INTO approvals (approval_id, session_id, turn_id, customer_id,"
                " channel, action_type, status, request, created_at, expires_at)"
                " VALUES (?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?)",
                (
                    request.approval_id,
                    request.session_id,
                    request.turn_id,
                    request.customer_id,
                    request.channel,
                    request.action_type,
                    request.model_dump_json(),
                    _iso(request.presented_at),
                    _iso(request.expires_at),
                ),
            )

    def get(self, approval_id: str) -> ApprovalRow | None:
        """One approval, or None."""
        with connect(self._path) as conn:
            row = conn.execute(
                f"SELECT {_COLUMNS} FROM approvals WHERE approval_id = ?", (approval_id,)
            ).fetchone()
        return _row(row) if row else None

    def query(
        self,
        *,
        status: Status | None = None,
        session_id: str | None = None,
        customer_id: str | None = None,
        limit: int = 200,
    ) -> list[ApprovalRow]:
        """Approvals, oldest first, filtered."""
        where, args = [], []
        for column, value in (
            ("status", status),
            ("session_id", session_id),
            ("customer_id", customer_id),
        ):
            if value is not None:
                where.append(f"{column} = ?")
                args.append(value)
        sql = f"SELECT {_COLUMNS} FROM approvals"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY created_at, approval_id LIMIT ?"
        with connect(self._path) as conn:
            rows = conn.execute(sql, (*args, limit)).fetchall()
        return [_row(r) for r in rows]

    def has_pending(self, session_id: str) -> bool:
        """Whether a turn of this session waits for a person."""
        with connect(self._path) as conn:
            row = conn.execute(
                "SELECT 1 FROM approvals WHERE session_id = ? AND resumed_at IS NULL LIMIT 1",
                (session_id,),
            ).fetchone()
        return row is not None

    def decide(self, decision: ApprovalDecision) -> bool:
        """Record a decision on a pending approval; False when it was no longer pending."""
        with connect(self._path) as conn:
            cursor = conn.execute(
                "UPDATE approvals SET status = ?, decision = ?, decided_at = ?"
                " WHERE approval_id = ? AND status = 'pending'",
                (
                    decision.decision,
                    decision.model_dump_json(),
                    _iso(decision.decided_at),
                    decision.approval_id,
                ),
            )
            return bool(cursor.rowcount == 1)

    def mark_resumed(self, approval_id: str, outcome: str | None) -> None:
        """The paused turn has taken the decision."""
        with connect(self._path) as conn:
            conn.execute(
                "UPDATE approvals SET resumed_at = ?, outcome = ? WHERE approval_id = ?",
                (_iso(datetime.now(UTC)), outcome, approval_id),
            )

    def decided_not_resumed(self) -> list[ApprovalRow]:
        """Decisions a crash kept from reaching their turn."""
        with connect(self._path) as conn:
            rows = conn.execute(
                f"SELECT {_COLUMNS} FROM approvals WHERE status != 'pending'"
                " AND resumed_at IS NULL ORDER BY decided_at"
            ).fetchall()
        return [_row(r) for r in rows]

    def due(self, now: datetime) -> list[ApprovalRow]:
        """Pending approvals whose time ran out."""
        with connect(self._path) as conn:
            rows = conn.execute(
                f"SELECT {_COLUMNS} FROM approvals WHERE status = 'pending' AND expires_at <= ?"
                " ORDER BY expires_at",
                (_iso(now),),
            ).fetchall()
        return [_row(r) for r in rows]

    def counts(self) -> dict[str, int]:
        """Approvals by status."""
        with connect(self._path) as conn:
            rows = conn.execute("SELECT status, COUNT(*) FROM approvals GROUP BY status").fetchall()
        return {str(status): int(n) for status, n in rows}


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


def _row(row: tuple[Any, ...]) -> ApprovalRow:
    request, status, decision, resumed_at, outcome = row
    return ApprovalRow(
        request=ApprovalRequest.model_validate_json(request),
        status=status,
        decision=ApprovalDecision.model_validate(json.loads(decision)) if decision else None,
        resumed_at=datetime.fromisoformat(resumed_at) if resumed_at else None,
        outcome=outcome,
    )
