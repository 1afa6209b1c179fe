"""The offline planner end to end over the in-process sandbox, one test per intent."""

from __future__ import annotations

import re
from typing import Any

from agent.results import TurnResult
from agent.runtime import Arbiter
from sandbox.seed import SAMPLE_CUSTOMER_ID
from tools.facts import read_cart, read_order, read_price, read_product

SKU = re.compile(r"\b[A-Z]{3}-\d{5}\b")


async def _ask(arbiter: Arbiter, *messages: str, customer: str = SAMPLE_CUSTOMER_ID) -> TurnResult:
    session = await arbiter.start_session(customer)
    result: TurnResult | None = None
    for message in messages:
        result = await arbiter.ask(session.session_id, message)
    assert result is not None
    return result


def _tools(result: TurnResult) -> list[str]:
    return [c.tool for c in result.record.context]


async def _customer(arbiter: Arbiter) -> dict[str, Any]:
    return dict(await arbiter.client.get(f"/customers/{SAMPLE_CUSTOMER_ID}"))


async def test_constrained_search_with_pickup_today(arbiter: Arbiter) -> None:
    result = await _ask(arbiter, "I need running shoes size 10 under $120 that I can pick up today")
    record = result.record
    assert _tools(result)[0] == "search_products"
    search = record.context[0].args
    assert search["category"] == "running-shoes" and search["max_price"] == 120
    assert {"name": "size", "value": "10"} in search["attributes"]
    listed = SKU.findall(result.text)
    assert listed, result.text
    region = (await _customer(arbiter))["region"]
    locations = {
        loc["location_id"]: loc for loc in await arbiter.client.get("/inventory/locations")
    }
    for sku in set(listed):
        price = (await read_price(arbiter.client, sku))["list_price"]
        product = await read_product(arbiter.client, sku)
        assert f"${price:.2f}" in result.text
        assert price < 120 and product["attributes"]["size"] == "10"
        options = next(
            c.result
            for c in record.context
            if c.tool == "get_delivery_options" and c.args["sku"] == sku
        )
        pickup = [
            o
            for o in options["options"]
            if o["kind"] == "store_pickup" and o["available"] and o["ready_today"]
        ]
        assert pickup and all(locations[o["location_id"]]["region"] == region for o in pickup)
    assert not record.output_repaired and record.executions == []


async def test_price_check(arbiter: Arbiter) -> None:
    result = await _ask(arbiter, "how much is RUN-00005?")
    price = (await read_price(arbiter.client, "RUN-00005"))["list_price"]
    assert "get_price" in _tools(result) and f"${price:.2f}" in result.text


async def test_availability_for_my_region(arbiter: Arbiter) -> None:
    result = await _ask(arbiter, "is RUN-00005 available for pickup near me?")
    assert {"check_inventory", "get_delivery_options"} <= set(_tools(result))
    assert not result.record.output_repaired


async def test_add_to_cart_and_cart_summary(arbiter: Arbiter) -> None:
    session = await arbiter.start_session(SAMPLE_CUSTOMER_ID)
    added = await arbiter.ask(session.session_id, "add RUN-00005 to my cart")
    assert [(e.type, e.status) for e in added.record.executions] == [("add_to_cart", "executed")]
    summary = await arbiter.ask(session.session_id, "what's in my cart?")
    cart = await read_cart(arbiter.client, SAMPLE_CUSTOMER_ID)
    assert cart is not None and [(ln["sku"], ln["quantity"]) for ln in cart["lines"]] == [
        ("RUN-00005", 1)
    ]
    assert "RUN-00005" in summary.text and f"${cart['total']:.2f}" in summary.text


async def test_discount_beyond_policy_is_refused_with_reason_and_nothing_executes(
    arbiter: Arbiter,
) -> None:
    result = await _ask(arbiter, "add RUN-00005 to my cart", "can I get 50% off RUN-00005?")
    record = result.record
    assert [v.outcome for v in record.verdicts] == ["deny"]
    assert "discount.max_percent" in record.verdicts[0].rule_ids
    assert record.executions == []
    assert "maximum of 20%" in result.text
    cart = await read_cart(arbiter.client, SAMPLE_CUSTOMER_ID)
    assert cart is not None and all(not ln["discount_percent"] for ln in cart["lines"])


async def test_offered_alternative_is_applied_only_after_yes(arbiter: Arbiter) -> None:
    session = await arbiter.start_session(SAMPLE_CUSTOMER_ID)
    await arbiter.ask(session.session_id, "add RUN-00005 to my cart")
    offer = await arbiter.ask(session.session_id, "can I get 50% off RUN-00005?")
    alternative = offer.record.verdicts[0].hits[0].repair
    assert alternative is not None and alternative.alternative is not None
    accepted = await arbiter.ask(session.session_id, "yes please")
    assert [(e.type, e.status) for e in accepted.record.executions] == [
        ("offer_discount", "executed")
    ]
    cart = await read_cart(arbiter.client, SAMPLE_CUSTOMER_ID)
    assert cart is not None
    assert cart["lines"][0]["discount_percent"] == alternative.alternative["percent"]


async def test_price_match_uses_the_competitor_price_on_record(arbiter: Arbiter) -> None:
    result = await _ask(
        arbiter,
        "add RUN-00005 to my cart",
        "RunnerDepot has RUN-00005 cheaper, can you price match?",
    )
    verdict = result.record.verdicts[0]
    proposal = result.record.proposals[0]
    assert proposal.type == "offer_discount" and proposal.params["reason"] == "price_match"
    price = await read_price(arbiter.client, "RUN-00005")
    competitor = min(c["price"] for c in price["competitor_prices"])
    expected = round((price["list_price"] - competitor) / price["list_price"] * 100, 2)
    assert verdict.resolved_params["percent"] == expected


async def test_promo_code_application_is_validated(arbiter: Arbiter) -> None:
    result = await _ask(arbiter, "add RUN-00005 to my cart", "apply code GAMER50")
    execution = result.record.executions[0]
    assert execution.type == "apply_promotion"
    # GAMER50 needs a gaming laptop over $1,000: the promotion service refuses it.
    assert execution.status == "failed" and "applied" not in result.text.lower()


async def test_order_status(arbiter: Arbiter) -> None:
    result = await _ask(arbiter, "where is my order O100001?")
    order = await read_order(arbiter.client, "O100001")
    assert "get_order" in _tools(result) and order["status"] in result.text


async def test_return_request_for_a_delivered_order(arbiter: Arbiter) -> None:
    result = await _ask(arbiter, "I want to return order O100001, they don't fit")
    types = [(e.type, e.status) for e in result.record.executions]
    assert types == [("request_return", "executed")]


async def test_another_customers_order_is_out_of_scope(arbiter: Arbiter) -> None:
    orders = await arbiter.client.get("/orders", params={"customer_id": "C1002"})
    other = orders["items"][0]["order_id"]
    result = await _ask(arbiter, f"where is my order {other}?")
    call = result.record.context[0]
    assert call.status == "error" and call.error is not None
    assert call.error["code"] == "out_of_scope" and call.result is None
    assert "signed-in customer's own orders" in result.text
    assert other not in [e.params.get("order_id") for e in result.record.executions]


async def test_hand_off_to_a_human(arbiter: Arbiter) -> None:
    result = await _ask(arbiter, "I want to talk to a human")
    assert [(e.type, e.status) for e in result.record.executions] == [
        ("escalate_to_human", "executed")
    ]


async def test_out_of_domain_gets_an_honest_answer(arbiter: Arbiter) -> None:
    result = await _ask(arbiter, "what's the weather in Paris tomorrow?")
    assert "can't help" in result.text.lower() and result.record.context == []


async def test_records_are_chained_in_the_audit_store(arbiter: Arbiter) -> None:
    first = await _ask(arbiter, "hello")
    second = await _ask(arbiter, "how much is RUN-00005?")
    assert second.record.prev_hash == first.record.record_hash
    stored = arbiter.deps.audit.get(second.record.turn_id)
    assert stored is not None and stored.final_text == second.text
