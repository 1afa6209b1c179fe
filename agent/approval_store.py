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
from typing import Any, Literal

from pydantic import BaseModel, Field

from agent.approvals import ApprovalDecision, ApprovalRequest
from arbiter.tables import Tables

Status = Literal["pending", "approved", "rejected", "expired"]

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS approvals (
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
)""",
    "CREATE INDEX IF NOT EXISTS approvals_status ON approvals (status, expires_at)",
    "CREATE INDEX IF NOT EXISTS approvals_session ON approvals (session_id, resumed_at)",
)

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
    """The approvals table (SQLite file, or PostgreSQL shared by replicas)."""

    def __init__(self, tables: Tables) -> None:
        self._db = tables
        tables.create(_SCHEMA)

    def add(self, request: ApprovalRequest) -> None:
        """Queue a request (a retried pause of the same presentation is ignored)."""
        self._db.run(
            "INSERT INTO approvals (approval_id, session_id, turn_id, customer_id,"
            " channel, action_type, status, request, created_at, expires_at)"
            " VALUES (?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?) ON CONFLICT (approval_id) DO NOTHING",
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
        rows = self._db.run(
            f"SELECT {_COLUMNS} FROM approvals WHERE approval_id = ?", (approval_id,)
        ).rows
        return _row(rows[0]) if rows else None

    def query(
        self,
        *,
        status: Status | None = None,
        session_id: str | None = None,
        customer_id: str | None = None,
        turn_id: str | None = None,
        limit: int = 200,
    ) -> list[ApprovalRow]:
        """Approvals, oldest first, filtered."""
        where, args = [], []
        for column, value in (
            ("status", status),
            ("session_id", session_id),
            ("customer_id", customer_id),
            ("turn_id", turn_id),
        ):
            if value is not None:
                where.append(f"{column} = ?")
                args.append(value)
        sql = f"SELECT {_COLUMNS} FROM approvals"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY created_at, approval_id LIMIT ?"
        return [_row(r) for r in self._db.run(sql, (*args, limit)).rows]

    def has_pending(self, session_id: str) -> bool:
        """Whether a turn of this session waits for a person."""
        rows = self._db.run(
            "SELECT 1 FROM approvals WHERE session_id = ? AND resumed_at IS NULL LIMIT 1",
            (session_id,),
        ).rows
        return bool(rows)

    def decide(self, decision: ApprovalDecision) -> bool:
        """Record a decision on a pending approval; False when it was no longer pending."""
        changed = self._db.run(
            "UPDATE approvals SET status = ?, decision = ?, decided_at = ?"
            " WHERE approval_id = ? AND status = 'pending'",
            (
                decision.decision,
                decision.model_dump_json(),
                _iso(decision.decided_at),
                decision.approval_id,
            ),
        )
        return changed.rowcount == 1

    def mark_resumed(self, approval_id: str, outcome: str | None) -> None:
        """The paused turn has taken the decision."""
        self._db.run(
            "UPDATE approvals SET resumed_at = ?, outcome = ? WHERE approval_id = ?",
            (_iso(datetime.now(UTC)), outcome, approval_id),
        )

    def decided_not_resumed(self, decided_before: datetime | None = None) -> list[ApprovalRow]:
        """Decisions a crash kept from reaching their turn (decided before a time, if given)."""
        rows = self._db.run(
            f"SELECT {_COLUMNS} FROM approvals WHERE status != 'pending'"
            " AND resumed_at IS NULL AND decided_at <= ? ORDER BY decided_at",
            (_iso(decided_before or datetime.now(UTC)),),
        ).rows
        return [_row(r) for r in rows]

    def due(self, now: datetime) -> list[ApprovalRow]:
        """Pending approvals whose time ran out."""
        rows = self._db.run(
            f"SELECT {_COLUMNS} FROM approvals WHERE status = 'pending' AND expires_at <= ?"
            " ORDER BY expires_at",
            (_iso(now),),
        ).rows
        return [_row(r) for r in rows]

    def counts(self) -> dict[str, int]:
        """Approvals by status."""
        rows = self._db.run("SELECT status, COUNT(*) FROM approvals GROUP BY status").rows
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
