"""Customer scope and support actions on orders."""

from __future__ import annotations

from typing import Any

from guardrails.facts import FactBundle
from guardrails.rule_kinds import CustomerScopeRule, RefundWithinPaidRule
from guardrails.verdict import RepairHint, RuleHit
from tools.spec import ToolContext


def customer_scope(
    rule: CustomerScopeRule, params: dict[str, Any], facts: FactBundle, ctx: ToolContext
) -> RuleHit | None:
    named = params.get("customer_id")
    owners = [named] if named is not None else []
    if facts.order is not None:
        owners.append(facts.order.get("customer_id"))
    if facts.cart is not None:
        owners.append(facts.cart.get("customer_id"))
    if all(owner == ctx.customer_id for owner in owners):
        return None
    return RuleHit(
        rule_id=rule.id,
        kind=rule.kind,
        effect=rule.effect,
        reason="That belongs to a different customer account than the one signed in.",
    )


def refund_within_paid(
    rule: RefundWithinPaidRule, params: dict[str, Any], facts: FactBundle, ctx: ToolContext
) -> RuleHit | None:
    assert facts.order is not None
    refundable = float(facts.order.get("refundable_amount", 0.0))
    amount = float(params.get("amount") or 0.0)
    if 0 < amount <= refundable + 1e-6:
        return None
    return RuleHit(
        rule_id=rule.id,
        kind=rule.kind,
        effect=rule.effect,
        reason=(
            f"A refund of ${amount:.2f} exceeds the ${refundable:.2f} still refundable."
            if refundable > 0
            else "Nothing is left to refund on this order."
        ),
        repair=RepairHint(
            rule_id=rule.id,
            limit=refundable,
            actual=amount,
            headroom=refundable,
            alternative=dict(params, amount=refundable) if refundable > 0 else None,
        ),
    )
