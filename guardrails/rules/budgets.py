"""Budget caps beyond the session: per action, per customer per day, per campaign, per day.

Each cap is checked against what the ledger held when the facts were read (the
``budget_scopes`` fact: scope name and money spent, committed plus live reservations),
knows the largest percent it would still allow (for the repair hint), and names the
ledger claim the execute step reserves. The execute step reserves every claim of an
action in one ``reserve_many``, so a cap filled by another turn between validation and
execution still holds.
"""

from __future__ import annotations

from typing import Any

from guardrails.facts import FactBundle, budget_scope_names
from guardrails.policy import Rule
from guardrails.rule_kinds import (
    CampaignBudgetRule,
    CustomerDailyBudgetRule,
    DiscountAmountCapRule,
    GlobalDailyBudgetRule,
    SessionBudgetRule,
)
from guardrails.rules.discounts import discount_amount, discount_quantity, list_price
from guardrails.verdict import BudgetClaim, RepairHint, RuleHit
from tools.spec import ToolContext

_EPS = 1e-6

ScopedBudgetRule = CustomerDailyBudgetRule | CampaignBudgetRule | GlobalDailyBudgetRule

_KIND_SCOPE = {
    "customer_daily_budget": "customer_day",
    "campaign_budget": "campaign",
    "global_daily_budget": "global_day",
    "session_discount_budget": "session",
}


def scope_and_spent(
    kind: str, params: dict[str, Any], facts: FactBundle, ctx: ToolContext
) -> tuple[str, float] | None:
    """The ledger scope a budget rule draws on and what it has spent; None: not applicable.

    The live path always reads the ``budget_scopes`` fact; a fact reader that did not
    (a test double) gets the same scope names and nothing spent, like the session budget.
    """
    which = _KIND_SCOPE[kind]
    if which == "session":
        return f"session:{ctx.session_id}", facts.session_discount_spent
    read = facts.budget_scope(which)
    if read is not None:
        return read
    name = budget_scope_names("offer_discount", params, ctx).get(which)
    return None if name is None else (name, 0.0)


def cap_of(rule: ScopedBudgetRule | SessionBudgetRule, params: dict[str, Any]) -> float | None:
    """The rule's cap for this proposal (a campaign may be uncapped)."""
    if isinstance(rule, CampaignBudgetRule):
        campaign = str(params.get("code") or params.get("reason") or "")
        return rule.params.cap_for(campaign.upper() if params.get("code") else campaign)
    return rule.params.max_amount


def _base(params: dict[str, Any], facts: FactBundle) -> float:
    return list_price(facts) * discount_quantity(params, facts)


def _percent_of(amount: float, params: dict[str, Any], facts: FactBundle) -> float:
    base = _base(params, facts)
    return min(100.0, max(0.0, amount) / base * 100) if base > 0 else 0.0


def amount_cap_limit(
    rule: DiscountAmountCapRule, params: dict[str, Any], facts: FactBundle
) -> float:
    """Largest percent whose money stays within the per-action cap."""
    return _percent_of(rule.params.max_amount, params, facts)


def scoped_budget_limit(rule: ScopedBudgetRule, params: dict[str, Any], facts: FactBundle) -> float:
    """Largest percent the scope's remaining money pays for."""
    cap = cap_of(rule, params)
    if cap is None:
        return 100.0
    found = facts.budget_scope(_KIND_SCOPE[rule.kind])
    return _percent_of(cap - (found[1] if found else 0.0), params, facts)


def discount_amount_cap(
    rule: DiscountAmountCapRule, params: dict[str, Any], facts: FactBundle, ctx: ToolContext
) -> RuleHit | None:
    amount = discount_amount(params, facts)
    cap = rule.params.max_amount
    if amount <= cap + _EPS:
        return None
    return RuleHit(
        rule_id=rule.id,
        kind=rule.kind,
        effect=rule.effect,
        reason=f"A single discount may give at most ${cap:.2f}; this one is ${amount:.2f}.",
        repair=RepairHint(rule_id=rule.id, limit=cap, actual=amount, headroom=cap),
    )


_WHAT = {
    "customer_daily_budget": "today's discount allowance for this customer",
    "campaign_budget": "the {campaign} campaign's budget",
    "global_daily_budget": "today's store-wide discount budget",
}


def scoped_budget(
    rule: ScopedBudgetRule, params: dict[str, Any], facts: FactBundle, ctx: ToolContext
) -> RuleHit | None:
    """Deny when the discount's money does not fit in the scope's remaining budget."""
    cap = cap_of(rule, params)
    found = scope_and_spent(rule.kind, params, facts, ctx)
    if cap is None or found is None:
        return None
    scope, spent = found
    amount = discount_amount(params, facts)
    headroom = max(0.0, cap - spent)
    if amount <= headroom + _EPS:
        return None
    what = _WHAT[rule.kind].format(campaign=scope.partition(":")[2])
    return RuleHit(
        rule_id=rule.id,
        kind=rule.kind,
        effect=rule.effect,
        reason=f"That discount (${amount:.2f}) does not fit in {what} "
        f"(${headroom:.2f} left of ${cap:.2f}).",
        repair=RepairHint(
            rule_id=rule.id,
            limit=cap,
            actual=round(spent + amount, 2),
            headroom=round(headroom, 2),
        ),
    )


LIMITS: dict[str, Any] = {
    "discount_amount_cap": amount_cap_limit,
    "customer_daily_budget": scoped_budget_limit,
    "campaign_budget": scoped_budget_limit,
    "global_daily_budget": scoped_budget_limit,
}


def budget_claims(
    rules: list[Rule], params: dict[str, Any], facts: FactBundle, ctx: ToolContext
) -> list[BudgetClaim]:
    """One ledger claim per capped scope the discount draws on (the tightest cap per scope)."""
    amount = discount_amount(params, facts)
    caps: dict[str, float] = {}
    for rule in rules:
        if not isinstance(rule, SessionBudgetRule | ScopedBudgetRule):
            continue
        cap = cap_of(rule, params)
        found = scope_and_spent(rule.kind, params, facts, ctx)
        if cap is None or found is None:
            continue
        scope = found[0]
        caps[scope] = min(cap, caps.get(scope, cap))
    return [BudgetClaim(scope=scope, amount=amount, cap=cap) for scope, cap in caps.items()]
