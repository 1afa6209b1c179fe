"""Hot reload: an edited file is the next turn's policy; a broken one keeps the old; a turn
in flight keeps the version it started with."""

from __future__ import annotations

import asyncio
import logging
import os
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agent.audit_store import AuditStore
from agent.deps import TurnContext, TurnDeps
from agent.models.base import ModelKind, ModelRequest, ModelResponse
from agent.models.scripted import ScriptedChatModel, answer, step, tool_call
from agent.nodes.act import validate
from agent.nodes.finish import build_record
from agent.record import CustomerContext, Principal
from agent.runtime import Arbiter
from agent.state import TurnScratch
from arbiter.settings import Settings
from guardrails.budget import BudgetLedger, SqliteBudgetLedger
from guardrails.facts import FactBundle
from guardrails.policy import DEFAULT_POLICY_PATH, load_policy
from guardrails.policy_archive import PolicyArchive
from guardrails.policy_store import PolicyStore
from guardrails.validator import Validator, decide
from guardrails.verdict import ProposedAction
from sandbox.seed import SAMPLE_CUSTOMER_ID
from tools.client import CapabilityClient
from tools.spec import ToolContext

DEFAULT = DEFAULT_POLICY_PATH.read_text()


def write_policy(path: Path, text: str) -> None:
    """Write a policy and move its mtime forward, so even a same-size edit is seen."""
    before = path.stat().st_mtime_ns if path.exists() else 0
    path.write_text(text)
    stamp = max(before + 1_000_000_000, path.stat().st_mtime_ns)
    os.utime(path, ns=(stamp, stamp))


def with_cap(percent: int, budget: int = 60) -> str:
    """The default policy with another running-shoes cap and session budget."""
    return DEFAULT.replace("running-shoes: 20", f"running-shoes: {percent}").replace(
        "max_amount: 60", f"max_amount: {budget}"
    )


@pytest.fixture
def policy_file(tmp_path: Path) -> Path:
    path = tmp_path / "policy.yaml"
    write_policy(path, DEFAULT)
    return path


# --- the store ------------------------------------------------------------------------


def test_an_activation_reaches_every_process_sharing_the_archive(
    policy_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two workers: what an operator activates on one is in force on the other."""
    from guardrails import policy_store
    from guardrails.policy import parse_policy

    def worker() -> PolicyStore:
        archive = PolicyArchive.at(tmp_path / "audit.sqlite")
        return PolicyStore(load_policy(policy_file), path=policy_file, archive=archive)

    one, two = worker(), worker()
    stricter = parse_policy(with_cap(5).encode(), source="api")
    candidate = parse_policy(with_cap(7).encode(), source="api")
    one.activate(stricter, by="operator:ana")
    one.set_shadow(candidate, by="operator:ana")
    assert two.active.version != stricter.version
    monkeypatch.setattr(policy_store, "PIN_CHECK_S", 0.0)  # no wait for the next check
    two.reload()
    assert two.active.version == stricter.version
    assert two.shadow is not None and two.shadow.version == candidate.version
    one.set_shadow(None, by="operator:ana")
    two.reload()
    assert two.shadow is None
    # An edited file outranks the pin it replaced, in every process.
    write_policy(policy_file, with_cap(9))
    assert two.reload().changed and one.reload().changed
    assert one.active.version == two.active.version != stricter.version


def test_reload_activates_an_edited_file_and_archives_it(policy_file: Path, tmp_path: Path) -> None:
    archive = PolicyArchive.at(tmp_path / "audit.sqlite")
    store = PolicyStore(load_policy(policy_file), path=policy_file, archive=archive)
    first = store.pin()
    assert store.reload().changed is False
    write_policy(policy_file, with_cap(5))
    result = store.reload()
    assert result.changed and result.error is None
    assert store.pin().version == result.version != first.version
    assert first.active.version != result.version  # a pin taken earlier never changes
    assert archive.get(first.version) is not None
    assert archive.get(result.version) is not None


def test_a_broken_edit_keeps_the_old_policy_and_reports_why(
    policy_file: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = PolicyStore(load_policy(policy_file), path=policy_file)
    before = store.pin().version
    write_policy(policy_file, with_cap(5).replace("default_percent: 15", "default_percent: 150"))
    with caplog.at_level(logging.ERROR, logger="arbiter.guardrails"):
        result = store.reload()
    assert not result.changed and result.version == before == store.pin().version
    assert result.error is not None and store.last_error is result.error
    assert any("default_percent" in p for p in result.error.problems)
    assert "policy reload rejected" in caplog.text and "default_percent" in caplog.text
    assert store.reload().error is result.error  # not re-read until the file changes again
    write_policy(policy_file, with_cap(5))
    fixed = store.reload()
    assert fixed.changed and fixed.error is None and store.last_error is None


def test_a_deleted_file_keeps_the_old_policy(policy_file: Path) -> None:
    store = PolicyStore(load_policy(policy_file), path=policy_file)
    before = store.pin().version
    policy_file.unlink()
    result = store.reload()
    assert result.error is not None and store.pin().version == before


def test_activate_swaps_the_policy_for_later_pins_only(policy_file: Path) -> None:
    store = PolicyStore(load_policy(policy_file))
    pinned = store.pin()
    write_policy(policy_file, with_cap(5))
    store.activate(load_policy(policy_file))
    assert pinned.version != store.pin().version == store.active.version


# --- turns ----------------------------------------------------------------------------


class EditingModel:
    """A ScriptedChatModel that runs an edit just before answering a given request."""

    def __init__(self, inner: ScriptedChatModel, edits: dict[int, Callable[[], None]]) -> None:
        self.inner = inner
        self.edits = edits

    @property
    def kind(self) -> ModelKind:
        return self.inner.kind

    @property
    def model_name(self) -> str:
        return self.inner.model_name

    async def complete(self, request: ModelRequest) -> ModelResponse:
        edit = self.edits.get(len(self.inner.requests) + 1)
        if edit is not None:
            edit()
        return await self.inner.complete(request)


def _settings(settings: Settings, policy_file: Path) -> Settings:
    return settings.model_copy(update={"policy_file": policy_file})


async def test_the_next_turn_uses_an_edited_policy_file(
    settings: Settings, policy_file: Path
) -> None:
    model = ScriptedChatModel(
        [
            step(tool_call("add_to_cart", sku="RUN-00005", quantity=1)),
            answer("Added."),
            step(tool_call("offer_discount", sku="RUN-00005", percent=10, reason="goodwill")),
            answer("Done."),
        ]
    )
    async with Arbiter.open(_settings(settings, policy_file), model=model) as arbiter:
        session = await arbiter.start_session(SAMPLE_CUSTOMER_ID)
        first = await arbiter.ask(session.session_id, "add RUN-00005")
        write_policy(policy_file, with_cap(5))
        second = await arbiter.ask(session.session_id, "10% off please")
    assert first.record.policy_version != second.record.policy_version
    [verdict] = second.record.verdicts
    assert verdict.policy_version == second.record.policy_version
    assert verdict.outcome == "deny" and verdict.rule_ids == ["discount.max_percent"]


async def test_a_turn_in_flight_keeps_its_pinned_version(
    settings: Settings, policy_file: Path
) -> None:
    holder: list[Arbiter] = []

    def tighten() -> None:
        write_policy(policy_file, with_cap(5))
        assert holder[0].policies.reload().changed

    script = ScriptedChatModel(
        [
            step(tool_call("add_to_cart", sku="RUN-00005", quantity=1)),
            step(tool_call("offer_discount", sku="RUN-00005", percent=10, reason="goodwill")),
            answer("Added, and 10% off."),
            step(tool_call("offer_discount", sku="RUN-00005", percent=10, reason="goodwill")),
            answer("No."),
        ]
    )
    model = EditingModel(script, {2: tighten})
    async with Arbiter.open(_settings(settings, policy_file), model=model) as arbiter:
        holder.append(arbiter)
        started_with = arbiter.policies.pin().version
        session = await arbiter.start_session(SAMPLE_CUSTOMER_ID)
        result = await arbiter.ask(session.session_id, "add RUN-00005 and take 10% off")
        record = result.record
        assert [v.policy_version for v in record.verdicts] == [started_with, started_with]
        assert record.policy_version == started_with != arbiter.policies.pin().version
        assert [v.outcome for v in record.verdicts] == ["allow", "allow"]  # old 20% cap
        assert [e.status for e in record.executions] == ["executed", "executed"]
        later = await arbiter.ask(session.session_id, "another 10%?")
    assert later.record.policy_version == arbiter.policies.pin().version != started_with
    assert later.record.verdicts[0].rule_ids == ["discount.max_percent"]


# --- property: one turn, one version ----------------------------------------------------


def _facts_now(ledger: BudgetLedger) -> FactBundle:
    return FactBundle(
        product={"sku": "RUN-1", "category": "running-shoes", "brand": "Stride"},
        price={"sku": "RUN-1", "list_price": 100.0, "unit_cost": 40.0, "map_price": None},
        cart={"customer_id": "C1", "lines": [{"sku": "RUN-1", "quantity": 1}]},
        session_discount_spent=ledger.spent("session:s1"),
    )


def _discount_facts(ledger: BudgetLedger) -> Any:
    async def read(action: ProposedAction, ctx: ToolContext, _: BudgetLedger) -> FactBundle:
        return _facts_now(ledger)

    return read


edit = st.tuples(st.integers(min_value=1, max_value=60), st.integers(min_value=1, max_value=200))
steps = st.lists(
    st.one_of(
        st.tuples(st.just("edit"), edit),
        st.tuples(st.just("broken"), st.just((0, 0))),
        st.tuples(st.just("propose"), st.tuples(st.integers(1, 70), st.just(0))),
    ),
    min_size=1,
    max_size=12,
)


async def _turns(tmp: Path, plan: list[tuple[str, tuple[int, int]]]) -> None:
    path = tmp / "policy.yaml"
    write_policy(path, DEFAULT)
    ledger = SqliteBudgetLedger(tmp / "budget.sqlite")
    store = PolicyStore(load_policy(path), path=path)
    deps = TurnDeps(
        model=ScriptedChatModel([]),
        validator=Validator(store, ledger, facts=_discount_facts(ledger)),
        ledger=ledger,
        audit=AuditStore(tmp / "audit.sqlite"),
    )
    tools = ToolContext(
        customer_id="C1",
        session_id="s1",
        channel="shopper",
        region="midwest",
        postcode="60601",
        loyalty_tier="gold",
        client=cast(CapabilityClient, None),
    )
    customer = CustomerContext(name="T", region="midwest", postcode="60601", loyalty_tier="gold")
    # Two turns over the same edits: the second starts under whatever the first left active.
    for turn in range(2):
        store.reload()
        pin = store.pin()
        ctx = TurnContext(tools=tools, customer=customer, pin=pin)
        scratch = TurnScratch(
            turn_id=f"t{turn}",
            session_id="s1",
            principal=Principal(customer_id="C1", channel="shopper"),
            customer=customer,
            user_message="x",
            started_at=datetime.now(UTC),
        )
        for n, (kind, (a, b)) in enumerate(plan):
            if kind == "edit":
                write_policy(path, with_cap(a, b))
                store.reload()
            elif kind == "broken":
                write_policy(path, "rules: [")
                assert store.reload().error is not None
            else:
                action = ProposedAction(
                    id=f"act_{n}",
                    type="offer_discount",
                    params={"sku": "RUN-1", "percent": a, "reason": "goodwill", "competitor": None},
                    call_id=f"c{n}",
                    llm_call_index=0,
                )
                scratch.proposals.append(action)
                scratch.pending_actions = [action.id]
                await validate(deps, ctx, scratch)
        record = build_record(deps, scratch, [], ctx)
        assert record.policy_version == pin.version
        assert all(v.policy_version == pin.version for v in record.verdicts)
        # Not only the label: each verdict is what the pinned policy decides.
        facts = _facts_now(ledger)
        for action, verdict in zip(scratch.proposals, record.verdicts, strict=True):
            expected = decide(pin.active, action, facts, tools)
            assert (verdict.outcome, verdict.rule_ids) == (expected.outcome, expected.rule_ids)
    deps.audit.close()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(plan=steps)
def test_for_any_policy_edits_a_turns_verdicts_come_from_one_version(
    plan: list[tuple[str, tuple[int, int]]],
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        asyncio.run(_turns(Path(tmp), plan))


async def test_replicas_on_other_hosts_share_activations_through_postgresql(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two runtimes with separate data directories meet only in PostgreSQL."""
    import shutil

    from guardrails import policy_store
    from guardrails.policy import parse_policy
    from tests.guardrails.test_ledger_postgres import postgres_schema

    monkeypatch.setattr(policy_store, "PIN_CHECK_S", 0.0)
    other_dir = tmp_path / "other-host"
    other_dir.mkdir()
    shutil.copy(settings.data_dir / "sandbox.sqlite", other_dir / "sandbox.sqlite")
    with postgres_schema() as url:
        here = settings.model_copy(update={"database_url": url})
        there = here.model_copy(update={"data_dir": other_dir})
        async with Arbiter.open(here) as one, Arbiter.open(there) as two:
            stricter = parse_policy(with_cap(5).encode(), source="api")
            one.policies.activate(stricter, by="operator:ana")
            two.policies.reload()
            assert two.policies.active.version == stricter.version
            archived = two.policies.archive
            assert archived is not None and archived.get(stricter.version) is not None
        assert not (other_dir / "audit.sqlite").exists()  # nothing of it on that host
