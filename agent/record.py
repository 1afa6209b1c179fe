"""The DecisionRecord: everything needed to answer "why did it decide this?" for one turn."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from agent.models.base import ChatMessage, ModelParams, TokenUsage, ToolCall
from guardrails.verdict import Outcome, ProposedAction, Verdict


class Principal(BaseModel):
    """Who the turn acts for, from the authenticated session."""

    customer_id: str
    channel: Literal["shopper", "copilot"]


class CustomerContext(BaseModel):
    """The trusted customer facts the turn ran with (they shape the system prompt)."""

    name: str
    region: str
    postcode: str
    loyalty_tier: str


class LLMCallRecord(BaseModel):
    """Lineage of one model call."""

    index: int
    template_id: str
    template_version: int
    template_sha256: str
    rendered_messages_sha256: str
    model: str = Field(description="Model requested.")
    response_model: str = Field(description="Model the endpoint says answered.")
    endpoint_kind: str
    params: ModelParams
    tool_schema_sha256: str
    tool_choice: str
    text: str | None
    tool_calls: list[ToolCall]
    response_id: str | None
    finish_reason: str | None
    usage: TokenUsage | None
    started_at: datetime
    latency_ms: float


class ToolCallRecord(BaseModel):
    """One read-tool call and what it returned (the context snapshot)."""

    call_id: str
    tool: str
    args: dict[str, Any]
    status: Literal["ok", "error"]
    result: Any = None
    error: dict[str, str] | None = None
    source_service: str
    started_at: datetime
    duration_ms: float
    attempts: int


class ExecutionRecord(BaseModel):
    """One allowed action's execution."""

    action_id: str
    type: str
    params: dict[str, Any] = Field(description="Arguments actually executed (resolved).")
    idempotency_key: str
    status: Literal["executed", "failed", "unknown", "skipped"]
    result: Any = None
    error: dict[str, str] | None = None
    budget_entry: str | None = None
    started_at: datetime
    duration_ms: float


class ClaimCheck(BaseModel):
    """A claim found in the answer and whether a verified fact backs it."""

    kind: Literal["price", "percent", "stock", "delivery", "action"]
    text: str
    verified: bool
    detail: str = ""


class StepTiming(BaseModel):
    """Wall time of one graph node."""

    node: str
    duration_ms: float


class ShadowOutcome(BaseModel):
    """One policy's decision on a proposal, as compared in shadow mode."""

    outcome: Outcome
    rule_ids: list[str] = Field(description="Rules that fired.")
    reasons: list[str] = Field(default_factory=list, description="Why, one per fired rule.")


class ShadowDifference(BaseModel):
    """A proposal the shadow policy decided differently (outcome or rules fired)."""

    action_id: str
    type: str = Field(description="The action type proposed.")
    active: ShadowOutcome = Field(description="What the enforced policy decided.")
    shadow: ShadowOutcome = Field(description="What the candidate would have decided.")


class ShadowRecord(BaseModel):
    """A candidate policy evaluated beside the active one on this turn, never enforced."""

    policy_version: str = Field(description="sha256 of the candidate policy file.")
    evaluated: int = Field(description="Proposals the candidate decided on this turn.")
    differences: list[ShadowDifference] = Field(default_factory=list)


class DecisionRecord(BaseModel):
    """One turn, complete. Appended to the audit store; chained by hash."""

    turn_id: str
    session_id: str
    principal: Principal
    customer: CustomerContext
    started_at: datetime
    finished_at: datetime
    history: list[ChatMessage] = Field(
        description="Earlier turns as the model saw them: with the rest, the exact input."
    )
    user_message: str
    input_flags: list[str]
    policy_version: str = Field(
        description="The one policy version every verdict of this turn came from (pinned at start)."
    )
    shadow: ShadowRecord | None = Field(
        default=None, description="Shadow policy comparison, when a candidate was configured."
    )
    tool_schema_sha256: str
    llm_calls: list[LLMCallRecord]
    context: list[ToolCallRecord]
    proposals: list[ProposedAction]
    verdicts: list[Verdict]
    executions: list[ExecutionRecord]
    approvals: list[dict[str, Any]] = Field(default_factory=list)
    denials: int = Field(default=0, description="Proposals denied in this turn.")
    repaired_denials: int = Field(
        default=0,
        description="Denials followed by an allowed proposal of the same action type this turn"
        " (repaired_denials / denials over many turns is the repair rate).",
    )
    draft_text: str | None = Field(description="The model's answer before the claim check.")
    final_text: str
    claim_checks: list[ClaimCheck]
    output_repaired: bool
    token_usage: TokenUsage
    timings: list[StepTiming]
    duration_ms: float = Field(
        description="Wall time of the turn, less any time it spent paused for approval."
    )
    waited_ms: float = Field(
        default=0.0, description="Time the turn spent paused for a person's approval."
    )
    error: str | None = Field(default=None, description="Why the turn could not finish.")
    prev_hash: str = ""
    record_hash: str = ""
