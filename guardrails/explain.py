"""Why a proposal got its verdict: every covering rule, whether it applied, fired, and why.

Built from a verdict the validator produced (same facts, same rules), so the
explanation cannot disagree with what the live path would decide.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from guardrails.policy_store import RuleSet, in_scope
from guardrails.verdict import BudgetClaim, Fact, Outcome, ProposedAction, RepairHint, Verdict
from tools.spec import ToolContext


class RuleExplanation(BaseModel):
    """One rule that covers the action type."""

    rule_id: str
    kind: str
    effect: str = Field(description="What firing does: deny or require_approval.")
    description: str = Field(description="What the rule protects, from the policy file.")
    scope: dict[str, list[str]] | None = Field(description="Where it applies; None: everywhere.")
    in_scope: bool = Field(description="Whether its scope contains this product and session.")
    fired: bool
    reason: str | None = Field(default=None, description="Why it fired.")
    repair: RepairHint | None = Field(default=None, description="Limit, actual, headroom, ...")


class Explanation(BaseModel):
    """A proposal's verdict, rule by rule, with the facts it rests on."""

    action_type: str
    params: dict[str, Any] = Field(description="Parameters as proposed.")
    resolved_params: dict[str, Any] = Field(description="Parameters it would execute with.")
    policy_name: str
    policy_version: str
    outcome: Outcome
    rules_evaluated: bool = Field(
        description="False when a system check (kill switch, scope, facts) stopped it first."
    )
    rules: list[RuleExplanation] = Field(description="Every rule covering the action type.")
    system: list[dict[str, Any]] = Field(
        default_factory=list, description="Checks outside the policy file that fired."
    )
    facts: list[Fact] = Field(description="Authoritative facts read for the verdict.")
    budget: BudgetClaim | None = None


def explain(
    verdict: Verdict, rules: RuleSet, action: ProposedAction, ctx: ToolContext
) -> Explanation:
    """Explain ``verdict`` (decided under ``rules``) for ``action`` in ``ctx``."""
    fired = {hit.rule_id: hit for hit in verdict.hits}
    system = [hit for hit in verdict.hits if hit.rule_id.startswith("system.")]
    evaluated = bool(verdict.facts) or not system
    product = next((f.value for f in verdict.facts if f.kind == "product"), None)
    policy = rules.loaded.policy
    explained = []
    for rule in policy.rules_for(action.type):
        hit = fired.get(rule.id)
        explained.append(
            RuleExplanation(
                rule_id=rule.id,
                kind=rule.kind,
                effect=rule.effect,
                description=rule.description,
                scope=rule.scope.model_dump(exclude_none=True) if rule.scope else None,
                in_scope=in_scope(rule, product, ctx),
                fired=hit is not None,
                reason=hit.reason if hit else None,
                repair=hit.repair if hit else None,
            )
        )
    return Explanation(
        action_type=action.type,
        params=action.params,
        resolved_params=verdict.resolved_params,
        policy_name=policy.name,
        policy_version=verdict.policy_version,
        outcome=verdict.outcome,
        rules_evaluated=evaluated,
        rules=explained,
        system=[hit.model_dump(mode="json") for hit in system],
        facts=verdict.facts,
        budget=verdict.budget,
    )
