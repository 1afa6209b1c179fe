"""Intent classification and slot extraction, table-driven."""

from __future__ import annotations

import time
from typing import Any

import pytest

from agent.offline.intents import REASON_MAX_CHARS, classify
from agent.offline.offers import Offer, offer_sentence, parse_offer

KINDS = [
    ("I need running shoes size 10 under $120 that I can pick up today", "search"),
    ("show me gaming laptops with an RTX 4070", "search"),
    ("do you have headsets less than $80 near me", "search"),
    ("price of the Pegasus", "search"),
    ("how much is RUN-00042", "price_check"),
    ("how much is it?", "price_check"),
    ("how much is it compared to competitors?", "price_check"),
    ("is RUN-00042 in stock?", "availability"),
    ("can I pick it up today?", "availability"),
    ("apply RUNNER10", "promo"),
    ("use code save15", "promo"),
    ("any promo codes?", "promo"),
    ("can I get 50% off", "discount"),
    ("give me a discount", "discount"),
    ("price match RunMart at $89", "price_match"),
    ("SportsHub has it cheaper", "price_match"),
    ("add it", "add_to_cart"),
    ("add RUN-00042 to my cart", "add_to_cart"),
    ("add 2 of the first one", "add_to_cart"),
    ("remove RUN-00042 from my cart", "remove_from_cart"),
    ("what's in my cart", "cart"),
    ("cart total", "cart"),
    ("where is my order O100123", "order_status"),
    ("order status", "order_status"),
    ("I want to return order O100123", "return"),
    ("refund my order O100123", "refund"),
    ("cancel my order O100200", "cancel"),
    ("talk to a human", "handoff"),
    ("agent please", "handoff"),
    ("I want to make a complaint", "handoff"),
    ("hi", "greeting"),
    ("what can you do?", "greeting"),
    ("what's the weather like in Paris", "unknown"),
    ("yes", "unknown"),
]


@pytest.mark.parametrize(("text", "kind"), KINDS)
def test_classifies(text: str, kind: str) -> None:
    assert classify(text).kind == kind


def test_issue_sample_slots() -> None:
    intent = classify("I need running shoes size 10 under $120 that I can pick up today")
    assert intent.search.category == "running-shoes"
    assert intent.search.attributes == (("size", "10"),)
    assert intent.search.max_price == 120
    assert intent.search.min_price is None
    assert intent.search.query is None
    assert intent.fulfillment == "pickup_today"


SEARCH_SLOTS: list[tuple[str, dict[str, Any]]] = [
    ("sneakers 10.5 wide", {"category": "running-shoes", "size": "10.5", "width": "wide"}),
    ("trainers below 1500", {"category": "running-shoes", "max_price": 1500}),
    ("Nike trail shoes over $50", {"query": "Nike", "surface": "trail", "min_price": 50}),
    ("gaming laptop between $1000 and $1800", {"min_price": 1000, "max_price": 1800}),
    (
        "gaming laptop RTX 4070 32GB RAM 16 inch max $2000",
        {"gpu": "RTX 4070", "ram_gb": "32", "screen_in": "16", "max_price": 2000},
    ),
    ("a laptop bag", {"category": "laptop-accessories"}),
    ("gaming laptop cooling pad", {"category": "laptop-accessories"}),
    ("a gaming mouse", {"category": "laptop-accessories"}),
    ("laptop with at least 32GB RAM", {"category": "gaming-laptops", "min_price": None}),
    ("running socks", {"category": "running-accessories"}),
    ("yoga mat", {"category": "home-fitness"}),
    ("a hoodie", {"category": "apparel"}),
    ("women's trail running shoes size 9", {"gender": "women", "surface": "trail", "query": None}),
    ("mens sneakers", {"gender": "men", "query": None}),
    ("video games for the weekend", {"category": "video-games", "query": "weekend"}),
]


@pytest.mark.parametrize(("text", "expected"), SEARCH_SLOTS)
def test_search_slots(text: str, expected: dict[str, Any]) -> None:
    slots = classify(text).search
    attributes = dict(slots.attributes)
    for key, value in expected.items():
        actual = getattr(slots, key) if hasattr(slots, key) else attributes.get(key)
        assert actual == value, (key, slots)


@pytest.mark.parametrize(
    ("text", "fulfillment"),
    [
        ("running shoes I can pick up today", "pickup_today"),
        ("shoes in store today", "pickup_today"),
        ("headset with same-day delivery", "same_day"),
        ("laptop delivered tomorrow", "next_day"),
        ("socks near me", "pickup"),
        ("socks", None),
    ],
)
def test_fulfillment(text: str, fulfillment: str | None) -> None:
    assert classify(text).fulfillment == fulfillment


def test_action_slots() -> None:
    assert classify("add 2 of the first one").quantity == 2
    assert classify("add 2 of the first one").ordinal == 0
    assert classify("add the second one").ordinal == 1
    assert classify("add three pairs of RUN-00042").quantity == 3
    assert classify("add RUN-00042").quantity is None
    assert classify("apply RUNNER10").code == "RUNNER10"
    assert classify("can I get 12.5% off RUN-00042").percent == 12.5
    assert classify("can I get 50% off").skus == ()
    assert classify("I'm a gold member, any discount?").discount_reason == "loyalty"
    assert classify("price match RunMart at $89").competitor == "RunMart"
    assert classify("Big Box Sports has it cheaper").competitor == "Big Box Sports"
    assert classify("can you price match it?").competitor is None
    assert classify("refund $25 on order O100123").amount == 25
    assert classify("refund o100123 to a gift card").refund_method == "gift_card"
    assert classify("where is order #100123").order_id == "O100123"
    assert classify("run-00042 price").skus == ("RUN-00042",)


@pytest.mark.parametrize(
    ("text", "priority"),
    [
        ("talk to a human", "normal"),
        ("this is unacceptable, get me a manager now", "urgent"),
        ("I need an agent ASAP", "urgent"),
    ],
)
def test_handoff_priority(text: str, priority: str) -> None:
    intent = classify(text)
    assert (intent.kind, intent.priority) == ("handoff", priority)


def test_long_messages_stay_fast() -> None:
    started = time.perf_counter()
    for text in ("1" * 20_000, "Aa " * 7_000, "pick up " * 3_000, "$1" * 8_000):
        classify(text)
    assert time.perf_counter() - started < 1.0


def test_reason_is_truncated() -> None:
    text = "return order O100123 because " + "it does not fit " * 30
    assert len(classify(text).reason) == REASON_MAX_CHARS


def test_yes_needs_an_offer_in_the_previous_answer() -> None:
    offer_text = offer_sentence(
        Offer(action="offer_discount", sku="RUN-00042", percent=10), "Pegasus 41 (RUN-00042)"
    )
    assert classify("yes please", offer_text).kind == "accept_offer"
    assert classify("no thanks", offer_text).kind == "decline_offer"
    assert classify("yes please", "Here is what I found").kind == "unknown"


@pytest.mark.parametrize(
    "offer",
    [
        Offer(action="offer_discount", sku="RUN-00042", percent=10),
        Offer(action="offer_discount", sku="LAP-00007", percent=2.5, reason="loyalty"),
        Offer(
            action="offer_discount",
            sku="RUN-00042",
            percent=5,
            reason="price_match",
            competitor="Run Mart",
        ),
        Offer(action="add_to_cart", sku="RUN-00042", quantity=3),
    ],
)
def test_offer_round_trips_through_text(offer: Offer) -> None:
    for label in (f"Shoe (Size 10) ({offer.sku})", offer.sku):
        text = "I can't do that: the cap is lower.\n" + offer_sentence(offer, label)
        assert parse_offer(text) == offer


def test_no_offer_in_plain_text() -> None:
    assert parse_offer("Pegasus 41 (RUN-00042): $89.99") is None
    assert parse_offer(None) is None


def test_a_delivery_question_about_an_item_is_not_an_order_question() -> None:
    from agent.offline.intents import classify

    assert classify("can RUN-00005 be delivered tomorrow?").kind == "availability"
    assert classify("has my order O100001 been delivered?").kind == "order_status"
