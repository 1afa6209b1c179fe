"""Price authority: discounts are bounded by caps, margin, MAP, fresh competitor prices
and the session budget — all computed from the pricing service's current numbers.

Each discount rule also knows the largest percent it would allow (``*_limit``), so a
denial can carry the largest discount that passes every rule as its repair.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from guardrails.facts import FactBundle
from guardrails.policy import Rule
from guardrails.rule_kinds import (
    MapFloorRule,
    MarginFloorRule,
    MaxDiscountRule,
    PriceMatchRule,
    SessionBudgetRule,
)
from guardrails.verdict import RepairHint, RuleHit
from tools.spec import ToolContext

_EPS = 1e-6


def list_price(facts: FactBundle) -> float:
    """Current list price from the pricing service."""
    assert facts.price is not None
    return float(facts.price["list_price"])


def category(facts: FactBundle) -> str:
    """The product's category from the catalog."""
    return str((facts.product or {}).get("category", ""))


def discount_quantity(params: dict[str, Any], facts: FactBundle) -> int:
    """Units the discount applies to: the cart line's quantity (at least one)."""
    return max(1, facts.cart_quantity(str(params["sku"])))


def max_discount_limit(rule: MaxDiscountRule, params: dict[str, Any], facts: FactBundle) -> float:
    """The category cap (percent)."""
    return float(rule.params.by_category.get(category(facts), rule.params.default_percent))


def margin_floor_limit(rule: MarginFloorRule, params: dict[str, Any], facts: FactBundle) -> float:
    """Largest percent keeping price >= unit cost x (1 + margin)."""
    assert facts.price is not None
    margin = rule.params.by_category.get(category(facts), rule.params.min_margin)
    floor = float(facts.price["unit_cost"]) * (1 + margin)
    return max(0.0, (1 - floor / list_price(facts)) * 100)


def map_floor_limit(rule: MapFloorRule, params: dict[str, Any], facts: FactBundle) -> float:
    """Largest percent keeping price >= the minimum advertised price."""
    assert facts.price is not None
    map_price = facts.price.get("map_price")
    if map_price is None:
        return 100.0
    return max(0.0, (1 - float(map_price) / list_price(facts)) * 100)


def session_budget_limit(
    rule: SessionBudgetRule, params: dict[str, Any], facts: FactBundle
) -> float:
    """Largest percent the remaining session budget pays for."""
    headroom = max(0.0, rule.params.max_amount - facts.session_discount_spent)
    base = list_price(facts) * discount_quantity(params, facts)
    return min(100.0, headroom / base * 100) if base > 0 else 0.0


LIMITS: dict[str, Any] = {
    "max_discount_percent": max_discount_limit,
    "margin_floor": margin_floor_limit,
    "map_floor": map_floor_limit,
    "session_discount_budget": session_budget_limit,
}


def allowed_percent(rules: list[Rule], params: dict[str, Any], facts: FactBundle) -> int:
    """Largest whole percent every covering discount rule allows."""
    limits = [LIMITS[r.kind](r, params, facts) for r in rules if r.kind in LIMITS]
    return max(0, math.floor(min(limits, default=0.0) + _EPS))


def discount_amount(params: dict[str, Any], facts: FactBundle) -> float:
    """Money the discount gives away, from the authoritative list price."""
    percent = float(params.get("percent") or 0.0)
    return round(list_price(facts) * discount_quantity(params, facts) * percent / 100, 2)


def _percent_hit(rule: Rule, params: dict[str, Any], limit: float, reason: str) -> RuleHit | None:
    percent = float(params.get("percent") or 0.0)
    if percent <= limit + _EPS:
        return None
    return RuleHit(
        rule_id=rule.id,
        kind=rule.kind,
        effect=rule.effect,
        reason=reason,
        repair=RepairHint(
            rule_id=rule.id,
            limit=round(limit, 2),
            actual=round(percent, 2),
            headroom=0.0,
        ),
    )


def max_discount_percent(
    rule: MaxDiscountRule, params: dict[str, Any], facts: FactBundle, ctx: ToolContext
) -> RuleHit | None:
    limit = max_discount_limit(rule, params, facts)
    percent = float(params.get("percent") or 0.0)
    return _percent_hit(
        rule,
        params,
        limit,
        f"A {percent:g}% discount exceeds the maximum of {limit:g}% for "
        f"{category(facts) or 'this item'}.",
    )


def margin_floor(
    rule: MarginFloorRule, params: dict[str, Any], facts: FactBundle, ctx: ToolContext
) -> RuleHit | None:
    limit = margin_floor_limit(rule, params, facts)
    return _percent_hit(
        rule, params, limit, "That discount would take the price below the minimum margin."
    )


def map_floor(
    rule: MapFloorRule, params: dict[str, Any], facts: FactBundle, ctx: ToolContext
) -> RuleHit | None:
    limit = map_floor_limit(rule, params, facts)
    return _percent_hit(
        rule, params, limit, "That discount would go below the brand's minimum advertised price."
    )


def _money(value: float) -> str:
    return f"${value:,.2f}"


def session_discount_budget(
    rule: SessionBudgetRule, params: dict[str, Any], facts: FactBundle, ctx: ToolContext
) -> RuleHit | None:
    amount = discount_amount(params, facts)
    headroom = max(0.0, rule.params.max_amount - facts.session_discount_spent)
    if amount <= headroom + _EPS:
        return None
    return RuleHit(
        rule_id=rule.id,
        kind=rule.kind,
        effect=rule.effect,
        reason=(
            "This conversation has used up the discounts it may give."
            if facts.session_discount_spent > _EPS
            else f"A discount of {_money(amount)} is more than the {_money(rule.params.max_amount)}"
            " one conversation may give."
        ),
        repair=RepairHint(
            rule_id=rule.id,
            limit=rule.params.max_amount,
            actual=round(facts.session_discount_spent + amount, 2),
            headroom=round(headroom, 2),
        ),
    )


def price_match(
    rule: PriceMatchRule, params: dict[str, Any], facts: FactBundle, ctx: ToolContext
) -> RuleHit | None:
    if params.get("reason") != "price_match":
        return None
    matched = params.get("matched_competitor")
    if not isinstance(matched, dict):
        return _hit(rule, "We have no competitor price on record to match for this item.")
    age_h = competitor_age_hours(matched, facts)
    if age_h > rule.params.max_age_hours:
        return _hit(
            rule,
            f"The competitor price we hold from {matched['competitor']} is too old to match.",
        )
    return None


def competitor_age_hours(observation: dict[str, Any], facts: FactBundle) -> float:
    """Age of a competitor observation, measured on the pricing service's own clock."""
    assert facts.price is not None
    as_of = datetime.fromisoformat(str(facts.price["as_of"]))
    seen = datetime.fromisoformat(str(observation["observed_at"]))
    return (as_of - seen).total_seconds() / 3600


def resolve_price_match(params: dict[str, Any], facts: FactBundle) -> dict[str, Any]:
    """For a price match, compute the percent from the competitor price the service holds.

    The model's own percent is ignored: the matched price comes from the pricing
    service, never from the conversation.
    """
    if params.get("reason") != "price_match" or facts.price is None:
        return params
    observations = list(facts.price.get("competitor_prices") or [])
    wanted = str(params.get("competitor") or "").strip().lower()
    if wanted:
        observations = [o for o in observations if str(o["competitor"]).lower() == wanted]
    resolved = dict(params, percent=None, matched_competitor=None)
    if not observations:
        return resolved
    best = min(observations, key=lambda o: (float(o["price"]), str(o["observed_at"])))
    price = list_price(facts)
    percent = max(0.0, round((price - float(best["price"])) / price * 100, 2))
    return dict(resolved, percent=percent, competitor=best["competitor"], matched_competitor=best)


def _hit(rule: Rule, reason: str) -> RuleHit:
    return RuleHit(rule_id=rule.id, kind=rule.kind, effect=rule.effect, reason=reason)
