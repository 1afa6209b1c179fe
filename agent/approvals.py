"""Human approval of a proposed action: what is shown, what is decided, what binds them.

A ``require_approval`` verdict becomes an ``ApprovalRequest``: the action with the
arguments that would execute, the rules that asked for a human, the authoritative
facts they were decided on and the policy version. Its ``digest`` binds a decision
to exactly that: after the human decides, the rules run again on facts read then,
and if the digest moved (arguments, policy, prices, stock, the order) the action is
shown again instead of executed.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, Field

from guardrails.verdict import Fact, ProposedAction, Verdict

Decision = Literal["approved", "rejected", "expired"]

# Facts an approval is bound to; ledger and rate-window snapshots move on their own.
BOUND_FACT_KINDS = frozenset(
    {"product", "price", "stock", "cart", "order", "delivery_options", "promotion", "customer"}
)
# Keys that change on every read without the thing itself changing.
_VOLATILE_KEYS = frozenset({"as_of", "read_at", "generated_at"})
INTERNAL_PARAMS = frozenset({"matched_competitor"})


class ApprovalRequest(BaseModel):
    """What a person is asked to approve (the interrupt payload)."""

    approval_id: str = Field(description="Unique per presentation of an action.")
    session_id: str
    turn_id: str
    action_id: str
    customer_id: str = Field(description="Whose order or cart this acts on (from the session).")
    channel: str
    action_type: str
    proposed_params: dict[str, Any] = Field(description="Arguments as the model proposed them.")
    presented_params: dict[str, Any] = Field(
        description="Arguments that would execute, resolved from authoritative facts."
    )
    rule_ids: list[str] = Field(description="Rules that asked for a human.")
    reasons: list[str] = Field(description="Why, one sentence per rule.")
    facts: list[Fact] = Field(description="The facts the verdict was decided on.")
    policy_version: str
    digest: str = Field(description="sha256 binding arguments, policy version and facts.")
    presented_at: datetime
    expires_at: datetime
    presentation: int = Field(default=1, description="1, then 2... each time it is re-shown.")


class ApprovalDecision(BaseModel):
    """A person's decision (the resume value)."""

    approval_id: str
    decision: Decision
    by: str = Field(description="The approver's identity, from the authenticated key.")
    comment: str = ""
    decided_at: datetime


class ApprovalEntry(BaseModel):
    """One approval as the DecisionRecord keeps it: proposed, presented, decided, executed."""

    approval_id: str
    action_id: str
    action_type: str
    proposed_params: dict[str, Any]
    presented_params: dict[str, Any]
    digest: str
    policy_version: str
    rule_ids: list[str]
    decision: Decision
    decided_by: str
    decided_at: datetime
    comment: str = ""
    outcome: Literal["allowed", "denied", "changed", "rejected", "expired"] = Field(
        description="After the decision: re-validated and allowed, denied on re-validation,"
        " shown again because what was approved moved, or not approved."
    )
    revalidated_rule_ids: list[str] = Field(default_factory=list)
    executed_params: dict[str, Any] | None = Field(
        default=None, description="Filled from the execution when it ran."
    )


def bound_facts(facts: list[Fact]) -> list[Fact]:
    """The facts an approval binds: prices, stock, the order... (not ledger snapshots)."""
    return [f for f in facts if f.kind in BOUND_FACT_KINDS]


def _stable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _stable(v) for k, v in value.items() if k not in _VOLATILE_KEYS}
    if isinstance(value, list):
        return [_stable(v) for v in value]
    return value


def executable_params(verdict: Verdict) -> dict[str, Any]:
    """The arguments an allowed action executes with."""
    return {k: v for k, v in verdict.resolved_params.items() if k not in INTERNAL_PARAMS}


def approval_digest(action_type: str, verdict: Verdict) -> str:
    """sha256 of canonical arguments, policy version and bound facts (timestamps dropped)."""
    body = {
        "action": action_type,
        "params": executable_params(verdict),
        "policy_version": verdict.policy_version,
        "facts": sorted(
            ([f.kind, f.key, _stable(f.value)] for f in bound_facts(verdict.facts)),
            key=lambda item: (item[0], item[1]),
        ),
    }
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def approval_request(
    *,
    session_id: str,
    turn_id: str,
    customer_id: str,
    channel: str,
    action: ProposedAction,
    verdict: Verdict,
    now: datetime,
    ttl: timedelta,
    presentation: int = 1,
) -> ApprovalRequest:
    """The request shown to a person for a ``require_approval`` verdict."""
    asking = [hit for hit in verdict.hits if hit.effect == "require_approval"]
    return ApprovalRequest(
        approval_id=f"apr_{turn_id.removeprefix('turn_')}_{action.id}_{presentation}",
        session_id=session_id,
        turn_id=turn_id,
        action_id=action.id,
        customer_id=customer_id,
        channel=channel,
        action_type=action.type,
        proposed_params=action.params,
        presented_params=executable_params(verdict),
        rule_ids=[hit.rule_id for hit in asking],
        reasons=[hit.reason for hit in asking],
        facts=bound_facts(verdict.facts),
        policy_version=verdict.policy_version,
        digest=approval_digest(action.type, verdict),
        presented_at=now,
        expires_at=now + ttl,
        presentation=presentation,
    )


def still_approved(request: ApprovalRequest, action_type: str, verdict: Verdict) -> bool:
    """Whether a re-validated verdict is what was approved: same digest, no new approval rule."""
    asking = {hit.rule_id for hit in verdict.hits if hit.effect == "require_approval"}
    return (
        verdict.outcome != "deny"
        and asking <= set(request.rule_ids)
        and approval_digest(action_type, verdict) == request.digest
    )


def describe(request: ApprovalRequest) -> str:
    """One line naming the action and its main arguments, for people."""
    params = request.presented_params
    parts = [request.action_type.replace("_", " ")]
    for key in ("order_id", "sku", "quantity", "percent", "amount", "method", "code"):
        if params.get(key) is not None:
            value = params[key]
            parts.append(f"${value:.2f}" if key == "amount" else f"{key}={value}")
    return " ".join(str(p) for p in parts)


def waiting_text(requests: list[ApprovalRequest]) -> str:
    """What the shopper or agent reads while the turn waits for a person."""
    lines = [
        f"Waiting for approval: {describe(r)} — {' '.join(r.reasons)} (approval {r.approval_id})"
        for r in requests
    ]
    lines.append("Nothing has been done yet; this continues once a person decides.")
    return "\n".join(lines)
