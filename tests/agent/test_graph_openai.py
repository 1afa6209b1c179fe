"""The graph with the real openai client against respx-faked chat completions.

respx runs in httpcore2 mode (the ``httpx2_mock`` fixture of pytest-httpx2): the
openai SDK builds and sends real requests, which respx answers; its routes speak
respx's ``httpx`` request/response types.
"""

from __future__ import annotations

import json
from typing import Any

import httpcore2
import httpx
import respx

from agent.models.base import read_envelope
from agent.models.openai_model import OpenAIChatModel
from agent.runtime import Arbiter
from sandbox.seed import SAMPLE_CUSTOMER_ID
from tests.conftest import OpenArbiter
from tools.facts import read_cart, read_price

LLM = "http://llm.test/v1"


def completion(
    *, tool_calls: list[tuple[str, str, str]] | None = None, text: str | None = None
) -> dict[str, Any]:
    calls = [
        {"id": cid, "type": "function", "function": {"name": name, "arguments": args}}
        for cid, name, args in tool_calls or []
    ]
    message: dict[str, Any] = {"role": "assistant", "content": text}
    if calls:
        message["tool_calls"] = calls
    return {
        "id": f"chatcmpl-{len(calls)}-{bool(text)}",
        "object": "chat.completion",
        "created": 1,
        "model": "gpt-test",
        "choices": [
            {"index": 0, "finish_reason": "tool_calls" if calls else "stop", "message": message}
        ],
        "usage": {"prompt_tokens": 120, "completion_tokens": 12, "total_tokens": 132},
    }


def script(router: respx.Router, *bodies: dict[str, Any]) -> list[dict[str, Any]]:
    """Serve completions in order; return the list that collects request bodies."""
    seen: list[dict[str, Any]] = []
    queue = list(bodies)

    def handler(request: httpx.Request) -> httpx.Response:
        assert request.headers["content-type"] == "application/json"
        seen.append(json.loads(request.content))
        return httpx.Response(200, json=queue.pop(0))

    router.post(f"{LLM}/chat/completions").mock(side_effect=handler)
    return seen


def model() -> OpenAIChatModel:
    return OpenAIChatModel(model="gpt-test", api_key="sk-test", base_url=LLM, wait_initial_s=0)


async def _sku_in_stock(arbiter: Arbiter) -> str:
    body = await arbiter.client.get(
        "/catalog/products", params={"category": "running-shoes", "in_stock": True, "limit": 1}
    )
    return str(body["items"][0]["sku"])


async def test_tool_calling_plan_then_verified_answer(
    open_arbiter: OpenArbiter, httpx2_mock: respx.Router
) -> None:
    async with open_arbiter(model()) as arbiter:
        sku = await _sku_in_stock(arbiter)
        price = (await read_price(arbiter.client, sku))["list_price"]
        seen = script(
            httpx2_mock,
            completion(tool_calls=[("call_1", "get_price", json.dumps({"sku": sku}))]),
            completion(text=f"{sku} costs ${price:.2f}."),
        )
        session = await arbiter.start_session(SAMPLE_CUSTOMER_ID)
        result = await arbiter.ask(session.session_id, f"How much is {sku}?")

    assert result.text == f"{sku} costs ${price:.2f}."
    record = result.record
    assert not record.output_repaired
    assert [c.tool for c in record.context] == ["get_price"]
    assert record.context[0].result["list_price"] == price
    assert "unit_cost" not in record.context[0].result
    assert len(record.llm_calls) == 2 and record.token_usage.input_tokens == 240
    assert record.llm_calls[0].template_id == "shopper.system"
    assert record.llm_calls[0].response_id and record.llm_calls[0].tool_schema_sha256
    assert seen[0]["tools"] and all(t["function"]["strict"] for t in seen[0]["tools"])
    tool_message = seen[1]["messages"][-1]
    assert tool_message["role"] == "tool" and tool_message["tool_call_id"] == "call_1"
    assert read_envelope(tool_message["content"])["data"]["list_price"] == price


async def _put_in_cart(arbiter: Arbiter, sku: str) -> None:
    cart = await arbiter.client.post(
        "/carts", json={"customer_id": SAMPLE_CUSTOMER_ID}, idempotency_key="test-cart"
    )
    await arbiter.client.post(
        f"/carts/{cart['cart_id']}/lines",
        json={"sku": sku, "quantity": 1},
        idempotency_key="test-line",
    )


async def test_discount_above_cap_is_denied_and_not_claimed(
    open_arbiter: OpenArbiter, httpx2_mock: respx.Router
) -> None:
    async with open_arbiter(model()) as arbiter:
        sku = await _sku_in_stock(arbiter)
        await _put_in_cart(arbiter, sku)
        args = json.dumps({"sku": sku, "percent": 50, "reason": "goodwill", "competitor": None})
        seen = script(
            httpx2_mock,
            completion(tool_calls=[("call_1", "offer_discount", args)]),
            completion(text="Great news: I've applied a 50% discount to your shoes!"),
        )
        session = await arbiter.start_session(SAMPLE_CUSTOMER_ID)
        result = await arbiter.ask(session.session_id, "Give me 50% off please")
        cart = await read_cart(arbiter.client, SAMPLE_CUSTOMER_ID)

    record = result.record
    assert [v.outcome for v in record.verdicts] == ["deny"]
    assert "discount.max_percent" in record.verdicts[0].rule_ids
    assert record.executions == []
    assert record.output_repaired and "applied" not in result.text.lower()
    assert cart is None or all(line["discount_percent"] in (0, None) for line in cart["lines"])
    denial = read_envelope(seen[1]["messages"][-1]["content"])
    assert denial["status"] == "denied" and "discount.max_percent" in denial["rule_ids"]
    assert denial["repair"]["alternative"]["percent"] < 50


async def test_valid_add_to_cart_executes_exactly_once(
    open_arbiter: OpenArbiter, httpx2_mock: respx.Router
) -> None:
    async with open_arbiter(model()) as arbiter:
        sku = await _sku_in_stock(arbiter)
        args = json.dumps({"sku": sku, "quantity": 1})
        script(
            httpx2_mock,
            completion(tool_calls=[("call_1", "add_to_cart", args)]),
            completion(text=f"I've added {sku} to your cart."),
            completion(tool_calls=[("call_1", "add_to_cart", args)]),
            completion(text=f"I've added {sku} to your cart."),
        )
        session = await arbiter.start_session(SAMPLE_CUSTOMER_ID)
        first = await arbiter.ask(session.session_id, f"add {sku}", turn_id="turn_fixed")
        # The same turn replayed (a client retry after a lost answer) reuses its keys.
        await arbiter.ask(session.session_id, f"add {sku}", turn_id="turn_fixed")
        cart = await read_cart(arbiter.client, SAMPLE_CUSTOMER_ID)

    assert [e.status for e in first.record.executions] == ["executed"]
    assert first.record.executions[0].idempotency_key == "arb-turn_fixed-act_1"
    assert first.text == f"I've added {sku} to your cart."
    assert cart is not None
    assert [(line["sku"], line["quantity"]) for line in cart["lines"]] == [(sku, 1)]


async def test_malformed_and_unknown_tool_calls_are_fed_back_not_executed(
    open_arbiter: OpenArbiter, httpx2_mock: respx.Router
) -> None:
    async with open_arbiter(model()) as arbiter:
        seen = script(
            httpx2_mock,
            completion(
                tool_calls=[
                    ("call_1", "add_to_cart", '{"sku": "RUN-00001", "quantity": '),
                    ("call_2", "drop_database", "{}"),
                    ("call_3", "add_to_cart", '{"sku": "RUN-00001", "quantity": 500}'),
                ]
            ),
            completion(text="Sorry, I could not do that."),
        )
        session = await arbiter.start_session(SAMPLE_CUSTOMER_ID)
        result = await arbiter.ask(session.session_id, "add shoes")
        cart = await read_cart(arbiter.client, SAMPLE_CUSTOMER_ID)

    assert result.record.proposals == [] and result.record.executions == []
    assert cart is None or cart["lines"] == []
    replies = {
        m["tool_call_id"]: read_envelope(m["content"])
        for m in seen[1]["messages"]
        if m["role"] == "tool"
    }
    assert replies["call_1"]["error"]["code"] == "invalid_arguments"
    assert replies["call_2"]["error"]["code"] == "unknown_tool"
    assert replies["call_3"]["error"]["code"] == "invalid_arguments"


async def test_rate_limit_is_retried(open_arbiter: OpenArbiter, httpx2_mock: respx.Router) -> None:
    route = httpx2_mock.post(f"{LLM}/chat/completions")
    route.side_effect = [
        httpx.Response(429, json={"error": {"message": "slow down"}}),
        httpx.Response(200, json=completion(text="Hello! How can I help?")),
    ]
    async with open_arbiter(model()) as arbiter:
        session = await arbiter.start_session(SAMPLE_CUSTOMER_ID)
        result = await arbiter.ask(session.session_id, "hi")
    assert route.call_count == 2
    assert result.text == "Hello! How can I help?"


async def test_unreachable_endpoint_gives_an_honest_recorded_answer(
    open_arbiter: OpenArbiter, httpx2_mock: respx.Router
) -> None:
    httpx2_mock.post(f"{LLM}/chat/completions").mock(side_effect=httpcore2.ConnectError("refused"))
    async with open_arbiter(model()) as arbiter:
        session = await arbiter.start_session(SAMPLE_CUSTOMER_ID)
        result = await arbiter.ask(session.session_id, "hi")
        stored = arbiter.deps.audit.get(result.record.turn_id)
    assert result.record.error and "can't reach" in result.text
    assert stored is not None and stored.record_hash == result.record.record_hash


async def test_contract_openai_over_respx_and_scripted_model_give_the_same_turn(
    open_arbiter: OpenArbiter, httpx2_mock: respx.Router
) -> None:
    from agent.models.base import ToolCall
    from agent.models.scripted import ScriptedChatModel, answer, step

    args = {"sku": "RUN-00005", "quantity": 1}
    text = "I've added RUN-00005 to your cart."
    script(
        httpx2_mock,
        completion(tool_calls=[("call_1", "add_to_cart", json.dumps(args))]),
        completion(text=text),
    )
    scripted = ScriptedChatModel(
        [
            step(
                ToolCall(
                    id="call_1", name="add_to_cart", arguments=args, raw_arguments=json.dumps(args)
                )
            ),
            answer(text),
        ]
    )
    turns = []
    for chat_model in (model(), scripted):
        async with open_arbiter(chat_model) as arbiter:
            session = await arbiter.start_session(SAMPLE_CUSTOMER_ID, session_id="ses_contract")
            turns.append((await arbiter.ask(session.session_id, "add it")).record)
            await arbiter.client.delete(
                f"/carts/{(await read_cart(arbiter.client, SAMPLE_CUSTOMER_ID) or {})['cart_id']}"
                "/lines/RUN-00005",
                idempotency_key=f"reset-{len(turns)}",
            )
    via_http, via_script = turns
    assert [c.tool_calls for c in via_http.llm_calls] == [
        c.tool_calls for c in via_script.llm_calls
    ]
    assert [p.model_dump(exclude={"id"}) for p in via_http.proposals] == [
        p.model_dump(exclude={"id"}) for p in via_script.proposals
    ]
    assert [(e.type, e.status) for e in via_http.executions] == [
        (e.type, e.status) for e in via_script.executions
    ]
    assert via_http.final_text == via_script.final_text == text
