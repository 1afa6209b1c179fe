"""Rule families: one small pure function per rule kind.

Each check takes the rule (with its params), the proposal's resolved parameters, the
authoritative facts and the trusted context, and returns a ``RuleHit`` when the rule
fires or ``None`` when it passes. No I/O happens here: facts were read beforehand.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from guardrails.facts import FactBundle
from guardrails.policy import Rule
from guardrails.rules import budgets, compliance, discounts, fulfillment, orders, retail, support
from guardrails.verdict import RuleHit
from tools.spec import ToolContext

Check = Callable[[Any, dict[str, Any], FactBundle, ToolContext], RuleHit | None]

RULE_CHECKS: dict[str, Check] = {
    "customer_scope": orders.customer_scope,
    "refund_within_paid": orders.refund_within_paid,
    "max_discount_percent": discounts.max_discount_percent,
    "margin_floor": discounts.margin_floor,
    "map_floor": discounts.map_floor,
    "price_match": discounts.price_match,
    "session_discount_budget": discounts.session_discount_budget,
    "stock_available": fulfillment.stock_available,
    "delivery_confirmed": fulfillment.delivery_confirmed,
    "retail_order_owner": retail.order_owner,
    "retail_order_status": retail.order_status,
    "retail_modified_once": retail.modified_once,
    "retail_cancel_reason": retail.cancel_reason,
    "retail_items_in_order": retail.items_in_order,
    "retail_same_product": retail.same_product,
    "retail_new_item_differs": retail.new_item_differs,
    "retail_item_available": retail.item_available,
    "retail_payment_method_of_user": retail.payment_method_of_user,
    "retail_refund_destination": retail.refund_destination,
    "retail_gift_card_balance": retail.gift_card_balance,
    "retail_payment_change": retail.payment_change,
    "discount_amount_cap": budgets.discount_amount_cap,
    "customer_daily_budget": budgets.scoped_budget,
    "campaign_budget": budgets.scoped_budget,
    "global_daily_budget": budgets.scoped_budget,
    "region_restriction": compliance.region_restriction,
    "age_verification": compliance.age_verification,
    "no_discount_brand": compliance.no_discount_brand,
    "promotion_tier": compliance.promotion_tier,
    "promotion_stacking": compliance.promotion_stacking,
    "rate_limit": compliance.rate_limit,
    "refund_method": support.refund_method,
    "return_window": support.return_window,
    "return_items": support.return_items,
    "cancel_state": support.cancel_state,
    "refund_approval_threshold": support.refund_approval_threshold,
    "goodwill_approval_threshold": support.goodwill_approval_threshold,
    "tier_discount_approval_threshold": support.tier_discount_approval_threshold,
    "human_approval": support.human_approval,
}

# Every rule that bounds a discount's percent knows its limit, so a denial's repair is
# the largest discount that passes all of them (``discounts.allowed_percent``).
discounts.LIMITS.update(budgets.LIMITS)
discounts.LIMITS.update(compliance.LIMITS)
discounts.LIMITS.update(support.LIMITS)


def check(
    rule: Rule, params: dict[str, Any], facts: FactBundle, ctx: ToolContext
) -> RuleHit | None:
    """Evaluate one rule."""
    return RULE_CHECKS[rule.kind](rule, params, facts, ctx)
