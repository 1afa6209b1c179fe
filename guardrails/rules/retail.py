"""Retail support rules (the tau-bench retail policy's deterministically checkable part).

Each check reads the proposal's parameters and the retail facts (order, the session's
user, the products of the lines an items change names) and returns a ``RuleHit`` or
``None``. A check whose facts are missing fires (fail closed) unless another rule
already owns that failure: an item that is not in the order is reported once, by
``retail_items_in_order``, and skipped by the product checks.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from guardrails.facts import FactBundle
from guardrails.retail_facts import RetailFactBundle
from guardrails.rule_kinds_retail import (
    RetailCancelReasonRule,
    RetailGiftCardBalanceRule,
    RetailItemAvailableRule,
    RetailItemsInOrderRule,
    RetailModifiedOnceRule,
    RetailNewItemDiffersRule,
    RetailOrderOwnerRule,
    RetailOrderStatusRule,
    RetailPaymentChangeRule,
    RetailPaymentMethodOfUserRule,
    RetailRefundDestinationRule,
    RetailSameProductRule,
)
from guardrails.verdict import RepairHint, RuleHit
from sandbox.money import cents, dollars
from tools.spec import ToolContext

Params = dict[str, Any]

RETAIL_POLICY_PATH = Path(__file__).resolve().parents[1] / "policies" / "retail.yaml"
"""The retail support policy these checks serve (the shopping policy stays the default)."""


def _hit(rule: Any, reason: str, repair: RepairHint | None = None) -> RuleHit:
    return RuleHit(
        rule_id=rule.id, kind=rule.kind, effect=rule.effect, reason=reason, repair=repair
    )


def _retail(facts: FactBundle) -> RetailFactBundle:
    return facts if isinstance(facts, RetailFactBundle) else RetailFactBundle()


def _order(facts: FactBundle) -> dict[str, Any] | None:
    return _retail(facts).retail_order


def _pairs(params: Params, facts: RetailFactBundle) -> list[tuple[dict[str, Any], str]]:
    """(order line, new item id) for every old item that is in the order."""
    old = [str(i) for i in params.get("item_ids", [])]
    new = [str(i) for i in params.get("new_item_ids", [])]
    lines = facts.lines_for(old)
    return [(line, n) for line, n in zip(lines, new, strict=False) if line is not None]


def _variant(facts: RetailFactBundle, line: dict[str, Any], new_id: str) -> dict[str, Any] | None:
    product = facts.retail_products.get(str(line["product_id"]), {})
    variant: dict[str, Any] | None = product.get("variants", {}).get(new_id)
    return variant


def price_difference_cents(params: Params, facts: FactBundle) -> int | None:
    """New minus old price over the items changed, in cents; None when one is unknown."""
    retail = _retail(facts)
    pairs = _pairs(params, retail)
    if len(pairs) != len(params.get("item_ids", [])):
        return None
    total = 0
    for line, new_id in pairs:
        variant = _variant(retail, line, new_id)
        if variant is None:
            return None
        total += cents(variant["price"]) - cents(line["price"])
    return total


def order_owner(
    rule: RetailOrderOwnerRule, params: Params, facts: FactBundle, ctx: ToolContext
) -> RuleHit | None:
    order = _order(facts)
    owners = [str(params["user_id"])] if "user_id" in params else []
    if order is not None:
        owners.append(str(order.get("user_id")))
    elif "order_id" in params:
        owners.append("")  # the order was not read: cannot confirm whose it is
    if all(owner == ctx.customer_id for owner in owners):
        return None
    return _hit(rule, "That order or account belongs to a different user than the one signed in.")


def order_status(
    rule: RetailOrderStatusRule, params: Params, facts: FactBundle, ctx: ToolContext
) -> RuleHit | None:
    order = _order(facts)
    status = None if order is None else order.get("status")
    if status in rule.params.statuses:
        return None
    wanted = " or ".join(repr(s) for s in rule.params.statuses)
    return _hit(rule, f"The order is {status!r}; this action needs an order that is {wanted}.")


def modified_once(
    rule: RetailModifiedOnceRule, params: Params, facts: FactBundle, ctx: ToolContext
) -> RuleHit | None:
    order = _order(facts)
    if order is None or order.get("status") not in rule.params.statuses:
        return None
    return _hit(
        rule,
        "This order's items were already modified; it cannot be modified or cancelled again.",
    )


def cancel_reason(
    rule: RetailCancelReasonRule, params: Params, facts: FactBundle, ctx: ToolContext
) -> RuleHit | None:
    reason = params.get("reason")
    if reason in rule.params.allowed:
        return None
    allowed = " or ".join(repr(r) for r in rule.params.allowed)
    return _hit(
        rule,
        f"A cancellation reason must be {allowed}, not {reason!r}.",
        RepairHint(rule_id=rule.id, alternative={"reason": rule.params.allowed[0]}),
    )


def items_in_order(
    rule: RetailItemsInOrderRule, params: Params, facts: FactBundle, ctx: ToolContext
) -> RuleHit | None:
    order = _order(facts)
    if order is None:
        return _hit(rule, "The order could not be read to check its items.")
    item_ids = [str(i) for i in params.get("item_ids", [])]
    if "new_item_ids" in params and len(params["new_item_ids"]) != len(item_ids):
        return _hit(rule, "Each item to change needs exactly one new item, in the same position.")
    in_order = Counter(str(item["item_id"]) for item in order.get("items", []))
    missing = sorted(i for i, n in Counter(item_ids).items() if n > in_order[i])
    if missing:
        return _hit(rule, f"Not in order {order['order_id']} (or named too often): {missing}.")
    done = set(order.get("return_items", [])) | set(order.get("exchange_items", []))
    repeated = sorted(set(item_ids) & done)
    if repeated:
        return _hit(rule, f"Already returned or exchanged: {repeated}.")
    return None


def same_product(
    rule: RetailSameProductRule, params: Params, facts: FactBundle, ctx: ToolContext
) -> RuleHit | None:
    retail = _retail(facts)
    wrong = [
        new_id for line, new_id in _pairs(params, retail) if _variant(retail, line, new_id) is None
    ]
    if not wrong:
        return None
    return _hit(
        rule,
        f"{wrong} are not variants of the product they replace; an item can only change to "
        "another option of the same product.",
    )


def new_item_differs(
    rule: RetailNewItemDiffersRule, params: Params, facts: FactBundle, ctx: ToolContext
) -> RuleHit | None:
    same = sorted(
        {new_id for line, new_id in _pairs(params, _retail(facts)) if line["item_id"] == new_id}
    )
    if not same:
        return None
    return _hit(rule, f"{same}: the new item must have different options from the old one.")


def item_available(
    rule: RetailItemAvailableRule, params: Params, facts: FactBundle, ctx: ToolContext
) -> RuleHit | None:
    retail = _retail(facts)
    unavailable = sorted(
        {
            new_id
            for line, new_id in _pairs(params, retail)
            if (variant := _variant(retail, line, new_id)) is not None
            and not variant.get("available")
        }
    )
    if not unavailable:
        return None
    return _hit(rule, f"{unavailable} cannot be ordered now (not available).")


def payment_method_of_user(
    rule: RetailPaymentMethodOfUserRule, params: Params, facts: FactBundle, ctx: ToolContext
) -> RuleHit | None:
    user = _retail(facts).retail_user
    method_id = params.get("payment_method_id")
    if user is not None and method_id in user.get("payment_methods", {}):
        return None
    return _hit(rule, f"{method_id!r} is not one of the user's payment methods.")


def refund_destination(
    rule: RetailRefundDestinationRule, params: Params, facts: FactBundle, ctx: ToolContext
) -> RuleHit | None:
    retail = _retail(facts)
    order = retail.retail_order or {}
    method_id = params.get("payment_method_id")
    paid_with = {
        p["payment_method_id"]
        for p in order.get("payment_history", [])
        if p.get("transaction_type") == "payment"
    }
    method = (retail.retail_user or {}).get("payment_methods", {}).get(method_id, {})
    if method_id in paid_with:
        return None
    if rule.params.allow_gift_card and method.get("source") == "gift_card":
        return None
    original = sorted(paid_with)
    return _hit(
        rule,
        f"A refund goes to the order's original payment method {original} or a gift card "
        f"of the user, not {method_id!r}.",
        RepairHint(
            rule_id=rule.id,
            alternative={"payment_method_id": original[0]} if len(original) == 1 else None,
        ),
    )


def gift_card_balance(
    rule: RetailGiftCardBalanceRule, params: Params, facts: FactBundle, ctx: ToolContext
) -> RuleHit | None:
    retail = _retail(facts)
    method_id = params.get("payment_method_id")
    method = (retail.retail_user or {}).get("payment_methods", {}).get(method_id)
    if method is None or method.get("source") != "gift_card":
        return None  # not a gift card (whose it is, is another rule's question)
    if "new_item_ids" in params:
        needed = price_difference_cents(params, facts)
    else:
        history = (retail.retail_order or {}).get("payment_history", [])
        needed = sum(
            cents(p["amount"]) * (1 if p["transaction_type"] == "payment" else -1) for p in history
        )
    balance = cents(float(method.get("balance", 0.0)))
    if needed is not None and needed <= balance:
        return None
    if needed is None:
        return _hit(rule, "The amount the gift card must cover could not be computed.")
    return _hit(
        rule,
        f"Gift card {method_id} has ${dollars(balance):.2f}; it must cover ${dollars(needed):.2f}.",
        RepairHint(rule_id=rule.id, limit=dollars(balance), actual=dollars(needed), headroom=0.0),
    )


def payment_change(
    rule: RetailPaymentChangeRule, params: Params, facts: FactBundle, ctx: ToolContext
) -> RuleHit | None:
    history = (_order(facts) or {}).get("payment_history", [])
    if len(history) != 1 or history[0].get("transaction_type") != "payment":
        return _hit(rule, "Only an order paid with exactly one payment can change its method.")
    if history[0].get("payment_method_id") == params.get("payment_method_id"):
        return _hit(rule, "The new payment method must differ from the current one.")
    return None
