"""The retail rule functions, on hand-built facts (no services)."""

from __future__ import annotations

from typing import Any, cast

import pytest

from guardrails.facts import FactBundle
from guardrails.policy import Policy, Rule, load_policy
from guardrails.retail_facts import RetailFactBundle
from guardrails.rules import check
from guardrails.rules.retail import RETAIL_POLICY_PATH, price_difference_cents
from tools.client import CapabilityClient
from tools.spec import ToolContext

POLICY: Policy = load_policy(RETAIL_POLICY_PATH).policy
CTX = ToolContext(
    customer_id="sara_doe_1",
    session_id="s",
    channel="copilot",
    region="",
    postcode="",
    loyalty_tier="",
    client=cast(CapabilityClient, None),
)


def _rule(rule_id: str) -> Rule:
    return next(r for r in POLICY.rules if r.id == rule_id)


def _facts(status: str = "pending", **order_extra: Any) -> RetailFactBundle:
    order = {
        "order_id": "#W1",
        "user_id": "sara_doe_1",
        "status": status,
        "items": [
            {"item_id": "111", "product_id": "P1", "price": 50.0},
            {"item_id": "111", "product_id": "P1", "price": 50.0},
            {"item_id": "222", "product_id": "P2", "price": 20.0},
        ],
        "payment_history": [
            {"transaction_type": "payment", "amount": 120.0, "payment_method_id": "credit_card_1"}
        ],
        **order_extra,
    }
    user = {
        "user_id": "sara_doe_1",
        "payment_methods": {
            "credit_card_1": {"source": "credit_card", "id": "credit_card_1"},
            "paypal_1": {"source": "paypal", "id": "paypal_1"},
            "gift_card_1": {"source": "gift_card", "id": "gift_card_1", "balance": 10.0},
        },
    }
    products = {
        "P1": {
            "product_id": "P1",
            "variants": {
                "111": {"item_id": "111", "available": True, "price": 50.0},
                "112": {"item_id": "112", "available": True, "price": 60.0},
                "113": {"item_id": "113", "available": False, "price": 55.0},
            },
        },
        "P2": {"product_id": "P2", "variants": {"222": {"available": True, "price": 20.0}}},
    }
    return RetailFactBundle(retail_order=order, retail_user=user, retail_products=products)


def _fires(rule_id: str, params: dict[str, Any], facts: FactBundle) -> bool:
    return check(_rule(rule_id), params, facts, CTX) is not None


def test_own_order_checks_the_order_owner_and_a_named_user() -> None:
    assert not _fires("retail.own_order", {"order_id": "#W1"}, _facts())
    other = _facts()
    assert other.retail_order is not None
    other.retail_order["user_id"] = "someone_else_2"
    assert _fires("retail.own_order", {"order_id": "#W1"}, other)
    assert _fires("retail.own_order", {"user_id": "someone_else_2"}, FactBundle())
    assert _fires("retail.own_order", {"order_id": "#W1"}, FactBundle())  # unread: fail closed


@pytest.mark.parametrize(
    ("status", "rule_id", "fires"),
    [
        ("pending", "retail.pending_only", False),
        ("processed", "retail.pending_only", True),
        ("pending (item modified)", "retail.pending_only", True),
        ("pending (item modified)", "retail.modify_once", True),
        ("pending", "retail.modify_once", False),
        ("delivered", "retail.delivered_only", False),
        ("return requested", "retail.delivered_only", True),
    ],
)
def test_status_rules(status: str, rule_id: str, fires: bool) -> None:
    assert _fires(rule_id, {"order_id": "#W1"}, _facts(status)) is fires


def test_cancel_reason_is_one_of_the_allowed_values_with_a_repair() -> None:
    assert not _fires("retail.cancel_reason", {"reason": "ordered by mistake"}, _facts())
    hit = check(_rule("retail.cancel_reason"), {"reason": "too slow"}, _facts(), CTX)
    assert hit is not None and hit.repair is not None
    assert hit.repair.alternative == {"reason": "no longer needed"}


def test_items_must_be_in_the_order_as_often_as_named_and_not_done() -> None:
    rule = "retail.items_in_order"
    assert not _fires(rule, {"item_ids": ["111", "111"], "new_item_ids": ["112", "112"]}, _facts())
    assert _fires(rule, {"item_ids": ["111", "111", "111"]}, _facts())
    assert _fires(rule, {"item_ids": ["999"]}, _facts())
    assert _fires(rule, {"item_ids": ["111"], "new_item_ids": []}, _facts())
    assert _fires(rule, {"item_ids": ["222"]}, _facts(return_items=["222"]))


def test_new_items_same_product_different_and_available() -> None:
    ok = {"item_ids": ["111"], "new_item_ids": ["112"]}
    for rule in ("retail.same_product", "retail.different_option", "retail.available_item"):
        assert not _fires(rule, ok, _facts()), rule
    assert _fires("retail.same_product", {"item_ids": ["111"], "new_item_ids": ["222"]}, _facts())
    assert _fires(
        "retail.different_option", {"item_ids": ["111"], "new_item_ids": ["111"]}, _facts()
    )
    assert _fires("retail.available_item", {"item_ids": ["111"], "new_item_ids": ["113"]}, _facts())
    # an item that is not in the order is items_in_order's to report, not these rules'
    assert not _fires(
        "retail.same_product", {"item_ids": ["999"], "new_item_ids": ["222"]}, _facts()
    )


def test_payment_method_must_be_the_users() -> None:
    assert not _fires("retail.users_payment_method", {"payment_method_id": "paypal_1"}, _facts())
    assert _fires("retail.users_payment_method", {"payment_method_id": "paypal_9"}, _facts())


def test_refund_goes_to_the_original_method_or_a_gift_card() -> None:
    rule = "retail.refund_destination"
    assert not _fires(rule, {"payment_method_id": "credit_card_1"}, _facts("delivered"))
    assert not _fires(rule, {"payment_method_id": "gift_card_1"}, _facts("delivered"))
    hit = check(_rule(rule), {"payment_method_id": "paypal_1"}, _facts("delivered"), CTX)
    assert hit is not None and hit.repair is not None
    assert hit.repair.alternative == {"payment_method_id": "credit_card_1"}


def test_gift_card_must_cover_a_positive_difference_or_the_total() -> None:
    rule = "retail.gift_card_covers"
    up = {"item_ids": ["111"], "new_item_ids": ["112"], "payment_method_id": "gift_card_1"}
    assert price_difference_cents(up, _facts()) == 1000
    assert not _fires(rule, up, _facts())  # 10.00 covers exactly 10.00
    both = dict(up, item_ids=["111", "111"], new_item_ids=["112", "112"])
    assert _fires(rule, both, _facts())  # 20.00 > 10.00
    down = dict(up, new_item_ids=["111"])
    assert not _fires(rule, down, _facts())
    assert not _fires(rule, dict(both, payment_method_id="paypal_1"), _facts())
    assert _fires(rule, {"payment_method_id": "gift_card_1"}, _facts())  # payment change: 120.00


def test_payment_change_needs_one_payment_and_a_different_method() -> None:
    rule = "retail.payment_change"
    assert not _fires(rule, {"payment_method_id": "paypal_1"}, _facts())
    assert _fires(rule, {"payment_method_id": "credit_card_1"}, _facts())
    two = _facts()
    assert two.retail_order is not None
    two.retail_order["payment_history"].append(
        {"transaction_type": "refund", "amount": 5.0, "payment_method_id": "credit_card_1"}
    )
    assert _fires(rule, {"payment_method_id": "paypal_1"}, two)


def test_the_retail_policy_covers_every_retail_action() -> None:
    from tools.retail import RETAIL_ACTION_TYPES

    for action in RETAIL_ACTION_TYPES:
        assert POLICY.rules_for(action), action
    assert not POLICY.rules_for("offer_discount")
