"""A compact view of one turn's DecisionRecord, kept with each eval trial.

The full record (rendered prompts, facts, read results, timings) is too large to keep
for every trial of every run; a report needs only what explains the outcome: which
tools ran, what was proposed and how each proposal was decided, what executed, and
which claims of the answer were checked. The user message and the final answer stay
on the ``TurnOutcome`` that holds the summary.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from agent.record import ClaimCheck, DecisionRecord
from guardrails.verdict import Outcome


class ToolSummary(BaseModel):
    """One read-tool call of the turn."""

    tool: str
    args: dict[str, Any] = Field(default_factory=dict, description="Arguments the model gave.")
    status: str = Field(description="ok or error.")
    duration_ms: float
    attempts: int = 1
    error: str | None = Field(default=None, description="Error code, when the call failed.")


class ProposalSummary(BaseModel):
    """One proposed action and the verdict on it."""

    id: str
    type: str = Field(description="The action tool name.")
    params: dict[str, Any] = Field(default_factory=dict)
    outcome: Outcome | None = Field(default=None, description="None: no verdict recorded.")
    rule_ids: list[str] = Field(default_factory=list, description="Rules that fired.")
    reasons: list[str] = Field(default_factory=list, description="Why, one per fired rule.")


class ExecutionSummary(BaseModel):
    """One execution of an allowed action."""

    action_id: str
    type: str
    status: str = Field(description="executed, failed, unknown or skipped.")
    idempotency_key: str
    error: str | None = Field(default=None, description="Error code, when it did not execute.")


class TurnSummary(BaseModel):
    """The decision-record essentials of one turn."""

    turn_id: str
    policy_version: str = Field(description="sha256 of the policy the verdicts came from.")
    input_flags: list[str] = Field(default_factory=list)
    llm_calls: int = Field(default=0, description="Model calls made in the turn.")
    tools: list[ToolSummary] = Field(default_factory=list)
    proposals: list[ProposalSummary] = Field(default_factory=list)
    executions: list[ExecutionSummary] = Field(default_factory=list)
    claim_checks: list[ClaimCheck] = Field(default_factory=list)
    output_repaired: bool = Field(default=False, description="The claim check changed the draft.")
    duration_ms: float = 0.0


def _code(error: dict[str, str] | None) -> str | None:
    if error is None:
        return None
    return error.get("code") or error.get("message") or "error"


def summarize(record: DecisionRecord) -> TurnSummary:
    """The essentials of ``record`` for a report's drill-down."""
    verdicts = {v.action_id: v for v in record.verdicts}
    proposals = []
    for p in record.proposals:
        verdict = verdicts.get(p.id)
        proposals.append(
            ProposalSummary(
                id=p.id,
                type=p.type,
                params=p.params,
                outcome=verdict.outcome if verdict else None,
                rule_ids=verdict.rule_ids if verdict else [],
                reasons=verdict.reasons if verdict else [],
            )
        )
    return TurnSummary(
        turn_id=record.turn_id,
        policy_version=record.policy_version,
        input_flags=record.input_flags,
        llm_calls=len(record.llm_calls),
        tools=[
            ToolSummary(
                tool=c.tool,
                args=c.args,
                status=c.status,
                duration_ms=c.duration_ms,
                attempts=c.attempts,
                error=_code(c.error),
            )
            for c in record.context
        ],
        proposals=proposals,
        executions=[
            ExecutionSummary(
                action_id=e.action_id,
                type=e.type,
                status=e.status,
                idempotency_key=e.idempotency_key,
                error=_code(e.error),
            )
            for e in record.executions
        ],
        claim_checks=record.claim_checks,
        output_repaired=record.output_repaired,
        duration_ms=record.duration_ms,
    )
