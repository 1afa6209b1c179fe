"""Action intents: proposals, answers from each envelope status, offers after a denial."""

from __future__ import annotations

from typing import Any

import pytest

from agent.models.base import ChatMessage, tool_envelope
from tests.agent.offline.offline_support import (
    World,
    assistant,
    cart,
    error,
    invented_figures,
    ok,
    run_turn,
    user,
)

LISTING = assistant(
    "Here is what I found for running shoes:\n"
    "- Pegasus 41 (RUN-00042): $89.99\n"
    "- Ghost 16 (RUN-00043): $109.99"
)


def denied(reasons: list[str], alternative: dict[str, Any] | None = None) -> str:
    repair = None
    if alternative is not None:
        repair = {
            "rule_id": "discount.max_percent",
            "limit": 20,
            "actual": 50,
            "headroom": 20,
            "alternative": alternative,
        }
    return tool_envelope(
        "denied",
        action={"type": "offer_discount"},
        rule_ids=["discount.max_percent"],
        reasons=reasons,
        repair=repair,
    )


CAP = "A 50% discount exceeds the maximum of 20% for running-shoes."


def test_promo_code_executed() -> None:
    run = run_turn("apply RUNNER10")
    assert [(c.name, c.arguments) for c in run.calls] == [("apply_promotion", {"code": "RUNNER10"})]
    assert run.answer == "Applied RUNNER10. Subtotal $89.99, discounts $9.00, total $80.99."


def test_promo_code_denied_gives_the_reason() -> None:
    reason = "RUNNER10 needs a minimum spend of $100.00."
    world = World(
        answers={
            "apply_promotion": lambda args: tool_envelope(
                "denied", action={}, rule_ids=["promo.min_spend"], reasons=[reason], repair=None
            )
        }
    )
    run = run_turn("use code runner10", world)
    assert run.calls[0].arguments == {"code": "RUNNER10"}
    assert run.answer == f"I can't apply RUNNER10: {reason}"
    assert "Applied" not in run.answer


def test_promo_code_failed_is_reported_not_claimed() -> None:
    failed = tool_envelope(
        "failed", action={}, error={"code": "not_eligible", "message": "code expired"}
    )
    run = run_turn("apply OLD2020", World(answers={"apply_promotion": lambda args: failed}))
    assert run.answer.startswith("I couldn't apply OLD2020 — the request didn't go through")
    assert "code expired." in run.answer


def test_discount_with_percent_on_explicit_sku() -> None:
    run = run_turn("can I get 15% off RUN-00042?")
    assert [(c.name, c.arguments) for c in run.calls] == [
        (
            "offer_discount",
            {"sku": "RUN-00042", "percent": 15.0, "reason": "goodwill", "competitor": None},
        )
    ]
    assert "15% off Pegasus 41 (RUN-00042)" in run.answer
    assert "the line total is now $76.49" in run.answer
    assert invented_figures(run) == []


def test_loyalty_discount_reason() -> None:
    run = run_turn("I'm a gold member, can I get a discount on RUN-00042?")
    assert run.calls[0].arguments["reason"] == "loyalty"
    assert run.calls[0].arguments["percent"] is None


def test_discount_uses_last_sku_in_history() -> None:
    run = run_turn("give me a discount", history=[user("running shoes"), LISTING])
    assert run.names() == ["offer_discount"]
    assert run.calls[0].arguments["sku"] == "RUN-00042"


def test_discount_without_sku_uses_the_single_cart_line() -> None:
    run = run_turn("can I get 50% off")
    assert run.names() == ["get_cart", "offer_discount"]
    assert [c.id for c in run.calls] == ["call_1", "call_2"]
    assert run.calls[1].arguments["sku"] == "RUN-00042"
    assert run.calls[1].arguments["percent"] == 50


def test_discount_without_sku_and_empty_cart_asks() -> None:
    world = World(answers={"get_cart": lambda args: ok(cart([]))})
    run = run_turn("give me a discount", world)
    assert run.names() == ["get_cart"]
    assert "Which item would you like me to discount?" in run.answer


def test_discount_with_several_cart_lines_asks_which() -> None:
    two = cart([("RUN-00042", "Pegasus 41", 1, 89.99, 0), ("RUN-00043", "Ghost 16", 1, 109.99, 0)])
    run = run_turn("give me a discount", World(answers={"get_cart": lambda args: ok(two)}))
    assert run.names() == ["get_cart"]
    assert "Ghost 16 (RUN-00043)" in run.answer and "Which item" in run.answer


def test_denial_offers_the_alternative_without_proposing_it() -> None:
    alternative = {"sku": "RUN-00042", "percent": 20, "reason": "goodwill", "competitor": None}
    world = World(answers={"offer_discount": lambda args: denied([CAP], alternative)})
    run = run_turn("can I get 50% off RUN-00042?", world, history=[user("shoes"), LISTING])
    assert run.names() == ["offer_discount"]  # exactly one proposal: the shopper's
    assert run.answer == (
        f"I can't give 50% off Pegasus 41 (RUN-00042): {CAP}\n"
        "I can offer 20% off Pegasus 41 (RUN-00042) as a goodwill discount instead"
        " — would you like that?"
    )
    assert invented_figures(run) == []

    yes = run_turn(
        "yes please", history=[user("can I get 50% off RUN-00042?"), assistant(run.answer)]
    )
    assert [(c.name, c.arguments) for c in yes.calls] == [
        (
            "offer_discount",
            {"sku": "RUN-00042", "percent": 20.0, "reason": "goodwill", "competitor": None},
        )
    ]
    assert "20% off Pegasus 41 (RUN-00042); the line total is now $71.99" in yes.answer


def test_denial_without_alternative_gives_reasons_only() -> None:
    world = World(answers={"offer_discount": lambda args: denied([CAP, "Budget used up."])})
    run = run_turn("can I get 50% off RUN-00042?", world)
    assert run.answer == f"I can't give 50% off RUN-00042: {CAP} Budget used up."


def test_no_after_an_offer_changes_nothing() -> None:
    offer = "I can offer 20% off Pegasus 41 (RUN-00042) as a goodwill discount instead — ok?"
    run = run_turn("no thanks", history=[user("50% off?"), assistant(offer)])
    assert run.steps == [] and "haven't changed anything" in run.answer


def test_accepted_offer_denied_again_offers_again_once() -> None:
    offer = "I can offer 20% off Pegasus 41 (RUN-00042) as a goodwill discount instead — ok?"
    alternative = {"percent": 10}
    world = World(
        answers={"offer_discount": lambda args: denied(["Budget left: $8.00."], alternative)}
    )
    run = run_turn("ok, do that", world, history=[user("50% off?"), assistant(offer)])
    assert run.names() == ["offer_discount"]
    assert (
        "I can't apply that discount on Pegasus 41 (RUN-00042): Budget left: $8.00." in run.answer
    )
    assert "I can offer 10% off Pegasus 41 (RUN-00042)" in run.answer


def test_price_match_leaves_the_percent_to_policy() -> None:
    run = run_turn("price match RunMart at $84.99 for RUN-00042")
    assert run.calls[0].arguments == {
        "sku": "RUN-00042",
        "percent": None,
        "reason": "price_match",
        "competitor": "RunMart",
    }


def test_price_match_alternative_round_trips() -> None:
    alternative = {"percent": 5.5, "reason": "price_match", "competitor": "RunMart"}
    stale = "The RunMart price was seen more than 48 hours ago."
    world = World(answers={"offer_discount": lambda args: denied([stale], alternative)})
    run = run_turn("SportsHub has it cheaper", world, history=[user("shoes"), LISTING])
    assert run.calls[0].arguments["competitor"] == "SportsHub"
    assert "as a price match with RunMart instead" in run.answer
    yes = run_turn("yes", history=[user("cheaper?"), assistant(run.answer)])
    assert yes.calls[0].arguments == {
        "sku": "RUN-00042",
        "percent": 5.5,
        "reason": "price_match",
        "competitor": "RunMart",
    }


@pytest.mark.parametrize(
    ("text", "sku", "quantity"),
    [
        ("add it", "RUN-00042", 1),
        ("add that to my cart", "RUN-00042", 1),
        ("add 2 of the first one", "RUN-00042", 2),
        ("add the second one", "RUN-00043", 1),
        ("add the last one", "RUN-00043", 1),
        ("add RUN-00099 to my cart", "RUN-00099", 1),
    ],
)
def test_add_to_cart_resolves_the_item(text: str, sku: str, quantity: int) -> None:
    run = run_turn(text, history=[user("running shoes"), LISTING])
    assert [(c.name, c.arguments) for c in run.calls] == [
        ("add_to_cart", {"sku": sku, "quantity": quantity})
    ]
    assert run.answer.startswith("Added ")
    assert invented_figures(run) == []


def test_add_to_cart_answer_has_line_price_and_total() -> None:
    run = run_turn("add 2 of the first one", history=[user("running shoes"), LISTING])
    assert run.answer == (
        "Added Pegasus 41 (RUN-00042) to your cart — you now have 2, line total $179.98.\n"
        "Subtotal $179.98, total $179.98."
    )


@pytest.mark.parametrize(
    ("text", "history"),
    [("add it", []), ("add the fifth one", [user("running shoes"), LISTING])],
)
def test_add_to_cart_without_item_asks(text: str, history: list[ChatMessage]) -> None:
    run = run_turn(text, history=history)
    assert run.steps == [] and "Which item would you like me to add to your cart?" in run.answer


def test_add_to_cart_denied_offers_smaller_quantity() -> None:
    denial = tool_envelope(
        "denied",
        action={},
        rule_ids=["inventory.available"],
        reasons=["Only 3 units are available."],
        repair={"rule_id": "inventory.available", "alternative": {"quantity": 3}},
    )
    world = World(answers={"add_to_cart": lambda args: denial})
    run = run_turn("add 5 of RUN-00042", world, history=[user("shoes"), LISTING])
    assert "I can't add Pegasus 41 (RUN-00042) to your cart: Only 3 units are available." in (
        run.answer
    )
    assert "I can add 3 of Pegasus 41 (RUN-00042) instead — would you like that?" in run.answer
    assert "Added" not in run.answer
    yes = run_turn("sure", history=[user("add 5"), assistant(run.answer)])
    assert yes.calls[0].arguments == {"sku": "RUN-00042", "quantity": 3}


def test_remove_from_cart() -> None:
    run = run_turn("remove RUN-00042 from my cart")
    assert [(c.name, c.arguments) for c in run.calls] == [
        ("remove_from_cart", {"sku": "RUN-00042"})
    ]
    assert run.answer.startswith("Removed RUN-00042 from your cart.")


def test_pending_approval_is_not_claimed_as_done() -> None:
    pending = tool_envelope("pending_approval", action={}, approval_id="A1")
    run = run_turn("refund my order O100123", World(answers={"request_refund": lambda a: pending}))
    assert "needs approval" in run.answer and "has not happened yet" in run.answer


def test_return_reads_the_order_then_returns_every_line() -> None:
    text = "I want to return order O100123, the shoes are too small"
    run = run_turn(text)
    assert run.names() == ["get_order", "request_return"]
    assert run.calls[1].arguments == {
        "order_id": "O100123",
        "skus": ["RUN-00042", "RUN-00777"],
        "reason": text,
    }
    assert "return for order O100123 is authorized (return R5001)" in run.answer
    assert "https://labels.example/R5001.pdf" in run.answer


def test_return_of_named_sku_only() -> None:
    run = run_turn("return RUN-00777 from order O100123")
    assert run.calls[1].arguments["skus"] == ["RUN-00777"]


def test_return_denied_gives_reason() -> None:
    reason = "Order O100123's return window ended on 2026-11-01."
    denial = tool_envelope("denied", action={}, rule_ids=["r"], reasons=[reason], repair=None)
    run = run_turn("return order O100123", World(answers={"request_return": lambda a: denial}))
    assert run.answer == f"I can't return order O100123: {reason}"


def test_return_without_order_id_lists_orders_and_asks() -> None:
    run = run_turn("I want to return my shoes")
    assert run.names() == ["list_orders"]
    assert run.answer.startswith("Which order would you like to return?")


def test_return_uses_order_from_history() -> None:
    history = [user("where is O100123"), assistant("Order O100123 is delivered.")]
    run = run_turn("I want to return it", history=history)
    assert run.names() == ["get_order", "request_return"]


def test_refund_with_amount_and_failure() -> None:
    failed = tool_envelope(
        "failed", action={}, error={"code": "invalid_state", "message": "order is not paid"}
    )
    run = run_turn(
        "refund $25 on order O100123", World(answers={"request_refund": lambda a: failed})
    )
    assert run.names() == ["get_order", "request_refund"]
    assert run.calls[1].arguments == {
        "order_id": "O100123",
        "amount": 25.0,
        "method": "original",
        "reason": "refund $25 on order O100123",
    }
    assert "order is not paid." in run.answer and "Nothing was changed." in run.answer


def test_refund_executed() -> None:
    run = run_turn("please refund my order O100123")
    assert run.calls[1].arguments["amount"] is None
    assert run.answer == (
        "Your refund of $113.99 for order O100123 has been issued to your original payment"
        " (refund RF77)."
    )


def test_order_not_found_stops_before_the_action() -> None:
    missing = World(answers={"get_order": lambda args: error("not_found", "no order")})
    run = run_turn("refund my order O123456", missing)
    assert run.names() == ["get_order"]
    assert "couldn't find order O123456" in run.answer


def test_cancel_order() -> None:
    run = run_turn("cancel my order O100123 please")
    assert run.names() == ["get_order", "cancel_order"]
    assert run.answer == "Order O100123 is now cancelled."


@pytest.mark.parametrize(
    ("text", "order_id", "priority"),
    [
        ("I want to talk to a human", None, "normal"),
        ("this is unacceptable!! get me a manager about order O100123", "O100123", "urgent"),
    ],
)
def test_handoff(text: str, order_id: str | None, priority: str) -> None:
    run = run_turn(text)
    assert [(c.name, c.arguments) for c in run.calls] == [
        ("escalate_to_human", {"summary": text, "order_id": order_id, "priority": priority})
    ]
    assert "support team (ticket T900)" in run.answer


def test_handoff_failure_is_honest() -> None:
    failed = tool_envelope("failed", action={}, error={"code": "injected_fault", "message": "down"})
    run = run_turn("agent please", World(answers={"escalate_to_human": lambda a: failed}))
    assert run.answer.startswith("I couldn't reach a person on our team")
