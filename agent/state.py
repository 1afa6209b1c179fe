"""Graph state: the persisted conversation plus one turn's scratch.

Only ``history`` (user and assistant text, capped) survives between turns, so a
thread's checkpoint stays small however long the conversation runs; everything else
a turn learns lives in ``TurnScratch`` and ends up in its DecisionRecord.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypedDict

from pydantic import BaseModel, Field

from agent.approvals import ApprovalEntry, ApprovalRequest
from agent.models.base import ChatMessage, ToolCall
from agent.record import (
    ClaimCheck,
    CustomerContext,
    ExecutionRecord,
    LLMCallRecord,
    Principal,
    StepTiming,
    ToolCallRecord,
)
from guardrails.verdict import ProposedAction, Verdict

HISTORY_LIMIT = 20


class PendingRead(BaseModel):
    """A validated read-tool call waiting for gather_context."""

    call: ToolCall
    args: dict[str, Any]


class TurnScratch(BaseModel):
    """Everything one turn accumulates before it is recorded."""

    turn_id: str
    session_id: str
    principal: Principal
    customer: CustomerContext
    user_message: str
    started_at: datetime
    input_flags: list[str] = Field(default_factory=list)
    messages: list[ChatMessage] = Field(default_factory=list)
    llm_calls: list[LLMCallRecord] = Field(default_factory=list)
    context: list[ToolCallRecord] = Field(default_factory=list)
    proposals: list[ProposedAction] = Field(default_factory=list)
    verdicts: list[Verdict] = Field(default_factory=list)
    executions: list[ExecutionRecord] = Field(default_factory=list)
    pending_reads: list[PendingRead] = Field(default_factory=list)
    pending_actions: list[str] = Field(default_factory=list)
    awaiting: list[str] = Field(
        default_factory=list, description="Action ids waiting for a person, in order."
    )
    approval_requests: dict[str, ApprovalRequest] = Field(
        default_factory=dict, description="What is shown for each awaiting action."
    )
    approvals: list[ApprovalEntry] = Field(default_factory=list)
    revisions: int = 0
    draft_text: str | None = None
    final_text: str | None = None
    claim_checks: list[ClaimCheck] = Field(default_factory=list)
    output_repaired: bool = False
    error: str | None = None
    timings: list[StepTiming] = Field(default_factory=list)
    waited_ms: float = 0.0
    """Time paused for people's decisions (not in the record's duration)."""
    resumed_at: datetime | None = None
    """When the last decision resumed the turn (a later pause counts from here)."""

    def proposal(self, action_id: str) -> ProposedAction:
        """A proposal of this turn by id."""
        return next(p for p in self.proposals if p.id == action_id)


class GraphState(TypedDict, total=False):
    """What the LangGraph checkpointer stores per session thread."""

    history: list[ChatMessage]
    turn: TurnScratch | None


CHECKPOINT_TYPES: list[tuple[str, str]] = [
    ("agent.approvals", "ApprovalRequest"),
    ("agent.approvals", "ApprovalEntry"),
    ("agent.models.base", "ChatMessage"),
    ("agent.models.base", "ToolCall"),
    ("agent.models.base", "ModelParams"),
    ("agent.models.base", "TokenUsage"),
    ("agent.state", "TurnScratch"),
    ("agent.state", "PendingRead"),
    ("agent.record", "Principal"),
    ("agent.record", "CustomerContext"),
    ("agent.record", "LLMCallRecord"),
    ("agent.record", "ToolCallRecord"),
    ("agent.record", "ExecutionRecord"),
    ("agent.record", "ClaimCheck"),
    ("agent.record", "StepTiming"),
    ("guardrails.verdict", "ProposedAction"),
    ("guardrails.verdict", "Verdict"),
    ("guardrails.verdict", "RuleHit"),
    ("guardrails.verdict", "RepairHint"),
    ("guardrails.verdict", "Fact"),
    ("guardrails.verdict", "BudgetClaim"),
]
"""Types the checkpointer may deserialize (LangGraph refuses unregistered ones)."""
