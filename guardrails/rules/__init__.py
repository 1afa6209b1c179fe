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
from guardrails.rules import discounts, fulfillment, orders
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
}


def check(
    rule: Rule, params: dict[str, Any], facts: FactBundle, ctx: ToolContext
) -> RuleHit | None:
    """Evaluate one rule."""
    return RULE_CHECKS[rule.kind](rule, params, facts, ctx)
