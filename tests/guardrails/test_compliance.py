"""Compliance and support-action rules over the real in-process sandbox."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from agent.runtime import Arbiter
from guardrails.policy import DEFAULT_POLICY_PATH, parse_policy
from guardrails.rate_limit import SqliteRateLimiter, rate_limiter_for, rate_scope, use_rate_limiter
from guardrails.validator import Validator
from guardrails.verdict import ProposedAction, RateClaim, Verdict
from tests.guardrails.sandbox_support import proposal, put_in_cart, session_context
from tests.guardrails.test_ledger_postgres import BACKENDS, backend
from tools.facts import read_order, read_product

DEFAULT = DEFAULT_POLICY_PATH.read_text()


async def _verdict(
    arbiter: Arbiter,
    action: ProposedAction,
    customer_id: str = "C1001",
    validator: Validator | None = None,
) -> Verdict:
    validator = validator or arbiter.deps.validator
    return await validator.evaluate(action, await session_context(arbiter, customer_id))


def _validator(arbiter: Arbiter, text: str) -> Validator:
    return Validator(parse_policy(text.encode()), arbiter.deps.validator.ledger)


# --- compliance -------------------------------------------------------------------------


async def test_a_region_restricted_sku_is_denied_there_and_allowed_elsewhere(
    arbiter: Arbiter,
) -> None:
    product = await read_product(arbiter.client, "FIT-00009")
    assert product["restricted_regions"] == ["east"]
    add = proposal("add_to_cart", sku="FIT-00009", quantity=1)
    east = await _verdict(arbiter, add, customer_id="C1003")  # east
    central = await _verdict(arbiter, add, customer_id="C1001")
    assert east.outcome == "deny" and east.rule_ids == ["compliance.region_restriction"]
    assert "east" in east.reasons[0]
    assert central.outcome == "allow", central.reasons
    assert "customer" in {f.kind for f in central.facts}


async def test_an_m_rated_game_needs_a_verified_age(arbiter: Arbiter) -> None:
    product = await read_product(arbiter.client, "VGM-00029")
    assert product["age_restricted"] is True
    unverified = await arbiter.client.get("/customers/C1004")
    assert unverified["age_verified"] is False
    add = proposal("add_to_cart", sku="VGM-00029", quantity=1)
    denied = await _verdict(arbiter, add, customer_id="C1004")
    allowed = await _verdict(arbiter, add, customer_id="C1001")
    assert denied.outcome == "deny" and denied.rule_ids == ["compliance.age_verified"]
    assert allowed.outcome == "allow", allowed.reasons


async def test_a_brand_that_forbids_discounts_gets_none(arbiter: Arbiter) -> None:
    found = await arbiter.client.get(
        "/catalog/products", params={"brand": "Aurum Audio", "in_stock": True}
    )
    sku = found["items"][0]["sku"]
    await put_in_cart(arbiter, sku)
    verdict = await _verdict(
        arbiter, proposal("offer_discount", sku=sku, percent=5, reason="goodwill", competitor=None)
    )
    assert verdict.outcome == "deny" and verdict.rule_ids == ["compliance.no_discount_brand"]
    repair = verdict.repair
    assert repair is not None and repair.limit == 0 and repair.alternative is None


async def test_a_tier_only_promotion_is_refused_for_a_lower_tier(arbiter: Arbiter) -> None:
    apply = proposal("apply_promotion", code="GOLD15")
    bronze = await _verdict(arbiter, apply, customer_id="C1002")
    gold = await _verdict(arbiter, apply, customer_id="C1001")
    assert bronze.outcome == "deny" and bronze.rule_ids == ["promotion.tier_only"]
    assert "bronze" in bronze.reasons[0]
    assert gold.outcome == "allow", gold.reasons


async def test_a_non_stackable_promotion_does_not_join_another(arbiter: Arbiter) -> None:
    cart_id = await put_in_cart(arbiter, "RUN-00005")
    cart = await arbiter.client.post(
        f"/carts/{cart_id}/promotions", json={"code": "RUNNER10"}, idempotency_key="p-runner"
    )
    assert "RUNNER10" in cart["promotions"]
    not_stackable = await _verdict(arbiter, proposal("apply_promotion", code="TRAIL15"))
    stackable = await _verdict(arbiter, proposal("apply_promotion", code="WELCOME5"))
    assert not_stackable.outcome == "deny"
    assert not_stackable.rule_ids == ["promotion.stacking"]
    assert "RUNNER10" in not_stackable.reasons[0]
    assert stackable.outcome == "allow", stackable.reasons


async def test_rate_limit_counts_executions_in_a_sliding_window(arbiter: Arbiter) -> None:
    text = DEFAULT.replace("max_actions: 20", "max_actions: 2")
    validator = _validator(arbiter, text)
    now = [1_000_000.0]
    limiter = SqliteRateLimiter(arbiter.settings.path("budget.sqlite"), clock=lambda: now[0])
    use_rate_limiter(validator.ledger, limiter)
    add = proposal("add_to_cart", sku="RUN-00005", quantity=1)
    for n in range(2):
        verdict = await _verdict(arbiter, add, validator=validator)
        assert verdict.outcome == "allow", verdict.reasons
        assert [c.rule_id for c in verdict.rate_limits] == ["rate.session_actions"]
        assert limiter.acquire(verdict.rate_limits, f"e{n}", "add_to_cart")
        now[0] += 10
    third = await _verdict(arbiter, add, validator=validator)
    assert third.outcome == "deny" and third.rule_ids == ["rate.session_actions"]
    assert third.repair is not None and third.repair.alternative == {"retry_after_seconds": 40.0}
    # Execution enforces it too: the count and the insert are one transaction.
    assert not limiter.acquire(third.rate_limits, "e2", "add_to_cart")
    assert limiter.acquire(third.rate_limits, "e1", "add_to_cart")  # a retry is idempotent
    now[0] += 41  # the first execution left the window
    after = await _verdict(arbiter, add, validator=validator)
    assert after.outcome == "allow", after.reasons
    # Another session is counted on its own.
    other = await validator.evaluate(add, await session_context(arbiter, session_id="ses_other"))
    assert other.outcome == "allow"
    limiter.close()


# --- support actions on orders ----------------------------------------------------------


async def test_refunds_go_to_the_original_method_or_a_gift_card(arbiter: Arbiter) -> None:
    def refund(method: str) -> ProposedAction:
        return proposal(
            "request_refund", order_id="O100001", amount=10.0, reason="x", method=method
        )

    for method in ("original", "gift_card"):
        assert (await _verdict(arbiter, refund(method))).outcome == "allow"
    denied = await _verdict(arbiter, refund("store_credit"))
    assert denied.outcome == "deny" and denied.rule_ids == ["refund.method"]
    assert denied.repair is not None and denied.repair.alternative is not None
    assert denied.repair.alternative["method"] == "original"


async def test_returns_only_for_delivered_orders_inside_the_window(arbiter: Arbiter) -> None:
    inside = await read_order(arbiter.client, "O100001")
    outside = await read_order(arbiter.client, "O100002")
    assert inside["status"] == outside["status"] == "delivered"
    assert outside["return_window_ends"] < outside["as_of"] < inside["return_window_ends"]

    def ret(order: dict[str, Any]) -> ProposedAction:
        sku = order["lines"][0]["sku"]
        return proposal("request_return", order_id=order["order_id"], skus=[sku], reason="x")

    allowed = await _verdict(arbiter, ret(inside))
    late = await _verdict(arbiter, ret(outside))
    pending = await _verdict(arbiter, ret(await read_order(arbiter.client, "O100003")))
    assert allowed.outcome == "allow", allowed.reasons
    assert late.outcome == "deny" and late.rule_ids == ["return.window"]
    assert "ended" in late.reasons[0]
    assert pending.outcome == "deny" and pending.rule_ids == ["return.window"]
    assert "pending" in pending.reasons[0]


async def test_a_return_names_only_the_orders_items_and_none_twice(arbiter: Arbiter) -> None:
    order = await read_order(arbiter.client, "O100001")
    sku = order["lines"][0]["sku"]
    assert order["returned_skus"] == []

    def ret(*skus: str) -> ProposedAction:
        return proposal("request_return", order_id="O100001", skus=list(skus), reason="x")

    assert (await _verdict(arbiter, ret(sku))).outcome == "allow"
    foreign = await _verdict(arbiter, ret(sku, "RUN-99999"))
    assert foreign.outcome == "deny" and foreign.rule_ids == ["return.items"]
    assert "RUN-99999 is not part of this order" in foreign.reasons[0]
    await arbiter.client.post(
        "/orders/O100001/returns", json={"skus": [sku], "reason": "x"}, idempotency_key="k1"
    )
    assert (await read_order(arbiter.client, "O100001"))["returned_skus"] == [sku]
    again = await _verdict(arbiter, ret(sku))
    assert again.outcome == "deny" and again.rule_ids == ["return.items"]
    assert f"already authorized for {sku}" in again.reasons[0]


async def test_only_pending_orders_can_be_cancelled(arbiter: Arbiter) -> None:
    pending = await _verdict(arbiter, proposal("cancel_order", order_id="O100003", reason="x"))
    delivered = await _verdict(arbiter, proposal("cancel_order", order_id="O100001", reason="x"))
    assert pending.outcome == "allow", pending.reasons
    assert delivered.outcome == "deny" and delivered.rule_ids == ["cancel.pending_only"]


async def test_thresholds_send_large_refunds_and_credits_to_a_human(arbiter: Arbiter) -> None:
    text = DEFAULT.replace("max_amount: 500", "max_amount: 100").replace(
        "max_amount: 75", "max_amount: 10"
    )
    validator = _validator(arbiter, text)
    big = await _verdict(
        arbiter,
        proposal("request_refund", order_id="O100001", amount=None, reason="x", method="original"),
        validator=validator,
    )
    small = await _verdict(
        arbiter,
        proposal("request_refund", order_id="O100001", amount=50.0, reason="x", method="original"),
        validator=validator,
    )
    assert big.outcome == "require_approval" and big.rule_ids == ["approval.refund_amount"]
    assert small.outcome == "allow"

    await put_in_cart(arbiter, "RUN-00005")
    credit = await _verdict(
        arbiter,
        proposal("offer_discount", sku="RUN-00005", percent=20, reason="goodwill", competitor=None),
        validator=validator,
    )
    assert credit.outcome == "require_approval"
    assert credit.rule_ids == ["approval.goodwill_amount"]
    repair = credit.repair
    assert repair is not None and repair.alternative is not None
    assert repair.alternative["percent"] == 11  # $10 of $89.99


async def test_a_discount_percent_above_the_tier_threshold_needs_approval(
    arbiter: Arbiter,
) -> None:
    await put_in_cart(arbiter, "RUN-00005", customer_id="C1002")  # bronze: 10%
    await put_in_cart(arbiter, "RUN-00005")  # gold: no threshold
    over = await _verdict(
        arbiter,
        proposal("offer_discount", sku="RUN-00005", percent=12, reason="loyalty", competitor=None),
        customer_id="C1002",
    )
    within = await _verdict(
        arbiter,
        proposal("offer_discount", sku="RUN-00005", percent=8, reason="loyalty", competitor=None),
        customer_id="C1002",
    )
    gold = await _verdict(
        arbiter,
        proposal("offer_discount", sku="RUN-00005", percent=12, reason="loyalty", competitor=None),
    )
    assert over.outcome == "require_approval"
    assert over.rule_ids == ["approval.tier_discount"]
    assert over.repair is not None and over.repair.alternative is not None
    assert over.repair.alternative["percent"] == 10
    assert within.outcome == "allow", within.reasons
    assert gold.outcome == "allow", gold.reasons


# --- the rate limiter's backends -----------------------------------------------------------


@pytest.mark.parametrize("kind", BACKENDS)
def test_rate_limit_holds_across_replicas_and_threads(kind: str, tmp_path: Path) -> None:
    claim = RateClaim(
        rule_id="r",
        scope=rate_scope("s1"),
        window_seconds=60,
        max_actions=3,
        counted_types=["add_to_cart", "offer_discount"],
    )
    with backend(kind, tmp_path) as db:
        replicas = [rate_limiter_for(db.stores().ledger) for _ in range(2)]
        for limiter in replicas:
            limiter.clock = lambda: 5_000.0
        # Action types the rule does not cover are recorded but not counted.
        assert all(replicas[0].acquire([claim], f"x{n}", "cancel_order") for n in range(3))
        with ThreadPoolExecutor(max_workers=8) as pool:
            taken = list(
                pool.map(
                    lambda n: replicas[n % 2].acquire([claim], f"e{n}", "add_to_cart"), range(8)
                )
            )
        assert sum(taken) == 3
        # A retried entry is idempotent; a new one finds the window full.
        winner = f"e{taken.index(True)}"
        assert replicas[0].acquire([claim], winner, "add_to_cart")
        assert not replicas[1].acquire([claim], "late", "offer_discount")
        assert [kind for _, kind in replicas[0].recent(rate_scope("s1"))].count("add_to_cart") == 3
        replicas[1].release(winner)
        assert replicas[0].acquire([claim], "after-release", "offer_discount")
        for limiter in replicas:
            limiter.clock = lambda: 5_061.0
        assert replicas[1].acquire([claim], "next-minute", "add_to_cart")
