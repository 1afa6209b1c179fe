"""Verdicts over the real in-process sandbox: facts are re-read, nothing is trusted."""

from __future__ import annotations

import pytest

from agent.runtime import Arbiter
from guardrails.validator import FAIL_CLOSED_RULE, Validator
from guardrails.verdict import ProposedAction, Verdict
from tests.guardrails.sandbox_support import proposal, put_in_cart, session_context
from tools.facts import read_order, read_price


async def _verdict(arbiter: Arbiter, action: ProposedAction) -> Verdict:
    return await arbiter.deps.validator.evaluate(action, await session_context(arbiter))


async def _skus(arbiter: Arbiter, category: str) -> list[str]:
    body = await arbiter.client.get(
        "/catalog/products", params={"category": category, "in_stock": True, "limit": 50}
    )
    return [item["sku"] for item in body["items"]]


async def test_discount_within_every_limit_is_allowed_with_facts_recorded(arbiter: Arbiter) -> None:
    await put_in_cart(arbiter, "RUN-00005")
    verdict = await _verdict(
        arbiter,
        proposal("offer_discount", sku="RUN-00005", percent=5, reason="goodwill", competitor=None),
    )
    assert verdict.outcome == "allow", verdict.reasons
    assert {f.kind for f in verdict.facts} >= {"price", "product", "cart", "budget"}
    assert verdict.policy_version == arbiter.deps.validator.policy.version
    assert verdict.budget is not None and verdict.budget.amount == pytest.approx(
        (await read_price(arbiter.client, "RUN-00005"))["list_price"] * 0.05, abs=0.01
    )


async def test_margin_floor_uses_the_pricing_services_unit_cost(arbiter: Arbiter) -> None:
    await put_in_cart(arbiter, "RUN-00005")
    action = proposal(
        "offer_discount", sku="RUN-00005", percent=5, reason="goodwill", competitor=None
    )
    assert (await _verdict(arbiter, action)).outcome == "allow"
    price = await read_price(arbiter.client, "RUN-00005")
    response = await arbiter.client.http.put(
        "/admin/prices/RUN-00005", json={"unit_cost": round(price["list_price"] * 0.9, 2)}
    )
    assert response.status_code < 300
    verdict = await _verdict(arbiter, action)
    assert verdict.outcome == "deny" and verdict.rule_ids == ["price.margin_floor"]
    assert verdict.repair is not None and verdict.repair.limit is not None
    assert verdict.repair.limit < 5


async def test_stock_rule_denies_beyond_available_with_a_repair(arbiter: Arbiter) -> None:
    stock = await arbiter.client.get("/inventory/stock/RUN-00005")
    wanted = stock["total_available"] + 1
    verdict = await _verdict(arbiter, proposal("add_to_cart", sku="RUN-00005", quantity=wanted))
    assert verdict.outcome == "deny" and verdict.rule_ids == ["inventory.available"]
    repair = verdict.repair
    assert repair is not None and repair.alternative == {
        "sku": "RUN-00005",
        "quantity": stock["total_available"],
    }


async def test_stock_is_re_read_at_validation_time(arbiter: Arbiter) -> None:
    allowed = await _verdict(arbiter, proposal("add_to_cart", sku="RUN-00005", quantity=1))
    assert allowed.outcome == "allow"
    stock = await arbiter.client.get("/inventory/stock/RUN-00005")
    for row in stock["locations"]:
        await arbiter.client.http.put(
            "/admin/stock",
            json={"sku": "RUN-00005", "location_id": row["location_id"], "on_hand": 0},
        )
    denied = await _verdict(arbiter, proposal("add_to_cart", sku="RUN-00005", quantity=1))
    assert denied.outcome == "deny" and denied.rule_ids == ["inventory.available"]


async def test_delivery_promise_only_for_an_option_confirmed_now(arbiter: Arbiter) -> None:
    ctx = await session_context(arbiter)
    options = await arbiter.client.get(
        "/fulfillment/options",
        params={"sku": "RUN-00005", "region": ctx.region, "postcode": ctx.postcode},
    )
    offered = next(o for o in options["options"] if o["available"])
    ok = await _verdict(
        arbiter,
        proposal("promise_delivery", sku="RUN-00005", quantity=1, option_id=offered["option_id"]),
    )
    bad = await _verdict(
        arbiter, proposal("promise_delivery", sku="RUN-00005", quantity=1, option_id="made-up")
    )
    assert ok.outcome == "allow"
    assert bad.outcome == "deny" and bad.rule_ids == ["fulfillment.confirmed_now"]


async def test_service_failure_fails_closed(arbiter: Arbiter) -> None:
    await put_in_cart(arbiter, "RUN-00005")
    response = await arbiter.client.http.put(
        "/admin/faults/pricing", json={"latency_ms": 0, "error_rate": 1.0}
    )
    assert response.status_code < 300
    verdict = await _verdict(
        arbiter,
        proposal("offer_discount", sku="RUN-00005", percent=5, reason="goodwill", competitor=None),
    )
    assert verdict.outcome == "deny" and verdict.rule_ids == [FAIL_CLOSED_RULE]


async def test_refund_bounded_by_what_was_paid(arbiter: Arbiter) -> None:
    order = await read_order(arbiter.client, "O100001")
    too_much = await _verdict(
        arbiter,
        proposal(
            "request_refund",
            order_id="O100001",
            amount=order["refundable_amount"] + 1,
            reason="x",
            method="original",
        ),
    )
    full = await _verdict(
        arbiter,
        proposal("request_refund", order_id="O100001", amount=None, reason="x", method="original"),
    )
    assert too_much.outcome == "deny" and too_much.rule_ids == ["refund.within_paid"]
    assert full.outcome == "allow"
    assert full.resolved_params["amount"] == order["refundable_amount"]


async def test_another_customers_order_is_denied(arbiter: Arbiter) -> None:
    orders = await arbiter.client.get("/orders", params={"customer_id": "C1002"})
    other = orders["items"][0]["order_id"]
    verdict = await _verdict(
        arbiter,
        proposal("request_refund", order_id=other, amount=1.0, reason="x", method="original"),
    )
    assert verdict.outcome == "deny" and "scope.session_customer" in verdict.rule_ids


async def test_session_budget_is_shared_across_proposals(arbiter: Arbiter) -> None:
    validator: Validator = arbiter.deps.validator
    await put_in_cart(arbiter, "RUN-00005", quantity=3)
    ctx = await session_context(arbiter, session_id="ses_budget")
    first = await validator.evaluate(
        proposal("offer_discount", sku="RUN-00005", percent=20, reason="goodwill", competitor=None),
        ctx,
    )
    assert first.outcome == "allow" and first.budget is not None
    assert validator.ledger.reserve(first.budget.scope, "e1", first.budget.amount, first.budget.cap)
    validator.ledger.commit("e1")
    second = await validator.evaluate(
        proposal("offer_discount", sku="RUN-00005", percent=20, reason="goodwill", competitor=None),
        ctx,
    )
    assert second.outcome == "deny" and "budget.session_discount" in second.rule_ids


async def test_price_match_needs_a_fresh_competitor_price_on_record(arbiter: Arbiter) -> None:
    await put_in_cart(arbiter, "RUN-00005")
    price = await read_price(arbiter.client, "RUN-00005")
    matched = round(price["list_price"] * 0.95, 2)
    for competitor, observed_at in (
        ("FreshMart", None),
        ("StaleMart", "2026-10-01T12:00:00+00:00"),
    ):
        response = await arbiter.client.http.post(
            "/admin/competitor-prices",
            json={
                "sku": "RUN-00005",
                "competitor": competitor,
                "price": matched,
                "observed_at": observed_at,
            },
        )
        assert response.status_code < 300, response.text

    def match(competitor: str) -> ProposedAction:
        # the model's percent is ignored: the match is computed from the price on record
        return proposal(
            "offer_discount",
            sku="RUN-00005",
            percent=40,
            reason="price_match",
            competitor=competitor,
        )

    fresh = await _verdict(arbiter, match("FreshMart"))
    stale = await _verdict(arbiter, match("StaleMart"))
    unknown = await _verdict(arbiter, match("NoSuchShop"))
    assert fresh.outcome == "allow", fresh.reasons
    assert fresh.resolved_params["percent"] == pytest.approx(5.0, abs=0.01)
    assert stale.outcome == "deny" and "price.match_fresh_competitor" in stale.rule_ids
    assert unknown.outcome == "deny" and "price.match_fresh_competitor" in unknown.rule_ids
