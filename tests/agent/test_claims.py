from datetime import UTC, datetime

from agent.claims import check_claims, collect_facts, repair_answer
from agent.models.base import ChatMessage, tool_envelope
from agent.record import ExecutionRecord


def _tool(name: str, content: str) -> ChatMessage:
    return ChatMessage(role="tool", name=name, tool_call_id="c1", content=content)


def _execution(kind: str, status: str = "executed") -> ExecutionRecord:
    return ExecutionRecord(
        action_id="act_1",
        type=kind,
        params={},
        idempotency_key="k",
        status=status,
        started_at=datetime.now(UTC),
        duration_ms=1.0,
    )


PRICE = _tool("get_price", tool_envelope("ok", data={"sku": "RUN-00001", "list_price": 89.99}))
DENIED = _tool(
    "offer_discount",
    tool_envelope(
        "denied",
        action="offer_discount",
        rule_ids=["discount.max_percent"],
        reasons=["A 50% discount exceeds the maximum of 20% for running-shoes."],
        repair=None,
    ),
)


def test_prices_must_match_a_fact_of_this_turn() -> None:
    facts = collect_facts("how much?", [PRICE], [])
    assert all(c.verified for c in check_claims("It is $89.99.", facts))
    assert not any(c.verified for c in check_claims("It is $79.99.", facts))


def test_numbers_the_shopper_wrote_may_be_echoed() -> None:
    facts = collect_facts("shoes under $120", [PRICE], [])
    assert all(c.verified for c in check_claims("Here are shoes under $120.", facts))


def test_claiming_a_denied_discount_is_caught_and_repaired() -> None:
    facts = collect_facts("can I get 50% off?", [PRICE, DENIED], [])
    draft = "Done! I've applied a 50% discount to your shoes."
    checks = check_claims(draft, facts)
    assert [c.kind for c in checks if not c.verified] == ["action"]
    repaired = repair_answer(draft, facts, [], [], [])
    assert "applied" not in repaired


def test_refusal_sentences_make_no_action_claim() -> None:
    facts = collect_facts("can I get 50% off?", [PRICE, DENIED], [])
    text = "I can't apply 50% off: the maximum is 20% for running shoes."
    assert all(c.verified for c in check_claims(text, facts))


def test_action_claim_verified_by_an_execution() -> None:
    facts = collect_facts("add it", [PRICE], [_execution("add_to_cart")])
    assert all(c.verified for c in check_claims("I've added it to your cart.", facts))
    failed = collect_facts("add it", [PRICE], [_execution("add_to_cart", "failed")])
    assert not all(c.verified for c in check_claims("I've added it to your cart.", failed))


def test_same_day_claims_need_a_confirmed_option() -> None:
    options = {"options": [{"kind": "store_pickup", "available": True, "ready_today": False}]}
    facts = collect_facts(
        "pick up today?", [_tool("get_delivery_options", tool_envelope("ok", data=options))], []
    )
    assert not all(
        c.verified for c in check_claims("You can pick it up today at the store.", facts)
    )
    options["options"][0]["ready_today"] = True
    facts = collect_facts(
        "pick up today?", [_tool("get_delivery_options", tool_envelope("ok", data=options))], []
    )
    assert all(c.verified for c in check_claims("You can pick it up today at the store.", facts))


def test_a_status_in_this_turns_data_verifies_a_state_claim() -> None:
    order = {"order_id": "O100009", "status": "cancelled", "refunds": []}
    facts = collect_facts("status?", [_tool("get_order", tool_envelope("ok", data=order))], [])
    assert all(c.verified for c in check_claims("Order O100009 was cancelled.", facts))
    facts = collect_facts("status?", [PRICE], [])
    assert not all(c.verified for c in check_claims("Order O100009 was cancelled.", facts))
