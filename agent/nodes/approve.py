"""await_approval: one action that policy sends to a human, paused until a person decides.

The node handles exactly one action per run and has no side effect before
``interrupt()``: LangGraph re-runs a node from its start when it resumes, so the
request it shows is built in ``validate`` and only read here. After the decision the
rules run again on facts read now; the action goes on to ``execute`` only if the
re-validated verdict is what the person approved (same digest, no new reason for
approval). Otherwise it is shown again (a new request) or, if now denied, refused.
"""

from __future__ import annotations

from datetime import UTC, datetime

from langgraph.types import interrupt

from agent.approvals import (
    ApprovalDecision,
    ApprovalEntry,
    ApprovalRequest,
    approval_request,
    still_approved,
)
from agent.deps import TurnContext, TurnDeps
from agent.models.base import ChatMessage, tool_envelope
from agent.nodes.outcomes import outcome_message
from agent.state import TurnScratch
from guardrails.verdict import ProposedAction, Verdict


def present(
    deps: TurnDeps,
    ctx: TurnContext,
    scratch: TurnScratch,
    action: ProposedAction,
    verdict: Verdict,
    presentation: int = 1,
) -> None:
    """Queue ``action`` for a person with the request they will see."""
    scratch.approval_requests[action.id] = approval_request(
        session_id=scratch.session_id,
        turn_id=scratch.turn_id,
        customer_id=ctx.tools.customer_id,
        channel=ctx.tools.channel,
        action=action,
        verdict=verdict,
        now=datetime.now(UTC),
        ttl=deps.approval_ttl,
        presentation=presentation,
    )
    scratch.awaiting.append(action.id)


async def decision_for(deps: TurnDeps, request: ApprovalRequest) -> ApprovalDecision:
    """The person's decision: from the configured approver, or by pausing the graph."""
    if deps.approver is not None:
        return await deps.approver(request)
    # Pauses here; on resume LangGraph re-runs the node and interrupt() returns the value.
    return ApprovalDecision.model_validate(interrupt(request.model_dump(mode="json")))


def count_wait(scratch: TurnScratch, request: ApprovalRequest) -> None:
    """Add the pause that just ended (from when it began to now) to the turn's wait."""
    now = datetime.now(UTC)
    began = max(request.presented_at, scratch.resumed_at or request.presented_at)
    scratch.waited_ms += max(0.0, (now - began).total_seconds() * 1000)
    scratch.resumed_at = now


async def settle(
    deps: TurnDeps,
    ctx: TurnContext,
    scratch: TurnScratch,
    request: ApprovalRequest,
    decision: ApprovalDecision,
) -> None:
    """Apply a decision: re-validate and queue for execution, show again, or refuse."""
    action = scratch.proposal(request.action_id)
    scratch.awaiting.remove(action.id)
    scratch.approval_requests.pop(action.id, None)
    entry = ApprovalEntry(
        approval_id=request.approval_id,
        action_id=action.id,
        action_type=action.type,
        proposed_params=request.proposed_params,
        presented_params=request.presented_params,
        digest=request.digest,
        policy_version=request.policy_version,
        rule_ids=request.rule_ids,
        decision=decision.decision,
        decided_by=decision.by,
        decided_at=decision.decided_at,
        comment=decision.comment,
        outcome="rejected" if decision.decision == "rejected" else "expired",
    )
    scratch.approvals.append(entry)
    if decision.decision != "approved":
        scratch.messages.append(_message(action, decision.decision, request, decision.comment))
        return
    # Rules again, on authoritative state read now, under the policy in force now.
    ctx.pin = deps.validator.policies.pin()
    verdict = await deps.validator.evaluate(action, ctx.tools, pin=ctx.pin)
    verdict.stage = "after_approval"
    scratch.verdicts.append(verdict)
    entry.revalidated_rule_ids = verdict.rule_ids
    if verdict.outcome == "deny":
        entry.outcome = "denied"
        scratch.messages.append(outcome_message(action, "denied", verdict))
    elif still_approved(request, action.type, verdict):
        entry.outcome = "allowed"
        scratch.pending_actions.append(action.id)
    else:
        entry.outcome = "changed"
        present(deps, ctx, scratch, action, verdict, presentation=request.presentation + 1)


def _message(
    action: ProposedAction, decision: str, request: ApprovalRequest, comment: str
) -> ChatMessage:
    return ChatMessage(
        role="tool",
        tool_call_id=action.call_id,
        name=action.type,
        content=tool_envelope(
            "rejected" if decision == "rejected" else "expired",
            action=action.type,
            approval_id=request.approval_id,
            comment=comment,
        ),
    )
