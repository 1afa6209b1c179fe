"""Shadow mode: a candidate policy decides beside the active one, recorded, never enforced."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.models.scripted import ScriptedChatModel, answer, step, tool_call
from agent.record import Principal
from agent.runtime import Arbiter
from arbiter.settings import Settings
from guardrails.budget import BudgetLedger
from guardrails.facts import FactBundle, read_facts
from guardrails.policy import DEFAULT_POLICY_PATH, load_policy, parse_policy
from guardrails.policy_store import PolicyPin, PolicyStore, RuleSet
from guardrails.validator import Validator
from guardrails.verdict import ProposedAction
from sandbox.seed import SAMPLE_CUSTOMER_ID
from tools.spec import ToolContext

STRICT = DEFAULT_POLICY_PATH.read_bytes().replace(b"running-shoes: 20", b"running-shoes: 5")


@pytest.fixture
def strict_file(tmp_path: Path) -> Path:
    path = tmp_path / "candidate.yaml"
    path.write_bytes(STRICT)
    return path


def _script() -> ScriptedChatModel:
    return ScriptedChatModel(
        [
            step(tool_call("add_to_cart", sku="RUN-00005", quantity=1)),
            step(tool_call("offer_discount", sku="RUN-00005", percent=10, reason="goodwill")),
            answer("Added it, with 10% off."),
        ]
    )


async def test_a_stricter_shadow_is_recorded_but_not_enforced(
    settings: Settings, strict_file: Path
) -> None:
    shadowed = settings.model_copy(update={"shadow_policy_file": strict_file})
    async with Arbiter.open(shadowed, model=_script()) as arbiter:
        session = await arbiter.start_session(SAMPLE_CUSTOMER_ID)
        result = await arbiter.ask(session.session_id, "add RUN-00005 with 10% off")
        spent = arbiter.deps.ledger.spent(f"session:{session.session_id}")
    record = result.record
    # Enforced: the active policy (20% cap) allowed it, and it ran and was paid for.
    assert [v.outcome for v in record.verdicts] == ["allow", "allow"]
    assert [e.status for e in record.executions] == ["executed", "executed"]
    assert spent == pytest.approx(
        record.verdicts[1].budget.amount if record.verdicts[1].budget else 0
    )
    assert result.text == "Added it, with 10% off."
    # Recorded: the candidate would have denied the discount, and says why.
    assert record.shadow is not None
    assert record.shadow.policy_version == load_policy(strict_file).version != record.policy_version
    assert record.shadow.evaluated == 2
    [difference] = record.shadow.differences
    assert difference.action_id == record.proposals[1].id and difference.type == "offer_discount"
    assert difference.active.outcome == "allow" and difference.active.rule_ids == []
    assert difference.shadow.outcome == "deny"
    assert difference.shadow.rule_ids == ["discount.max_percent"]
    assert "maximum of 5%" in difference.shadow.reasons[0]


async def test_no_shadow_configured_records_none(settings: Settings) -> None:
    async with Arbiter.open(settings, model=_script()) as arbiter:
        session = await arbiter.start_session(SAMPLE_CUSTOMER_ID)
        result = await arbiter.ask(session.session_id, "add RUN-00005 with 10% off")
    assert result.record.shadow is None


async def test_set_shadow_applies_from_the_next_turn(settings: Settings) -> None:
    async with Arbiter.open(settings, model=_script()) as arbiter:
        arbiter.policies.set_shadow(parse_policy(STRICT, source="candidate"))
        session = await arbiter.start_session(SAMPLE_CUSTOMER_ID)
        result = await arbiter.ask(session.session_id, "add RUN-00005 with 10% off")
    assert result.record.shadow is not None
    assert [d.shadow.outcome for d in result.record.shadow.differences] == ["deny"]


async def test_shadow_evaluation_reuses_the_facts_read_for_the_active_verdict(
    arbiter: Arbiter,
) -> None:
    reads: list[str] = []

    async def counting(
        action: ProposedAction, ctx: ToolContext, ledger: BudgetLedger
    ) -> FactBundle:
        reads.append(action.id)
        return await read_facts(action, ctx, ledger)

    active = load_policy()
    store = PolicyStore(active, shadow=parse_policy(STRICT, source="candidate"))
    validator = Validator(store, arbiter.deps.ledger, facts=counting)
    tools, _ = await arbiter.tool_context(_principal(), "ses_shadow")
    action = ProposedAction(
        id="a1",
        type="add_to_cart",
        params={"sku": "RUN-00005", "quantity": 1},
        call_id="c1",
        llm_call_index=0,
    )
    enforced, shadow = await validator.evaluate_both(action, tools, store.pin())
    assert reads == ["a1"]
    assert shadow is not None and shadow.policy_version != enforced.policy_version
    assert shadow.facts == enforced.facts


async def test_a_failing_shadow_never_breaks_the_enforced_verdict(arbiter: Arbiter) -> None:
    class Broken(RuleSet):
        def applicable(self, *args: object, **kwargs: object) -> object:  # type: ignore[override]
            raise RuntimeError("candidate bug")

    pin = PolicyPin(RuleSet(load_policy()), Broken(parse_policy(STRICT, source="candidate")))
    tools, _ = await arbiter.tool_context(_principal(), "ses_shadow")
    action = ProposedAction(
        id="a1",
        type="add_to_cart",
        params={"sku": "RUN-00005", "quantity": 1},
        call_id="c1",
        llm_call_index=0,
    )
    enforced, shadow = await arbiter.deps.validator.evaluate_both(action, tools, pin)
    assert enforced.outcome == "allow" and shadow is None


def _principal() -> Principal:
    return Principal(customer_id=SAMPLE_CUSTOMER_ID, channel="shopper")
