"""Every turn ends: plan steps and revisions after denials are bounded."""

from __future__ import annotations

from agent.models.base import ModelResponse
from agent.models.scripted import ScriptedChatModel, answer, step, tool_call
from sandbox.seed import SAMPLE_CUSTOMER_ID
from tests.conftest import OpenArbiter


async def test_step_limit_forces_an_answer_without_tools(open_arbiter: OpenArbiter) -> None:
    looping = [step(tool_call("get_price", sku="RUN-00005")) for _ in range(6)]
    model = ScriptedChatModel([*looping, answer("Here is what I found so far.")])
    async with open_arbiter(model) as arbiter:
        session = await arbiter.start_session(SAMPLE_CUSTOMER_ID)
        result = await arbiter.ask(session.session_id, "price?")
    model.assert_exhausted()
    assert model.requests[-1].tool_choice == "none"
    assert result.record.llm_calls[-1].template_id == "respond.final"
    assert result.text == "Here is what I found so far."
    assert [t.node for t in result.record.timings].count("plan") == 6


async def test_repeated_denials_stop_after_the_revision_bound(open_arbiter: OpenArbiter) -> None:
    greedy = [
        step(
            tool_call(
                "offer_discount", sku="RUN-00005", percent=90, reason="goodwill", competitor=None
            )
        )
        for _ in range(3)
    ]
    model = ScriptedChatModel([*greedy, answer("I can't offer that discount.")])
    async with open_arbiter(model) as arbiter:
        session = await arbiter.start_session(SAMPLE_CUSTOMER_ID)
        result = await arbiter.ask(session.session_id, "90% off")
    model.assert_exhausted()
    record = result.record
    assert [v.outcome for v in record.verdicts] == ["deny", "deny", "deny"]
    assert record.executions == []
    assert model.requests[-1].tool_choice == "none"


async def test_history_persists_per_session_and_stays_compact(open_arbiter: OpenArbiter) -> None:
    model = ScriptedChatModel([answer(f"reply {i}") for i in range(12)])
    async with open_arbiter(model) as arbiter:
        session = await arbiter.start_session(SAMPLE_CUSTOMER_ID)
        other = await arbiter.start_session(SAMPLE_CUSTOMER_ID)
        for i in range(11):
            await arbiter.ask(session.session_id, f"message {i}")
        await arbiter.ask(other.session_id, "fresh")
    last = model.requests[-2].messages
    assert [m.content for m in last if m.role == "user"][-1] == "message 10"
    assert len([m for m in last if m.role in ("user", "assistant")]) == 21  # 20 kept + current
    fresh = model.requests[-1].messages
    assert [m.role for m in fresh] == ["system", "user"]


async def test_conversation_survives_a_restart(open_arbiter: OpenArbiter) -> None:
    first = ScriptedChatModel([answer("Noted.")])
    async with open_arbiter(first) as arbiter:
        session = await arbiter.start_session(SAMPLE_CUSTOMER_ID)
        await arbiter.ask(session.session_id, "remember RUN-00005")
    second = ScriptedChatModel([answer("You mentioned RUN-00005.")])
    async with open_arbiter(second) as arbiter:
        await arbiter.ask(session.session_id, "what did I mention?")
    contents = [m.content for m in second.requests[0].messages]
    assert "remember RUN-00005" in contents and "Noted." in contents


async def test_a_denial_repaired_in_the_same_turn_is_counted(open_arbiter: OpenArbiter) -> None:
    def offer(percent: int) -> ModelResponse:
        return step(
            tool_call(
                "offer_discount",
                sku="RUN-00005",
                percent=percent,
                reason="goodwill",
                competitor=None,
            )
        )

    model = ScriptedChatModel(
        [
            step(tool_call("add_to_cart", sku="RUN-00005", quantity=1)),
            offer(50),
            offer(10),
            answer("I applied 10% off instead."),
        ]
    )
    async with open_arbiter(model) as arbiter:
        session = await arbiter.start_session(SAMPLE_CUSTOMER_ID)
        result = await arbiter.ask(session.session_id, "50% off please")
    record = result.record
    assert [v.outcome for v in record.verdicts] == ["allow", "deny", "allow"]
    assert (record.denials, record.repaired_denials) == (1, 1)
