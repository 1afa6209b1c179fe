"""The kill switch: stored where every replica sees it, read on every verdict."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from agent.models.base import ModelKind, ModelRequest, ModelResponse
from agent.models.scripted import ScriptedChatModel, answer, step, tool_call
from agent.runtime import Arbiter
from arbiter.cli import app
from arbiter.errors import InputError
from arbiter.settings import Settings
from guardrails.kill_switch import KillSwitch, KillSwitchUnavailable, SqliteKillSwitch, Switch
from guardrails.validator import FAIL_CLOSED_RULE, KILL_SWITCH_RULE, Validator
from guardrails.verdict import ProposedAction, Verdict
from sandbox.seed import SAMPLE_CUSTOMER_ID
from tests.conftest import OpenArbiter
from tests.guardrails.test_ledger_postgres import BACKENDS, Backend, backend
from tools.spec import Channel, ToolContext

DISCOUNT = {"sku": "RUN-00005", "percent": 5, "reason": "goodwill", "competitor": None}
ADD = {"sku": "RUN-00005", "quantity": 1}


@pytest.fixture(params=BACKENDS)
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    with backend(request.param, tmp_path) as opened:
        yield opened


def test_switches_are_set_seen_by_another_replica_and_cleared(db: Backend) -> None:
    mine, other = db.kill_switch(), db.kill_switch()
    assert other.blocks("offer_discount", "shopper") is None
    mine.set("action:offer_discount", "pricing incident", "ops")
    hit = other.blocks("offer_discount", "shopper")
    assert hit is not None and (hit.scope, hit.reason, hit.set_by) == (
        "action:offer_discount",
        "pricing incident",
        "ops",
    )
    assert other.blocks("add_to_cart", "shopper") is None
    mine.set("channel:copilot", "bad deploy", "ops")
    assert other.blocks("add_to_cart", "shopper") is None
    assert other.blocks("add_to_cart", "copilot") is not None
    mine.set("all", "stop", "ops")
    mine.set("action:offer_discount", "still pricing", "ops2")  # updates in place
    assert [s.scope for s in other.active()] == ["all", "channel:copilot", "action:offer_discount"]
    assert other.active()[-1].reason == "still pricing"
    blocked = other.blocks("offer_discount", "copilot")
    assert blocked is not None and blocked.scope == "all"  # the most general switch wins
    assert mine.clear("all") and not mine.clear("all")
    assert other.clear("channel:copilot") and other.clear("action:offer_discount")
    assert other.active() == [] and mine.blocks("offer_discount", "copilot") is None


@pytest.mark.parametrize("scope", ["", "everything", "action:", "channel:email", "sku:RUN-1"])
def test_malformed_scopes_are_refused(tmp_path: Path, scope: str) -> None:
    switch = SqliteKillSwitch(tmp_path / "k.sqlite")
    with pytest.raises(InputError, match="kill switch scope"):
        switch.set(scope, "x", "ops")
    switch.close()


# --- the validator consults the switch on every verdict ----------------------------------


def _action(kind: str, params: dict[str, Any]) -> ProposedAction:
    return ProposedAction(id="act_1", type=kind, params=params, call_id="c1", llm_call_index=0)


async def _ctx(arbiter: Arbiter, channel: Channel = "shopper") -> ToolContext:
    customer = await arbiter.client.get(f"/customers/{SAMPLE_CUSTOMER_ID}")
    return ToolContext(
        customer_id=SAMPLE_CUSTOMER_ID,
        session_id="ses_kill",
        channel=channel,
        region=customer["region"],
        postcode=customer["postcode"],
        loyalty_tier=customer["loyalty_tier"],
        client=arbiter.client,
    )


@pytest.fixture
async def replica(arbiter: Arbiter) -> AsyncIterator[KillSwitch]:
    """The same switches as the arbiter's, opened separately (as another replica would)."""
    switch = SqliteKillSwitch(arbiter.settings.path("budget.sqlite"))
    yield switch
    switch.close()


async def _verdict(
    arbiter: Arbiter, kind: str, params: dict[str, Any], channel: Channel = "shopper"
) -> Verdict:
    return await arbiter.deps.validator.evaluate(
        _action(kind, params), await _ctx(arbiter, channel)
    )


async def test_an_action_switch_denies_that_action_only(
    arbiter: Arbiter, replica: KillSwitch
) -> None:
    await arbiter.client.post(
        "/carts", json={"customer_id": SAMPLE_CUSTOMER_ID}, idempotency_key="kc"
    )
    assert (await _verdict(arbiter, "add_to_cart", ADD)).outcome == "allow"
    replica.set("action:offer_discount", "pricing incident", "ops")
    denied = await _verdict(arbiter, "offer_discount", DISCOUNT)
    assert denied.outcome == "deny" and denied.rule_ids == [KILL_SWITCH_RULE]
    assert "paused by our team" in denied.reasons[0]
    # The operator's words are kept for the record, not shown to the shopper.
    assert "pricing incident" not in denied.reasons[0]
    [switch] = [f for f in denied.facts if f.kind == "kill_switch"]
    assert (switch.key, switch.value["reason"], switch.value["set_by"]) == (
        "action:offer_discount",
        "pricing incident",
        "ops",
    )
    assert (await _verdict(arbiter, "add_to_cart", ADD)).outcome == "allow"


async def test_channel_and_all_switches_and_clear(arbiter: Arbiter, replica: KillSwitch) -> None:
    replica.set("channel:copilot", "copilot rollout paused", "ops")
    assert (await _verdict(arbiter, "add_to_cart", ADD)).outcome == "allow"
    copilot = await _verdict(arbiter, "add_to_cart", ADD, channel="copilot")
    assert copilot.rule_ids == [KILL_SWITCH_RULE]
    replica.set("all", "incident", "ops")
    assert (await _verdict(arbiter, "add_to_cart", ADD)).rule_ids == [KILL_SWITCH_RULE]
    replica.clear("all")
    replica.clear("channel:copilot")
    # Back to the policy: copilot writes wait for a person, no longer stopped by a switch.
    reopened = await _verdict(arbiter, "add_to_cart", ADD, channel="copilot")
    assert (reopened.outcome, reopened.rule_ids) == (
        "require_approval",
        ["approval.copilot_writes"],
    )


class _UnreadableSwitch:
    def blocks(self, action_type: str, channel: str) -> Switch | None:
        raise KillSwitchUnavailable("database gone")


async def test_an_unreadable_switch_fails_closed(arbiter: Arbiter) -> None:
    validator = arbiter.deps.validator
    broken = Validator(validator.policy, validator.ledger, kill_switch=_UnreadableSwitch())  # type: ignore[arg-type]
    verdict = await broken.evaluate(_action("add_to_cart", ADD), await _ctx(arbiter))
    assert verdict.outcome == "deny" and verdict.rule_ids == [FAIL_CLOSED_RULE]


async def test_a_validator_built_without_a_switch_reads_none(arbiter: Arbiter) -> None:
    validator = arbiter.deps.validator
    bare = Validator(validator.policy, validator.ledger)
    operator = SqliteKillSwitch(arbiter.settings.path("budget.sqlite"))
    operator.set("all", "x", "ops")
    verdict = await bare.evaluate(_action("add_to_cart", ADD), await _ctx(arbiter))
    operator.close()
    assert verdict.outcome == "allow"


# --- a turn already in flight -------------------------------------------------------------


class _SwitchOnSecondStep:
    """Scripted steps; just before answering step 2 an operator elsewhere flips a switch."""

    def __init__(self, steps: list[ModelResponse], flip: Callable[[], object]) -> None:
        self.scripted = ScriptedChatModel(steps)
        self._flip = flip

    @property
    def kind(self) -> ModelKind:
        return self.scripted.kind

    @property
    def model_name(self) -> str:
        return self.scripted.model_name

    async def complete(self, request: ModelRequest) -> ModelResponse:
        if len(self.scripted.requests) == 1:
            self._flip()
        return await self.scripted.complete(request)


async def test_a_switch_stops_a_turn_in_flight_at_its_next_verdict(
    open_arbiter: OpenArbiter, settings: Settings
) -> None:
    operator = SqliteKillSwitch(settings.path("budget.sqlite"))
    model = _SwitchOnSecondStep(
        [
            step(tool_call("add_to_cart", **ADD)),
            step(tool_call("offer_discount", **DISCOUNT)),
            answer("Discounts are paused right now."),
        ],
        flip=lambda: operator.set("action:offer_discount", "pricing incident", "ops"),
    )
    async with open_arbiter(model) as arbiter:
        session = await arbiter.start_session(SAMPLE_CUSTOMER_ID)
        result = await arbiter.ask(session.session_id, "add RUN-00005 and give me 5% off")
    operator.close()
    model.scripted.assert_exhausted()
    record = result.record
    assert [(v.outcome, v.rule_ids) for v in record.verdicts] == [
        ("allow", []),
        ("deny", [KILL_SWITCH_RULE]),
    ]
    assert [(e.type, e.status) for e in record.executions] == [("add_to_cart", "executed")]
    denial = model.scripted.requests[2].messages[-1].content or ""
    assert KILL_SWITCH_RULE in denial and "paused by our team" in denial
    assert "pricing incident" not in denial


# --- the operator's command ---------------------------------------------------------------


def test_cli_sets_lists_and_clears_switches(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ARBITER_DATA_DIR", str(tmp_path))
    runner = CliRunner()
    on = runner.invoke(
        app,
        ["kill-switch", "set", "--action", "offer_discount", "--reason", "pricing", "--by", "me"],
    )
    assert on.exit_code == 0, on.output
    assert "action:offer_discount" in on.output
    assert SqliteKillSwitch(tmp_path / "budget.sqlite").blocks("offer_discount", "shopper")
    listed = runner.invoke(app, ["kill-switch", "status"])
    assert "action:offer_discount" in listed.output and "pricing" in listed.output
    off = runner.invoke(app, ["kill-switch", "clear", "--action", "offer_discount"])
    assert off.exit_code == 0 and "off" in off.output
    assert "No kill switch is on" in runner.invoke(app, ["kill-switch", "status"]).output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["set", "--reason", "x"], "exactly one of"),
        (["set", "--all", "--channel", "shopper", "--reason", "x"], "exactly one of"),
        (["set", "--action", "launch_rockets", "--reason", "x"], "unknown action type"),
        (["set", "--channel", "email", "--reason", "x"], "kill switch scope"),
        (["set", "--all", "--reason", "  "], "--reason cannot be empty"),
    ],
)
def test_cli_refuses_unclear_requests(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str], message: str
) -> None:
    monkeypatch.setenv("ARBITER_DATA_DIR", str(tmp_path))
    result = CliRunner().invoke(app, ["kill-switch", *args])
    assert result.exit_code == 2 and message in result.output
