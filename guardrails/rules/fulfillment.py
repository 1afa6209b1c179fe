"""Inventory and fulfillment truth: no promise or cart line beyond what services confirm now."""

from __future__ import annotations

from typing import Any

from guardrails.facts import FactBundle
from guardrails.rule_kinds import DeliveryConfirmedRule, StockAvailableRule
from guardrails.verdict import RepairHint, RuleHit
from tools.spec import ToolContext


def stock_available(
    rule: StockAvailableRule, params: dict[str, Any], facts: FactBundle, ctx: ToolContext
) -> RuleHit | None:
    assert facts.stock is not None
    sku = str(params["sku"])
    wanted = int(params.get("quantity", 1))
    location = params.get("location_id")
    if location is not None:
        rows = [r for r in facts.stock.get("locations", []) if r["location_id"] == location]
        available = sum(int(r["available"]) for r in rows)
        already = 0
    else:
        available = int(facts.stock.get("total_available", 0))
        already = facts.cart_quantity(sku)
    if already + wanted <= available:
        return None
    headroom = max(0, available - already)
    where = f" at {location}" if location else ""
    return RuleHit(
        rule_id=rule.id,
        kind=rule.kind,
        effect=rule.effect,
        reason=f"Only {available} of {sku} available{where}; {already + wanted} requested.",
        repair=RepairHint(
            rule_id=rule.id,
            limit=float(available),
            actual=float(already + wanted),
            headroom=float(headroom),
            alternative=dict(params, quantity=headroom) if headroom > 0 else None,
        ),
    )


def delivery_confirmed(
    rule: DeliveryConfirmedRule, params: dict[str, Any], facts: FactBundle, ctx: ToolContext
) -> RuleHit | None:
    assert facts.delivery_options is not None
    options = [o for o in facts.delivery_options.get("options", []) if o.get("available")]
    wanted = params.get("option_id")
    if any(o["option_id"] == wanted and int(o.get("capacity_remaining", 0)) > 0 for o in options):
        return None
    alternative = next((o for o in options if int(o.get("capacity_remaining", 0)) > 0), None)
    return RuleHit(
        rule_id=rule.id,
        kind=rule.kind,
        effect=rule.effect,
        reason="That delivery option is not confirmed for your location right now.",
        repair=RepairHint(
            rule_id=rule.id,
            alternative=dict(params, option_id=alternative["option_id"]) if alternative else None,
        ),
    )
