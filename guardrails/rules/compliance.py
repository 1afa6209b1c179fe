"""Compliance: where a SKU may go, who may buy it, which brands and promotions allow what,
and how fast one session may act.

Customer facts (region, age flag, loyalty tier) come from the customer service, read
by the session's customer id; product facts from the catalog; promotion facts from
the promotions service. Each check is pure over those facts. A fact a rule needs but
that was not read makes the rule fire (fail closed), never pass.
"""

from __future__ import annotations

from typing import Any

from guardrails.facts import FactBundle
from guardrails.policy import Rule
from guardrails.rate_limit import rate_scope
from guardrails.rule_kinds import (
    AgeVerificationRule,
    NoDiscountBrandRule,
    PromotionStackingRule,
    PromotionTierRule,
    RateLimitRule,
    RegionRestrictionRule,
)
from guardrails.verdict import RateClaim, RepairHint, RuleHit
from tools.spec import ToolContext


def customer_region(facts: FactBundle, ctx: ToolContext) -> str:
    """The customer's region: the customer service's profile, else the session's."""
    return str((facts.customer or {}).get("region") or ctx.region)


def customer_tier(facts: FactBundle, ctx: ToolContext) -> str:
    """The customer's loyalty tier: the customer service's profile, else the session's."""
    return str((facts.customer or {}).get("loyalty_tier") or ctx.loyalty_tier)


def _hit(rule: Rule, reason: str, repair: RepairHint | None = None) -> RuleHit:
    return RuleHit(
        rule_id=rule.id, kind=rule.kind, effect=rule.effect, reason=reason, repair=repair
    )


def _unconfirmed(rule: Rule, what: str) -> RuleHit:
    return _hit(rule, f"The {what} could not be confirmed, so this cannot go ahead.")


def region_restriction(
    rule: RegionRestrictionRule, params: dict[str, Any], facts: FactBundle, ctx: ToolContext
) -> RuleHit | None:
    """A SKU restricted in the customer's region is not sold or shipped there."""
    if facts.product is None:
        return _unconfirmed(rule, "product's shipping restrictions")
    region = customer_region(facts, ctx)
    restricted = [str(r) for r in facts.product.get("restricted_regions") or []]
    if region not in restricted:
        return None
    name = facts.product.get("name") or facts.product.get("sku")
    return _hit(rule, f"{name} cannot be sold or shipped to the {region} region.")


def age_verification(
    rule: AgeVerificationRule, params: dict[str, Any], facts: FactBundle, ctx: ToolContext
) -> RuleHit | None:
    """Age-restricted products need a customer whose age is verified."""
    if facts.product is None:
        return _unconfirmed(rule, "product's age rating")
    if not facts.product.get("age_restricted"):
        return None
    if facts.customer is not None and facts.customer.get("age_verified") is True:
        return None
    name = facts.product.get("name") or facts.product.get("sku")
    return _hit(rule, f"{name} is age-restricted and this account's age has not been verified.")


def no_discount_limit(
    rule: NoDiscountBrandRule, params: dict[str, Any], facts: FactBundle
) -> float:
    """No discount at all for a listed brand."""
    return 0.0 if (facts.product or {}).get("brand") in rule.params.brands else 100.0


def no_discount_brand(
    rule: NoDiscountBrandRule, params: dict[str, Any], facts: FactBundle, ctx: ToolContext
) -> RuleHit | None:
    """Brands that forbid discounting their products."""
    if facts.product is None:
        return _unconfirmed(rule, "product's brand")
    brand = facts.product.get("brand")
    if brand not in rule.params.brands:
        return None
    percent = float(params.get("percent") or 0.0)
    return _hit(
        rule,
        f"{brand} does not allow its products to be discounted.",
        RepairHint(rule_id=rule.id, limit=0.0, actual=percent, headroom=0.0),
    )


def promotion_tier(
    rule: PromotionTierRule, params: dict[str, Any], facts: FactBundle, ctx: ToolContext
) -> RuleHit | None:
    """A tier-only promotion is applied only for a customer of one of its tiers."""
    if facts.promotion is None:
        return _unconfirmed(rule, "promotion")
    tiers = (facts.promotion.get("eligibility") or {}).get("tiers")
    tier = customer_tier(facts, ctx)
    if not tiers or tier in tiers:
        return None
    return _hit(
        rule,
        f"{facts.promotion['code']} is only for {_join(tiers)} members; this account is {tier}.",
    )


def promotion_stacking(
    rule: PromotionStackingRule, params: dict[str, Any], facts: FactBundle, ctx: ToolContext
) -> RuleHit | None:
    """A code joins the cart's other codes only when every one of them is stackable."""
    if facts.promotion is None or facts.cart_promotions is None:
        return _unconfirmed(rule, "promotions on the cart")
    new = facts.promotion
    others = [
        p
        for p in facts.cart_promotions.get("items", [])
        if p.get("kind", "code") == "code" and p.get("code") != new.get("code")
    ]
    if not others:
        return None
    blocking = [p for p in others if not p.get("stackable")]
    if new.get("stackable") and not blocking:
        return None
    codes = _join([str(p["code"]) for p in others])
    reason = (
        f"{new['code']} cannot be combined with other promotions, and the cart has {codes}."
        if not new.get("stackable")
        else f"{_join([str(p['code']) for p in blocking])} on the cart cannot be combined "
        f"with {new['code']}."
    )
    return _hit(rule, reason)


def rate_limit(
    rule: RateLimitRule, params: dict[str, Any], facts: FactBundle, ctx: ToolContext
) -> RuleHit | None:
    """At most ``max_actions`` of the covered action types per session per window."""
    window = facts.rate_window
    if window is None:
        return _unconfirmed(rule, "recent activity of this session")
    as_of = float(window["as_of"])
    since = as_of - rule.params.window_seconds
    times = sorted(
        float(at)
        for at, kind in window.get("events", [])
        if float(at) > since and rule.covers(str(kind))
    )
    limit = rule.params.max_actions
    if len(times) < limit:
        return None
    retry_after = max(0.0, times[-limit] + rule.params.window_seconds - as_of)
    return _hit(
        rule,
        f"Too many actions in this conversation: at most {limit} every "
        f"{rule.params.window_seconds:g} seconds. Try again in {retry_after:.0f} seconds.",
        RepairHint(
            rule_id=rule.id,
            limit=float(limit),
            actual=float(len(times) + 1),
            headroom=0.0,
            alternative={"retry_after_seconds": round(retry_after, 1)},
        ),
    )


def rate_claims(rules: list[Rule], ctx: ToolContext) -> list[RateClaim]:
    """The rate limits an execution must fit in, taken atomically by the execute step."""
    return [
        RateClaim(
            rule_id=rule.id,
            scope=rate_scope(ctx.session_id),
            window_seconds=rule.params.window_seconds,
            max_actions=rule.params.max_actions,
            counted_types=list(rule.actions),
        )
        for rule in rules
        if isinstance(rule, RateLimitRule)
    ]


def _join(values: list[str]) -> str:
    return values[0] if len(values) == 1 else ", ".join(values[:-1]) + " and " + values[-1]


LIMITS: dict[str, Any] = {"no_discount_brand": no_discount_limit}
