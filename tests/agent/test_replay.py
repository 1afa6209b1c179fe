"""Replay of recorded turns: same verdicts, same prompts, same answer — without services."""

from __future__ import annotations

from agent.replay import replay_many, replay_turn
from agent.runtime import Arbiter
from guardrails.policy import parse_policy
from sandbox.seed import SAMPLE_CUSTOMER_ID

TURNS = (
    "I need running shoes size 10 under $120 that I can pick up today",
    "add RUN-00005 to my cart",
    "can I get 50% off RUN-00005?",
    "can I get 10% off RUN-00005?",
    "where is my order O100001?",
    "apply code GAMER50",
)


async def _recorded(arbiter: Arbiter) -> list[str]:
    session = await arbiter.start_session(SAMPLE_CUSTOMER_ID)
    return [(await arbiter.ask(session.session_id, text)).record.turn_id for text in TURNS]


async def test_replay_under_the_recorded_policy_is_identical(arbiter: Arbiter) -> None:
    turn_ids = await _recorded(arbiter)
    await arbiter.client.http.put("/admin/faults/pricing", json={"error_rate": 1.0})  # no services
    outcomes = []
    for turn_id in turn_ids:
        record = arbiter.deps.audit.get(turn_id)
        assert record is not None
        report = await replay_turn(record, arbiter.deps.validator.policy)
        assert report.diverged is None, (record.user_message, report.diverged)
        assert report.verdicts_identical, report.verdicts
        assert report.prompts_identical and report.answer_identical, record.user_message
        outcomes += [v.replayed for v in report.verdicts]
    assert {"allow", "deny"} <= set(outcomes)


async def test_a_stricter_candidate_would_block_an_executed_discount(arbiter: Arbiter) -> None:
    turn_ids = await _recorded(arbiter)
    records = [r for t in turn_ids if (r := arbiter.deps.audit.get(t)) is not None]
    strict_raw = arbiter.deps.validator.policy.raw.replace(
        b"running-shoes: 20", b"running-shoes: 5"
    )
    assert strict_raw != arbiter.deps.validator.policy.raw
    strict = parse_policy(strict_raw, source="strict.yaml")
    reports = await replay_many(records, strict)
    changed = [
        (r.turn_id, v)
        for r in reports
        for v in r.verdicts
        if v.executed_originally and v.replayed == "deny"
    ]
    assert len(changed) == 1
    _, verdict = changed[0]
    assert verdict.type == "offer_discount" and "discount.max_percent" in verdict.replayed_rules
    assert verdict.recorded == "allow"


async def test_a_turn_stopped_by_the_kill_switch_replays_the_same(arbiter: Arbiter) -> None:
    session = await arbiter.start_session(SAMPLE_CUSTOMER_ID)
    await arbiter.ask(session.session_id, "add RUN-00005 to my cart")
    arbiter.deps.validator.kill_switch.set("action:offer_discount", "pricing incident", "ops")
    stopped = await arbiter.ask(session.session_id, "can I get 10% off RUN-00005?")
    assert stopped.record.verdicts[0].rule_ids == ["system.kill_switch"]
    report = await replay_turn(stopped.record, arbiter.deps.validator.policy)
    assert report.diverged is None and report.verdicts_identical, report.verdicts
