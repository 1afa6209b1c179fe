"""Request and response bodies of the HTTP API (the OpenAPI document is generated from them)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from agent.approval_store import ApprovalRow
from agent.approvals import ApprovalRequest, describe
from agent.record import DecisionRecord
from agent.results import TurnResult
from agent.sessions import Session
from guardrails.kill_switch import Switch

Channel = Literal["shopper", "copilot"]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SessionCreate(_Body):
    """Start a conversation for a customer."""

    customer_id: str = Field(
        min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$", description="e.g. C1001"
    )
    channel: Channel = "shopper"


class MessageCreate(_Body):
    """One user message."""

    text: str = Field(min_length=1, description="What the shopper or support agent says.")
    turn_id: str | None = Field(
        default=None,
        pattern=r"^turn_[A-Za-z0-9_-]{6,60}$",
        description="Client-chosen turn id: a retry with the same id reuses its idempotency keys.",
    )


class DraftCreate(_Body):
    """Ask the copilot to draft actions for a customer (optionally about one order)."""

    customer_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")
    order_id: str | None = Field(default=None, max_length=64, pattern=r"^[A-Za-z0-9#_-]+$")
    instruction: str = Field(min_length=1, description="What the agent wants done.")


class DecisionBody(_Body):
    """A person's decision on an approval."""

    comment: str = Field(default="", max_length=1000)
    digest: str | None = Field(
        default=None,
        pattern=r"^[0-9a-f]{64}$",
        description="The digest of the request as shown; refused if it no longer matches.",
    )


class PolicyBody(_Body):
    """A candidate policy: its YAML text, or the version (sha256) of an archived one."""

    yaml: str | None = Field(default=None, max_length=200_000)
    version: str | None = Field(default=None, pattern=r"^[0-9a-f]{64}$")


class KillSwitchBody(_Body):
    """Turn a switch on."""

    scope: str = Field(
        min_length=1, max_length=80, description="all, action:<type> or channel:<shopper|copilot>"
    )
    reason: str = Field(min_length=1, max_length=500)


class SessionView(BaseModel):
    """A session."""

    session_id: str
    customer_id: str
    channel: Channel
    created_at: datetime

    @classmethod
    def of(cls, session: Session) -> SessionView:
        """From the runtime's session."""
        return cls(
            session_id=session.session_id,
            customer_id=session.principal.customer_id,
            channel=session.principal.channel,
            created_at=session.created_at,
        )


class TranscriptEntry(BaseModel):
    """One finished turn of a conversation."""

    turn_id: str
    user: str
    assistant: str
    at: datetime


class ApprovalView(BaseModel):
    """An approval as the queue shows it."""

    approval_id: str
    status: str
    outcome: str | None
    summary: str = Field(description="The action in one line.")
    request: ApprovalRequest
    decided_by: str | None = None
    decided_at: datetime | None = None
    comment: str | None = None

    @classmethod
    def of(cls, row: ApprovalRow) -> ApprovalView:
        """From the store's row."""
        d = row.decision
        return cls(
            approval_id=row.approval_id,
            status=row.status,
            outcome=row.outcome,
            summary=describe(row.request),
            request=row.request,
            decided_by=d.by if d else None,
            decided_at=d.decided_at if d else None,
            comment=d.comment if d else None,
        )

    @classmethod
    def pending(cls, request: ApprovalRequest) -> ApprovalView:
        """A request just queued."""
        return cls(
            approval_id=request.approval_id,
            status="pending",
            outcome=None,
            summary=describe(request),
            request=request,
        )


class SessionDetail(SessionView):
    """A session with its transcript and what it waits for."""

    transcript: list[TranscriptEntry]
    pending_approvals: list[ApprovalView]


class DecisionSummary(BaseModel):
    """The short form of a turn's DecisionRecord."""

    turn_id: str
    policy_version: str
    duration_ms: float
    tools: list[dict[str, Any]]
    verdicts: list[dict[str, Any]]
    executions: list[dict[str, Any]]
    approvals: list[dict[str, Any]]
    output_repaired: bool
    error: str | None

    @classmethod
    def of(cls, record: DecisionRecord) -> DecisionSummary:
        """From a record."""
        types = {p.id: p.type for p in record.proposals}
        return cls(
            turn_id=record.turn_id,
            policy_version=record.policy_version,
            duration_ms=round(record.duration_ms, 2),
            tools=[
                {"tool": c.tool, "status": c.status, "duration_ms": round(c.duration_ms, 2)}
                for c in record.context
            ],
            verdicts=[
                {
                    "action_id": v.action_id,
                    "type": types.get(v.action_id, ""),
                    "outcome": v.outcome,
                    "rule_ids": v.rule_ids,
                    "reasons": v.reasons,
                }
                for v in record.verdicts
            ],
            executions=[
                {
                    "action_id": e.action_id,
                    "type": e.type,
                    "status": e.status,
                    "idempotency_key": e.idempotency_key,
                }
                for e in record.executions
            ],
            approvals=[
                {k: a.get(k) for k in ("approval_id", "decision", "decided_by", "outcome")}
                for a in record.approvals
            ],
            output_repaired=record.output_repaired,
            error=record.error,
        )


class TurnView(BaseModel):
    """The answer to a message (or what the turn waits for)."""

    session_id: str
    turn_id: str
    status: Literal["answered", "pending_approval"]
    text: str
    decision: DecisionSummary | None
    pending_approvals: list[ApprovalView]

    @classmethod
    def of(cls, result: TurnResult) -> TurnView:
        """From the runtime's result."""
        return cls(
            session_id=result.session_id,
            turn_id=result.turn_id,
            status=result.status,
            text=result.text,
            decision=DecisionSummary.of(result.recorded) if result.recorded else None,
            pending_approvals=[ApprovalView.pending(r) for r in result.pending],
        )


class PolicyInfo(BaseModel):
    """A loaded policy."""

    name: str
    version: str
    source: str
    rules: int


class PolicyState(BaseModel):
    """The enforced policy and the shadow candidate."""

    active: PolicyInfo
    shadow: PolicyInfo | None
    last_reload_error: list[str] | None


class ValidationResult(BaseModel):
    """Whether a candidate policy loads, and its problems by path."""

    valid: bool
    version: str | None = None
    rules: int | None = None
    problems: list[str] = Field(default_factory=list)


class SwitchView(BaseModel):
    """An active kill switch."""

    scope: str
    reason: str
    set_by: str
    set_at: datetime

    @classmethod
    def of(cls, switch: Switch) -> SwitchView:
        """From the guard store's switch."""
        return cls(
            scope=switch.scope, reason=switch.reason, set_by=switch.set_by, set_at=switch.set_at
        )


class Health(BaseModel):
    """Liveness or readiness."""

    status: Literal["ok", "unavailable"]
    checks: dict[str, str] = Field(default_factory=dict)
