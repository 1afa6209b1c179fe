"""Deciding approvals: a person's decision resumes the paused turn; expiry; crash recovery.

Mixed into ``Arbiter``: the decision is stored first (one conditional update, so two
people cannot both decide), then the turn resumes from the checkpointer with it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Literal

from agent.approval_store import ApprovalRow, ApprovalStore
from agent.approvals import ApprovalDecision, ApprovalRequest, Decision
from agent.results import TurnResult
from agent.sessions import Session, SessionStore
from arbiter.errors import ConflictError, NotFoundError

if TYPE_CHECKING:
    from agent.graph import TurnGraph
    from agent.state import TurnScratch


class ApprovalFlow:
    """The approval half of the runtime."""

    approvals: ApprovalStore
    sessions: SessionStore
    graph: TurnGraph

    async def _run(
        self,
        session: Session,
        turn_id: str,
        scratch: TurnScratch | None,
        text: str | None,
        *,
        resume: ApprovalDecision | None = None,
    ) -> TurnResult:
        raise NotImplementedError

    async def decide(
        self,
        approval_id: str,
        decision: Literal["approved", "rejected"],
        *,
        by: str,
        comment: str = "",
        digest: str | None = None,
    ) -> TurnResult:
        """A person's decision on a pending approval; the paused turn carries on with it.

        ``digest`` is what the person was shown: if the pending request no longer has
        it, nothing is decided. A request past its expiry is expired instead, and the
        turn is told so.
        """
        row = self.approvals.get(approval_id)
        if row is None:
            raise NotFoundError(f"unknown approval {approval_id}")
        if row.status != "pending":
            raise ConflictError(f"approval {approval_id} is already {row.status}")
        if digest is not None and digest != row.request.digest:
            raise ConflictError(f"approval {approval_id} is not what was shown (digest differs)")
        now = datetime.now(UTC)
        if now >= row.request.expires_at:
            await self._settle(row, "expired", by="system:expiry", comment="", now=now)
            raise ConflictError(f"approval {approval_id} expired at {row.request.expires_at}")
        return await self._settle(row, decision, by=by, comment=comment, now=now)

    async def _settle(
        self, row: ApprovalRow, decision: Decision, *, by: str, comment: str, now: datetime
    ) -> TurnResult:
        made = ApprovalDecision(
            approval_id=row.approval_id,
            decision=decision,
            by=by,
            comment=comment,
            decided_at=now,
        )
        if not self.approvals.decide(made):
            current = self.approvals.get(row.approval_id)
            raise ConflictError(
                f"approval {row.approval_id} is already {current.status if current else 'gone'}"
            )
        return await self._resume(row.request, made)

    async def _resume(self, request: ApprovalRequest, decision: ApprovalDecision) -> TurnResult:
        session = self.sessions.get(request.session_id)
        result = await self._run(session, request.turn_id, None, None, resume=decision)
        if result.recorded is not None:
            entries = result.recorded.approvals
        else:  # paused again (this action shown anew, or the next one): read the turn so far
            state = await self.graph.aget_state({"configurable": {"thread_id": session.session_id}})
            scratch = state.values.get("turn")
            entries = [e.model_dump() for e in scratch.approvals] if scratch else []
        outcome = next(
            (str(e["outcome"]) for e in entries if e.get("approval_id") == request.approval_id),
            None,
        )
        self.approvals.mark_resumed(request.approval_id, outcome)
        return result

    async def expire_due(self, now: datetime | None = None) -> int:
        """Expire pending approvals whose time ran out; their turns say so and finish."""
        moment = now or datetime.now(UTC)
        expired = 0
        for row in self.approvals.due(moment):
            try:
                await self._settle(row, "expired", by="system:expiry", comment="", now=moment)
            except ConflictError:
                continue  # decided meanwhile
            expired += 1
        return expired

    async def recover(self, *, min_age_s: float = 0.0) -> int:
        """Resume turns whose decision was taken but never reached them (a crash between).

        ``min_age_s`` leaves alone decisions younger than that (another process may be
        resuming them right now); a turn another process holds is skipped.
        """
        resumed = 0
        before = datetime.now(UTC) - timedelta(seconds=min_age_s)
        for row in self.approvals.decided_not_resumed(decided_before=before):
            assert row.decision is not None
            try:
                await self._resume(row.request, row.decision)
            except ConflictError:
                continue
            resumed += 1
        return resumed
