"""The planner's step sequences for read intents, and its guarantees (ids, determinism, bounds)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from agent.models.base import ChatMessage, ChatModel, ModelRequest, ToolCall, tool_envelope
from agent.offline import OfflinePlanner
from agent.offline.planner import plan_step
from tests.agent.offline.offline_support import (
    UTTERANCES,
    World,
    assistant,
    error,
    invented_figures,
    ok,
    run_turn,
    user,
)

ISSUE = "I need running shoes size 10 under $120 that I can pick up today"


def test_is_a_chat_model() -> None:
    model: ChatModel = OfflinePlanner()
    assert (model.kind, model.model_name) == ("offline", "arbiter-offline-planner")


async def test_complete_is_async() -> None:
    response = await OfflinePlanner().complete(ModelRequest(messages=[user("hi")]))
    assert response.text and not response.tool_calls
    assert response.model == "arbiter-offline-planner"


def test_issue_sample_pickup_today() -> None:
    run = run_turn(ISSUE)
    search, checks = run.steps
    assert [c.name for c in search] == ["search_products"]
    assert search[0].id == "call_1"
    assert search[0].arguments == {
        "query": "",
        "category": "running-shoes",
        "brand": None,
        "min_price": None,
        "max_price": 120.0,
        "attributes": [{"name": "size", "value": "10"}],
        "in_stock_only": True,
        "limit": 5,
    }
    assert json.loads(search[0].raw_arguments) == search[0].arguments
    # One step, parallel calls: a price and the delivery options for every result.
    assert sorted((c.name, c.arguments["sku"]) for c in checks) == sorted(
        (name, sku)
        for sku in ("RUN-00042", "RUN-00043", "RUN-00044")
        for name in ("get_price", "get_delivery_options")
    )
    assert [c.id for c in checks] == [f"call_{n}" for n in range(2, 8)]
    assert all(c.arguments["quantity"] == 1 for c in checks if c.name == "get_delivery_options")
    answer = run.answer
    assert "Pegasus 41 (RUN-00042): $89.99" in answer and "Seattle Store" in answer
    assert "Cloudrunner (RUN-00044): $119.00" in answer and "Bellevue Store" in answer
    assert "RUN-00043" not in answer  # its pickup is tomorrow
    assert "under $120" in answer
    assert "ready today by 4:30 PM" in answer
    assert invented_figures(run) == []


def test_pickup_today_none_qualify_is_honest_with_best_alternative() -> None:
    world = World()
    world.items = world.items[1:2]  # only RUN-00043, ready tomorrow
    run = run_turn(ISSUE, world)
    assert "None of the" in run.answer and "picked up in store today" in run.answer
    assert "Best alternative: Ghost 16 (RUN-00043): $109.99" in run.answer
    assert "Tacoma Store" in run.answer and "ready today" not in run.answer
    assert invented_figures(run) == []


def test_delivery_service_down_during_search() -> None:
    world = World(answers={"get_delivery_options": lambda args: error()})
    run = run_turn(ISSUE, world)
    assert "couldn't confirm pickup or delivery options" in run.answer
    assert "$89.99" in run.answer  # prices were confirmed
    assert invented_figures(run) == []


def test_search_without_fulfillment_prices_only() -> None:
    run = run_turn("show me sneakers between $50 and $150")
    assert run.names() == ["search_products", "get_price", "get_price", "get_price"]
    assert run.calls[0].arguments["min_price"] == 50
    assert run.calls[0].arguments["in_stock_only"] is False
    assert "- Ghost 16 (RUN-00043): $109.99" in run.answer
    assert "between $50 and $150" in run.answer
    assert invented_figures(run) == []


def test_search_unknown_words_retries_once_without_them() -> None:
    searches: list[dict[str, Any]] = []

    def search(args: dict[str, Any]) -> str:
        searches.append(args)
        items = World().items if not args["query"] else []
        return ok({"items": items, "total": len(items)})

    run = run_turn("comfy sneakers under $150", World(answers={"search_products": search}))
    assert [s["query"] for s in searches] == ["comfy", ""]
    assert 'Nothing matched running shoes, matching "comfy", under $150 exactly' in run.answer
    assert "RUN-00042" in run.answer


def test_search_no_results() -> None:
    empty = World(answers={"search_products": lambda args: ok({"items": [], "total": 0})})
    run = run_turn("gaming laptop under $300", empty)
    assert run.names() == ["search_products"]
    assert "couldn't find any gaming laptops, under $300" in run.answer


def test_search_service_error_is_honest() -> None:
    run = run_turn(ISSUE, World(answers={"search_products": lambda args: error()}))
    assert run.names() == ["search_products"]
    assert "couldn't confirm" in run.answer and "won't guess" in run.answer
    assert "$" not in run.answer.replace("$120", "")


def test_price_check_with_sku() -> None:
    run = run_turn("how much is RUN-00042")
    assert [(c.name, c.arguments) for c in run.calls] == [("get_price", {"sku": "RUN-00042"})]
    assert run.answer == "RUN-00042 is $89.99."


def test_price_check_competitor_only_when_asked() -> None:
    run = run_turn("how much is RUN-00042 compared to competitors?")
    assert "RunMart: $84.99" in run.answer
    assert "RunMart" not in run_turn("how much is RUN-00042").answer


def test_price_check_refers_to_last_sku_in_history() -> None:
    history = [user("running shoes"), assistant("- Pegasus 41 (RUN-00042): $89.99")]
    run = run_turn("how much is it?", history=history)
    assert run.calls[0].arguments == {"sku": "RUN-00042"}
    assert run.answer == "Pegasus 41 (RUN-00042) is $89.99."


def test_price_error_is_honest() -> None:
    run = run_turn("how much is RUN-00042", World(answers={"get_price": lambda args: error()}))
    assert "couldn't confirm the price of RUN-00042 right now" in run.answer


def test_availability_for_history_sku() -> None:
    history = [user("sneakers"), assistant("- Pegasus 41 (RUN-00042): $89.99")]
    run = run_turn("can I pick it up today?", history=history)
    assert len(run.steps) == 1
    assert [(c.name, c.arguments) for c in run.calls] == [
        ("check_inventory", {"sku": "RUN-00042"}),
        ("get_delivery_options", {"sku": "RUN-00042", "quantity": 1}),
    ]
    assert "6 available in total" in run.answer
    assert "Yes, it can be picked up in store today: pickup at Seattle Store" in run.answer
    assert "standard delivery" in run.answer and "$4.99" in run.answer
    assert invented_figures(run) == []


def test_availability_without_item_asks() -> None:
    run = run_turn("is it in stock?")
    assert run.steps == [] and "Which item" in run.answer


def test_cart_summary() -> None:
    run = run_turn("what's in my cart")
    assert run.names() == ["get_cart"] and run.calls[0].arguments == {}
    assert "- 1 × Pegasus 41 (RUN-00042): $89.99" in run.answer
    assert "total $89.99" in run.answer


def test_empty_cart() -> None:
    empty: dict[str, Any] = {
        "cart_id": None,
        "lines": [],
        "subtotal": 0,
        "discount_total": 0,
        "total": 0,
    }
    run = run_turn("cart total", World(answers={"get_cart": lambda args: ok(empty)}))
    assert run.answer == "Your cart is empty."


def test_order_status_with_id() -> None:
    run = run_turn("where is my order O100123")
    assert [(c.name, c.arguments) for c in run.calls] == [("get_order", {"order_id": "O100123"})]
    assert "Order O100123 is delivered" in run.answer and "UPS 1Z999" in run.answer


def test_order_status_lists_recent_orders() -> None:
    run = run_turn("order status")
    assert run.names() == ["list_orders"]
    lines = run.answer.splitlines()
    assert lines[1].startswith("- O100123: shipped")  # most recent first
    assert lines[2].startswith("- O100120: delivered")


def test_other_customers_order_is_out_of_scope() -> None:
    denied = World(answers={"get_order": lambda args: error("out_of_scope", "not yours")})
    run = run_turn("where is order O999999", denied)
    assert "signed-in customer's own orders" in run.answer


def test_promotions_listed_when_no_code() -> None:
    run = run_turn("any promo codes?")
    assert [(c.name, c.arguments) for c in run.calls] == [("list_promotions", {"category": None})]
    assert "- RUNNER10: 10% off running shoes" in run.answer


@pytest.mark.parametrize("text", ["hi", "hello there!", "what can you do?"])
def test_greeting_uses_no_tools(text: str) -> None:
    run = run_turn(text)
    assert run.steps == [] and "I can:" in run.answer


def test_unknown_is_honest() -> None:
    run = run_turn("what's the weather like in Paris")
    assert run.steps == [] and run.answer.startswith("Sorry, I can't help with that here.")


def test_call_ids_continue_after_calls_already_made() -> None:
    messages = [
        user(ISSUE),
        ChatMessage(
            role="assistant",
            tool_calls=[ToolCall(id="call_1", name="search_products", arguments={})],
        ),
        ChatMessage(
            role="tool",
            tool_call_id="call_1",
            name="search_products",
            content=World().respond(ToolCall(id="call_1", name="search_products")),
        ),
    ]
    response = plan_step(ModelRequest(messages=messages))
    assert [c.id for c in response.tool_calls] == [f"call_{n}" for n in range(2, 8)]


def test_earlier_turns_do_not_count_as_this_turns_results() -> None:
    history = [user("show me sneakers"), assistant("- Pegasus 41 (RUN-00042): $89.99")]
    response = plan_step(ModelRequest(messages=[*history, user("show me sneakers")]))
    assert [c.name for c in response.tool_calls] == ["search_products"]
    assert response.tool_calls[0].id == "call_1"


def test_tool_choice_none_forces_text() -> None:
    request = ModelRequest(messages=[user(ISSUE)], tool_choice="none")
    response = plan_step(request)
    assert response.text and not response.tool_calls


def test_tool_not_offered_is_not_called() -> None:
    tools = [{"type": "function", "function": {"name": "get_price", "parameters": {}}}]
    response = plan_step(ModelRequest(messages=[user("talk to a human")], tools=tools))
    assert not response.tool_calls and "can't help" in (response.text or "")


def test_missing_tool_message_reads_as_error() -> None:
    call = ToolCall(id="call_1", name="get_price", arguments={"sku": "RUN-00042"})
    messages = [user("how much is RUN-00042"), ChatMessage(role="assistant", tool_calls=[call])]
    response = plan_step(ModelRequest(messages=messages))
    assert not response.tool_calls and "couldn't confirm" in (response.text or "")


def _always(envelope: str) -> Any:
    return lambda call: envelope


@pytest.mark.parametrize("text", UTTERANCES)
@pytest.mark.parametrize(
    "responder",
    [
        World().respond,
        _always(error()),
        _always(error("not_found", "no such thing")),
        _always(ok({})),
        _always("not json"),
        _always(tool_envelope("denied", action={}, rule_ids=["x"], reasons=["No."], repair=None)),
    ],
    ids=["world", "unavailable", "not_found", "empty", "malformed", "denied"],
)
def test_always_answers_within_bounded_steps(text: str, responder: Any) -> None:
    run = run_turn(text, responder, max_steps=6)
    assert run.answer
    ids = [c.id for c in run.calls]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("text", UTTERANCES)
def test_deterministic(text: str) -> None:
    first = run_turn(text)
    second = run_turn(text)
    assert [r.model_dump() for r in first.responses] == [r.model_dump() for r in second.responses]


@pytest.mark.parametrize("text", UTTERANCES)
def test_answers_invent_no_figures(text: str) -> None:
    assert invented_figures(run_turn(text)) == []
