"""A capability service failing mid-turn: honest answers, nothing executed, a record kept."""

from __future__ import annotations

from agent.runtime import Arbiter
from sandbox.seed import SAMPLE_CUSTOMER_ID
from tools.facts import read_cart


async def _fault(arbiter: Arbiter, service: str, **fault: object) -> None:
    response = await arbiter.client.http.put(f"/admin/faults/{service}", json=fault)
    assert response.status_code < 300, response.text


async def test_read_failure_gets_an_honest_answer(arbiter: Arbiter) -> None:
    await _fault(arbiter, "pricing", error_rate=1.0, latency_ms=0)
    session = await arbiter.start_session(SAMPLE_CUSTOMER_ID)
    result = await arbiter.ask(session.session_id, "how much is RUN-00005?")
    call = result.record.context[0]
    assert call.status == "error" and call.error is not None
    assert call.error["code"] == "service_unavailable" and call.attempts == 3
    assert "$" not in result.text
    assert "confirm" in result.text.lower() or "right now" in result.text.lower()


async def test_action_fails_closed_when_its_facts_cannot_be_read(arbiter: Arbiter) -> None:
    await _fault(arbiter, "inventory", error_rate=1.0, latency_ms=0)
    session = await arbiter.start_session(SAMPLE_CUSTOMER_ID)
    result = await arbiter.ask(session.session_id, "add RUN-00005 to my cart")
    assert [v.rule_ids for v in result.record.verdicts] == [["system.fail_closed"]]
    assert result.record.executions == []
    assert await read_cart(arbiter.client, SAMPLE_CUSTOMER_ID) is None
    assert "added" not in result.text.lower()


async def test_slow_service_times_out_and_fails_closed(arbiter: Arbiter) -> None:
    arbiter.client.timeout_s = 0.05
    await _fault(arbiter, "inventory", error_rate=0.0, latency_ms=400)
    session = await arbiter.start_session(SAMPLE_CUSTOMER_ID)
    result = await arbiter.ask(session.session_id, "add RUN-00005 to my cart")
    assert [v.outcome for v in result.record.verdicts] == ["deny"]
    assert result.record.executions == []
