"""Durable human approval: pause, survive a restart, execute once, bound to what was shown."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from agent.approvals import ApprovalDecision
from agent.runtime import Arbiter
from arbiter.errors import ConflictError, NotFoundError, TurnPausedError
from arbiter.settings import Settings
from tests.guardrails.test_ledger_postgres import BACKENDS, postgres_schema

CUSTOMER = "C1002"
ORDER = "O100004"  # delivered; $204.98 paid, $58.22 refunded in the seed: $146.76 refundable


async def _refunds(arbiter: Arbiter, order_id: str = ORDER) -> list[float]:
    """Amounts refunded on the order after the seeded refund."""
    order = (await arbiter.client.http.get(f"/orders/{order_id}")).json()
    return [float(r["amount"]) for r in order["refunds"]][1 if order_id == ORDER else 0 :]


async def _paused_refund(arbiter: Arbiter, order_id: str = ORDER) -> tuple[str, str]:
    session = await arbiter.start_session(CUSTOMER, channel="copilot")
    result = await arbiter.ask(session.session_id, f"refund order {order_id}")
    assert result.status == "pending_approval"
    [request] = result.pending
    assert request.rule_ids == ["approval.copilot_writes"]
    assert request.action_type == "request_refund"
    return session.session_id, request.approval_id


@pytest.fixture(params=BACKENDS)
def backend_settings(request: pytest.FixtureRequest, settings: Settings) -> Iterator[Settings]:
    """The test's settings on SQLite, or with checkpoints (and guard stores) in PostgreSQL."""
    if request.param == "sqlite":
        yield settings
        return
    with postgres_schema() as url:
        yield settings.model_copy(update={"database_url": url})


async def test_a_paused_refund_survives_a_restart_and_executes_once(
    backend_settings: Settings,
) -> None:
    async with Arbiter.open(backend_settings) as arbiter:
        session_id, approval_id = await _paused_refund(arbiter)
        assert await _refunds(arbiter) == []  # nothing before a person decides
        with pytest.raises(ConflictError, match="waiting for approval"):
            await arbiter.ask(session_id, "hello")

    async with Arbiter.open(backend_settings) as restarted:  # a new process, same stores
        [row] = restarted.approvals.query(status="pending")
        assert row.approval_id == approval_id
        result = await restarted.decide(approval_id, "approved", by="agent:ana", comment="ok")
        assert result.status == "answered"
        assert "refund of $146.76" in result.text
        assert await _refunds(restarted) == [146.76]
        with pytest.raises(ConflictError, match="already approved"):
            await restarted.decide(approval_id, "approved", by="agent:bob")
        assert len(await _refunds(restarted)) == 1
        record = result.record
        [execution] = record.executions
        assert execution.status == "executed"
        [entry] = record.approvals
        assert entry["decided_by"] == "agent:ana"
        assert entry["outcome"] == "allowed"
        assert entry["proposed_params"]["amount"] is None  # the model named no amount
        assert entry["presented_params"]["amount"] == 146.76  # the service's refundable amount
        assert entry["executed_params"] == execution.params
        # the conversation carries on
        assert (await restarted.ask(session_id, "thanks")).status == "answered"
        stored = restarted.approvals.get(approval_id)
        assert stored is not None and stored.outcome == "allowed"


async def test_rejection_is_told_honestly_and_nothing_runs(arbiter: Arbiter) -> None:
    _, approval_id = await _paused_refund(arbiter)
    result = await arbiter.decide(approval_id, "rejected", by="agent:ana", comment="outside policy")
    assert "declined" in result.text and "outside policy" in result.text
    assert result.record.executions == []
    assert result.record.approvals[0]["outcome"] == "rejected"
    assert await _refunds(arbiter) == []


async def test_the_wait_for_a_person_is_kept_out_of_the_turns_duration(
    arbiter: Arbiter,
) -> None:
    _, approval_id = await _paused_refund(arbiter)
    await asyncio.sleep(0.3)
    record = (await arbiter.decide(approval_id, "approved", by="agent:ana")).record
    elapsed_ms = (record.finished_at - record.started_at).total_seconds() * 1000
    assert record.waited_ms >= 300
    assert record.duration_ms == pytest.approx(elapsed_ms - record.waited_ms, abs=0.01)
    assert record.duration_ms < 300  # the work itself, not the pause


async def test_a_paused_turn_has_no_record_yet(arbiter: Arbiter) -> None:
    session = await arbiter.start_session(CUSTOMER, channel="copilot")
    result = await arbiter.ask(session.session_id, f"refund order {ORDER}")
    with pytest.raises(TurnPausedError):
        _ = result.record
    assert arbiter.deps.audit.for_session(session.session_id) == []


async def test_two_people_approving_at_once_execute_it_once(arbiter: Arbiter) -> None:
    _, approval_id = await _paused_refund(arbiter)
    outcomes = await asyncio.gather(
        arbiter.decide(approval_id, "approved", by="agent:ana"),
        arbiter.decide(approval_id, "approved", by="agent:bob"),
        return_exceptions=True,
    )
    assert sum(isinstance(o, ConflictError) for o in outcomes) == 1
    assert len(await _refunds(arbiter)) == 1


async def test_unknown_approval_and_a_digest_that_was_not_shown(arbiter: Arbiter) -> None:
    with pytest.raises(NotFoundError):
        await arbiter.decide("apr_nope", "approved", by="agent:ana")
    _, approval_id = await _paused_refund(arbiter)
    with pytest.raises(ConflictError, match="digest"):
        await arbiter.decide(approval_id, "approved", by="agent:ana", digest="0" * 64)
    assert await _refunds(arbiter) == []


async def test_facts_that_moved_are_shown_again_not_executed(arbiter: Arbiter) -> None:
    _, approval_id = await _paused_refund(arbiter)
    # Meanwhile someone refunds part of the order elsewhere: the order the person saw moved.
    moved = await arbiter.client.http.post(
        f"/orders/{ORDER}/refunds",
        json={"amount": 20.0, "method": "original", "reason": "damaged box"},
        headers={"Idempotency-Key": "elsewhere-1"},
    )
    assert moved.status_code == 201
    result = await arbiter.decide(approval_id, "approved", by="agent:ana")
    assert result.status == "pending_approval"
    [again] = result.pending
    assert again.approval_id != approval_id and again.presentation == 2
    assert again.presented_params["amount"] == 126.76
    assert len(await _refunds(arbiter)) == 1  # only the one made elsewhere
    first = arbiter.approvals.get(approval_id)
    assert first is not None and first.outcome == "changed"
    final = await arbiter.decide(again.approval_id, "approved", by="agent:ana")
    assert sorted(await _refunds(arbiter)) == [20.0, 126.76]
    assert [a["outcome"] for a in final.record.approvals] == ["changed", "allowed"]


async def test_rules_run_again_after_approval(arbiter: Arbiter) -> None:
    _, approval_id = await _paused_refund(arbiter)
    arbiter.deps.validator.kill_switch.set("action:request_refund", "refund incident", "ops")
    result = await arbiter.decide(approval_id, "approved", by="agent:ana")
    assert result.record.executions == []
    assert result.record.approvals[0]["outcome"] == "denied"
    assert "system.kill_switch" in result.record.approvals[0]["revalidated_rule_ids"]
    first, again = result.record.verdicts
    assert (first.stage, first.outcome) == ("proposal", "require_approval")
    assert (again.stage, again.outcome) == ("after_approval", "deny")
    assert await _refunds(arbiter) == []


async def test_approvals_expire_and_the_turn_says_so(settings: Settings) -> None:
    short = settings.model_copy(update={"approval_ttl_s": 60.0})
    async with Arbiter.open(short) as arbiter:
        _, approval_id = await _paused_refund(arbiter)
        assert await arbiter.expire_due() == 0
        later = datetime.now(UTC) + timedelta(minutes=2)
        assert await arbiter.expire_due(now=later) == 1
        row = arbiter.approvals.get(approval_id)
        assert row is not None and row.status == "expired" and row.outcome == "expired"
        [record] = arbiter.deps.audit.for_session(row.request.session_id)
        assert "nobody decided in time" in record.final_text
        assert record.executions == []
        with pytest.raises(ConflictError, match="already expired"):
            await arbiter.decide(approval_id, "approved", by="agent:ana")


async def test_a_decision_taken_before_a_crash_is_resumed_on_recover(settings: Settings) -> None:
    async with Arbiter.open(settings) as arbiter:
        _, approval_id = await _paused_refund(arbiter)
        # The process dies right after the decision is stored, before the turn resumes.
        decision = ApprovalDecision(
            approval_id=approval_id,
            decision="approved",
            by="agent:ana",
            decided_at=datetime.now(UTC),
        )
        assert arbiter.approvals.decide(decision)
    async with Arbiter.open(settings) as restarted:
        assert await restarted.recover() == 1
        assert len(await _refunds(restarted)) == 1
        assert await restarted.recover() == 0
        assert len(await _refunds(restarted)) == 1


async def test_shopper_refund_above_threshold_waits_for_a_supervisor(arbiter: Arbiter) -> None:
    session = await arbiter.start_session(CUSTOMER)  # shopper channel: no copilot rule
    result = await arbiter.ask(session.session_id, "refund order O100005")
    [request] = result.pending
    assert request.rule_ids == ["approval.refund_amount"]
    assert request.presented_params["amount"] == 767.96
    done = await arbiter.decide(request.approval_id, "approved", by="agent:sup")
    assert "refund of $767.96" in done.text
