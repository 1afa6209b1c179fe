"""Support actions on the sandbox's orders: refund destination, return window, cancel state,
and the thresholds above which a human approves.

Order facts come from the orders service; time is the service's own clock (the
order's ``as_of``), never the machine's, so the sandbox clock decides whether a return
window is still open.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from guardrails.facts import FactBundle
from guardrails.policy import Rule
from guardrails.rule_kinds import (
    CancelStateRule,
    GoodwillApprovalRule,
    HumanApprovalRule,
    RefundApprovalRule,
    RefundMethodRule,
    ReturnItemsRule,
    ReturnWindowRule,
    TierDiscountApprovalRule,
)
from guardrails.rules.compliance import customer_tier
from guardrails.rules.discounts import discount_amount, discount_quantity, list_price
from guardrails.verdict import RepairHint, RuleHit
from tools.spec import ToolContext

_EPS = 1e-6


def _hit(rule: Rule, reason: str, repair: RepairHint | None = None) -> RuleHit:
    return RuleHit(
        rule_id=rule.id, kind=rule.kind, effect=rule.effect, reason=reason, repair=repair
    )


def _no_order(rule: Rule) -> RuleHit:
    return _hit(rule, "The order could not be confirmed, so this cannot go ahead.")


def refund_method(
    rule: RefundMethodRule, params: dict[str, Any], facts: FactBundle, ctx: ToolContext
) -> RuleHit | None:
    """Refunds go only to the order's original payment method or a gift card."""
    method = str(params.get("method") or "original")
    allowed = list(rule.params.allowed)
    if method in allowed:
        return None
    return _hit(
        rule,
        f"Refunds can only go to {' or '.join(m.replace('_', ' ') for m in allowed)}, "
        f"not {method.replace('_', ' ')}.",
        RepairHint(rule_id=rule.id, alternative=dict(params, method=allowed[0])),
    )


def return_window(
    rule: ReturnWindowRule, params: dict[str, Any], facts: FactBundle, ctx: ToolContext
) -> RuleHit | None:
    """Returns only for delivered orders, before the return window ends (service clock)."""
    order = facts.order
    if order is None:
        return _no_order(rule)
    status = str(order.get("status"))
    if status != "delivered":
        return _hit(rule, f"Only delivered orders can be returned; this one is {status}.")
    ends = order.get("return_window_ends")
    now = order.get("as_of")
    if ends is None or now is None:
        return _hit(rule, "The return window of this order could not be confirmed.")
    if datetime.fromisoformat(str(now)) <= datetime.fromisoformat(str(ends)):
        return None
    return _hit(rule, f"The return window of this order ended on {str(ends)[:10]}.")


def return_items(
    rule: ReturnItemsRule, params: dict[str, Any], facts: FactBundle, ctx: ToolContext
) -> RuleHit | None:
    """The SKUs are lines of the order and none of them has a return already."""
    order = facts.order
    if order is None:
        return _no_order(rule)
    asked = [str(s) for s in params.get("skus") or []]
    ordered = {str(line.get("sku")) for line in order.get("lines") or []}
    foreign = sorted(set(asked) - ordered)
    if foreign:
        return _hit(rule, f"{', '.join(foreign)} is not part of this order.")
    repeated = sorted(set(asked) & {str(s) for s in order.get("returned_skus") or []})
    if repeated:
        return _hit(rule, f"A return is already authorized for {', '.join(repeated)}.")
    return None


def cancel_state(
    rule: CancelStateRule, params: dict[str, Any], facts: FactBundle, ctx: ToolContext
) -> RuleHit | None:
    """Only orders in an accepted status (pending, by default) can be cancelled."""
    if facts.order is None:
        return _no_order(rule)
    status = str(facts.order.get("status"))
    if status in rule.params.statuses:
        return None
    return _hit(
        rule,
        f"Only {' or '.join(rule.params.statuses)} orders can be cancelled; this one is {status}.",
    )


def refund_approval_threshold(
    rule: RefundApprovalRule, params: dict[str, Any], facts: FactBundle, ctx: ToolContext
) -> RuleHit | None:
    """A refund above the amount waits for a human."""
    amount = float(params.get("amount") or 0.0)
    limit = rule.params.max_amount
    if amount <= limit + _EPS:
        return None
    return _hit(
        rule,
        f"A refund of ${amount:.2f} is above ${limit:.2f} and needs a supervisor's approval.",
        RepairHint(rule_id=rule.id, limit=limit, actual=amount, headroom=limit),
    )


def goodwill_limit(rule: GoodwillApprovalRule, params: dict[str, Any], facts: FactBundle) -> float:
    """Largest goodwill percent that needs no approval."""
    if params.get("reason") != "goodwill" or facts.price is None:
        return 100.0
    base = list_price(facts) * discount_quantity(params, facts)
    return min(100.0, rule.params.max_amount / base * 100) if base > 0 else 100.0


def goodwill_approval_threshold(
    rule: GoodwillApprovalRule, params: dict[str, Any], facts: FactBundle, ctx: ToolContext
) -> RuleHit | None:
    """A goodwill discount worth more than the amount waits for a human."""
    if params.get("reason") != "goodwill" or facts.price is None:
        return None
    amount = discount_amount(params, facts)
    limit = rule.params.max_amount
    if amount <= limit + _EPS:
        return None
    return _hit(
        rule,
        f"A goodwill credit of ${amount:.2f} is above ${limit:.2f} and needs a "
        "supervisor's approval.",
        RepairHint(rule_id=rule.id, limit=limit, actual=amount, headroom=limit),
    )


def tier_discount_limit(
    rule: TierDiscountApprovalRule, params: dict[str, Any], facts: FactBundle
) -> float:
    """Largest percent the customer's tier allows without approval (session tier if unread)."""
    tier = str((facts.customer or {}).get("loyalty_tier") or "")
    return float(rule.params.by_tier.get(tier, 100.0)) if tier else 100.0


def tier_discount_approval_threshold(
    rule: TierDiscountApprovalRule, params: dict[str, Any], facts: FactBundle, ctx: ToolContext
) -> RuleHit | None:
    """A discount percent above the customer's tier threshold waits for a human."""
    tier = customer_tier(facts, ctx)
    limit = rule.params.by_tier.get(tier)
    percent = float(params.get("percent") or 0.0)
    if limit is None or percent <= limit + _EPS:
        return None
    return _hit(
        rule,
        f"A {percent:g}% discount for a {tier} member is above {limit:g}% and needs a "
        "supervisor's approval.",
        RepairHint(rule_id=rule.id, limit=limit, actual=percent, headroom=0.0),
    )


LIMITS: dict[str, Any] = {
    "goodwill_approval_threshold": goodwill_limit,
    "tier_discount_approval_threshold": tier_discount_limit,
}


def human_approval(
    rule: HumanApprovalRule, params: dict[str, Any], facts: FactBundle, ctx: ToolContext
) -> RuleHit | None:
    """Always fires where it applies: the action waits for a person to approve it."""
    channel = "support copilot" if ctx.channel == "copilot" else "shopping chat"
    return _hit(rule, f"Actions drafted in the {channel} wait for a person to approve them.")
