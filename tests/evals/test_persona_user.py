"""Persona users (scripted replies or an LLM), and how the harness runs their trials.

Also here: what makes the harness fast must not let one trial see another's sandbox
(reused sandbox apps, worker processes).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from agent.models.base import ChatModel
from agent.models.scripted import ScriptedChatModel, answer
from arbiter.cli import app
from arbiter.errors import InputError
from evals import workspace
from evals.report import load_report
from evals.runner import RunConfig, TrialResult, TurnOutcome, run_suites
from evals.scenario import Scenario, Suite, SuiteError, UserSpec, load_suite
from evals.tau2.user import STOP
from evals.user import LLMUser, ScriptedUser, player_for
from evals.workspace import SandboxSlots, scratch_root
from sandbox.app import create_app
from sandbox.faults import FaultRegistry
from sandbox.schemas import FaultSpec

SUITES = Path(__file__).resolve().parents[2] / "evals" / "suites"

NARROWING: dict[str, Any] = {
    "persona": "Maya, a runner who wants road shoes without overspending.",
    "goal": "Men's running shoes in size 10 under $100, one pair in the cart.",
    "opening": "I'm looking for running shoes",
    "replies": [
        {"when": r"Size 8\)", "say": "running shoes in size 10 please"},
        {"when": "Velox", "say": "size 10 running shoes under $100"},
        {"when": "^Here is what I found", "say": "add the first one"},
    ],
}


def _persona(scenario_id: str, user: dict[str, Any], **expect: Any) -> Scenario:
    return Scenario.model_validate({"id": scenario_id, "user": user, "expect": expect})


def _suite(*scenarios: Scenario) -> Suite:
    return Suite(name="t", path=Path("t.yaml"), scenarios=list(scenarios))


def _said(text: str) -> TurnOutcome:
    return TurnOutcome(message="m", text=text, latency_ms=1.0)


async def _run(seeded: Path, tmp: Path, *scenarios: Scenario, **kw: Any) -> list[TrialResult]:
    config = RunConfig(seeded_db=seeded, work_dir=tmp, concurrency=2, **kw)
    return await run_suites([_suite(*scenarios)], config)


@pytest.mark.parametrize(
    ("scenario", "where"),
    [
        (
            "user: {persona: p, goal: g, opening: hi}\n  turns: [hi]",
            "user: Value error, give turns",
        ),
        ("expect: {}", "user: Value error, a scenario needs turns"),
        ("user: {persona: p, goal: g}", "user.opening: Field required"),
        (
            "user: {persona: p, goal: g, opening: hi, replies: [{when: '(', say: x}]}",
            "user.replies.0.when: Value error, not a regular expression",
        ),
        (
            "user: {persona: p, goal: g, opening: hi, replies: [{when: x}]}",
            "user.replies.0.say: Field required",
        ),
        ("user: {persona: p, goal: g, opening: hi, max_turns: 0}", "user.max_turns: Input"),
        ("user: {persona: p, goal: g, opening: hi, otherwise: ''}", "user.otherwise: String"),
    ],
)
def test_a_persona_is_validated_with_the_path_of_what_is_wrong(
    tmp_path: Path, scenario: str, where: str
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(f"- id: a\n  {scenario}\n")
    with pytest.raises(SuiteError) as info:
        load_suite(path)
    assert f"{path}: scenario 'a': {where}" in str(info.value)


async def test_the_scripted_user_answers_the_first_unused_match_then_otherwise() -> None:
    spec = UserSpec.model_validate(
        {
            "persona": "p",
            "goal": "g",
            "opening": {"say": "hello", "decide": "approve"},
            "max_turns": 5,
            "replies": [
                {"when": "price", "say": "once only"},
                {"when": "PRICE|stock", "say": "again", "repeat": True, "decide": "reject"},
            ],
            "otherwise": "and?",
        }
    )
    user = ScriptedUser(spec)
    said = [await user.next_turn(None)]
    for answer_text in ["the Price is $1", "price again", "nothing here", "in stock"]:
        said.append(await user.next_turn(_said(answer_text)))
    assert [(t.say, t.decide) for t in said if t is not None] == [
        ("hello", "approve"),
        ("once only", "leave"),  # any case; the first match wins
        ("again", "reject"),  # the first reply is used up, the second repeats
        ("and?", "leave"),
        ("again", "reject"),
    ]
    assert await user.next_turn(_said("price")) is None
    assert user.stop_reason == "max_turns (5) reached"


async def test_the_scripted_user_stops_when_nothing_matches_and_there_is_no_otherwise() -> None:
    user = ScriptedUser(UserSpec.model_validate(NARROWING))
    assert (await user.next_turn(None)) is not None
    assert await user.next_turn(_said("Sorry, I can't help with that.")) is None
    assert user.stop_reason == "no reply matched the answer"


async def test_the_llm_user_is_prompted_from_persona_and_goal_and_stops_on_stop() -> None:
    model = ScriptedChatModel([answer("  size 10 please "), answer(f"thanks! {STOP}")], name="u")
    user = LLMUser(UserSpec.model_validate({**NARROWING, "decide": "reject"}), "copilot", model)
    first = await user.next_turn(None)
    second = await user.next_turn(_said("Here are running shoes: RUN-00001"))
    assert first is not None and first.say == "I'm looking for running shoes"
    assert second is not None and (second.say, second.decide) == ("size 10 please", "reject")
    assert await user.next_turn(_said("Here are size 10 shoes")) is None
    assert user.stop_reason == "the user ended the conversation"
    request = model.requests[0]
    system = request.messages[0].content or ""
    assert "support agent of an online retailer" in system  # the copilot's user is staff
    assert NARROWING["persona"] in system and NARROWING["goal"] in system
    assert [(m.role, m.content) for m in request.messages[1:]] == [
        ("assistant", "I'm looking for running shoes"),  # the scripted opening
        ("user", "Here are running shoes: RUN-00001"),
    ]
    assert request.tool_choice == "none" and user.kind == "llm:u"
    assert (user.usage.input_tokens, user.usage.output_tokens) == (20, 10)


async def test_a_persona_trial_plays_the_replies_and_is_judged_on_the_end_state(
    seeded_sandbox: Path, tmp_path: Path
) -> None:
    good = _persona(
        "narrows",
        NARROWING,
        executed=[{"type": "add_to_cart", "params": {"sku": "RUN-00005"}}],
        mentions=["RUN-00060"],  # only the third search (under $100) finds it
    )
    wrong = _persona("never-buys", {**NARROWING, "replies": NARROWING["replies"][:1]})
    wrong = wrong.model_copy(update={"expect": good.expect})
    done, failed = await _run(seeded_sandbox, tmp_path, good, wrong)
    assert done.passed, done.failures
    assert [t.message for t in done.turns] == [
        "I'm looking for running shoes",
        "running shoes in size 10 please",
        "size 10 running shoes under $100",
        "add the first one",
    ]
    assert (done.user, done.user_stop) == ("scripted", "no reply matched the answer")
    assert done.cart[0]["sku"] == "RUN-00005"
    assert failed.failures == [
        "not executed: add_to_cart {'sku': 'RUN-00005'}",
        "answer does not mention 'RUN-00060'",
    ]


async def test_an_llm_user_writes_the_messages_when_a_user_model_is_given(
    seeded_sandbox: Path, tmp_path: Path
) -> None:
    models: list[ScriptedChatModel] = []

    def user_model(suite: Suite, scenario: Scenario) -> ChatModel:
        models.append(ScriptedChatModel([answer("size 10 running shoes"), answer(STOP)], name="u"))
        return models[-1]

    scenario = _persona("llm", NARROWING, mentions=["RUN-00039"])
    [result] = await _run(seeded_sandbox, tmp_path, scenario, user_model=user_model)
    assert result.passed, result.failures
    assert [t.message for t in result.turns] == [
        "I'm looking for running shoes",
        "size 10 running shoes",
    ]
    assert (result.user, result.user_stop) == ("llm:u", "the user ended the conversation")
    assert (result.user_input_tokens, result.user_output_tokens) == (20, 10)
    models[0].assert_exhausted()


def test_the_shipped_suites_have_personas_in_most_suites() -> None:
    personas = [
        (suite, s)
        for suite in (load_suite(path) for path in sorted(SUITES.glob("*.yaml")))
        for s in suite.scenarios
        if s.user is not None
    ]
    assert len(personas) >= 6 and len({suite.name for suite, _ in personas}) >= 3
    assert {player_for(suite, s).kind for suite, s in personas} == {"scripted"}
    assert all("persona" in s.tags for _, s in personas)


def test_cli_plays_scripted_replies_when_no_user_endpoint_is_configured(tmp_path: Path) -> None:
    out = tmp_path / "out"
    suite = str(SUITES / "shopping.yaml")
    args = ["eval", "run", suite, "--scenario", "persona-narrowing-shopper", "--out", str(out)]
    result = CliRunner().invoke(app, [*args, "--user-model", "gpt-4o-mini"])
    assert result.exit_code == 0, result.output
    assert "persona users play their scripted replies" in " ".join(result.output.split())
    [trial] = load_report(out).results
    assert trial.passed and trial.user == "scripted" and len(trial.turns) == 5


# ---- speed without sharing: reused sandbox apps, worker processes ------------------------

FAULTED_CART = Scenario.model_validate(
    {
        "id": "leaves-a-mess",
        "setup": {"faults": [{"service": "pricing", "error_rate": 1.0}]},
        "turns": ["add RUN-00005 to my cart"],
        "expect": {"cart": [{"sku": "RUN-00005"}]},
    }
)
CLEAN_AFTER = Scenario.model_validate(
    {
        "id": "sees-a-fresh-sandbox",
        "turns": ["how much is RUN-00005?"],
        "expect": {"cart_empty": True, "mentions": ["$89.99"], "not_claims": ["couldn't"]},
    }
)


def test_trials_run_on_tmpfs_unless_told_where(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert scratch_root(tmp_path / "given") == tmp_path / "given"
    monkeypatch.setattr(workspace, "TMPFS", tmp_path)
    assert scratch_root(None) == tmp_path
    monkeypatch.setattr(workspace, "TMPFS_ROOM", 2**62)  # not enough room: the system temp
    assert scratch_root(None) is None
    monkeypatch.setattr(workspace, "TMPFS", tmp_path / "missing")
    assert scratch_root(None) is None


async def test_a_reused_sandbox_app_keeps_nothing_of_the_previous_trial(
    seeded_sandbox: Path, tmp_path: Path
) -> None:
    config = RunConfig(seeded_db=seeded_sandbox, work_dir=tmp_path, concurrency=1)
    first, second = await run_suites([_suite(FAULTED_CART, CLEAN_AFTER)], config)
    assert first.passed and second.passed, (first.failures, second.failures)


def test_binding_a_slot_app_empties_and_reseeds_its_faults(tmp_path: Path) -> None:
    sandbox = create_app(tmp_path / "a.sqlite")
    faults: FaultRegistry = sandbox.state.faults
    faults.set("pricing", FaultSpec(error_rate=0.5))
    first_draws = [faults.roll() for _ in range(3)]
    assert [faults.roll() for _ in range(3)] != first_draws  # the draws move on
    SandboxSlots.bind(sandbox, tmp_path / "b.sqlite")
    assert faults.all() == [] and sandbox.state.db_path == tmp_path / "b.sqlite"
    assert [faults.roll() for _ in range(3)] == first_draws  # as a new app's would


async def test_worker_processes_give_the_same_trials_in_order(
    seeded_sandbox: Path, tmp_path: Path
) -> None:
    scenarios = [
        _persona("narrows", NARROWING, mentions=["RUN-00060"]),
        FAULTED_CART,
        CLEAN_AFTER,
    ]
    seen: list[str] = []
    config = RunConfig(
        seeded_db=seeded_sandbox,
        work_dir=tmp_path,
        concurrency=2,
        workers=2,
        trials=2,
        on_trial_done=lambda r: seen.append(r.scenario_id),
    )
    spread = await run_suites([_suite(*scenarios)], config)
    alone = await _run(seeded_sandbox, tmp_path, *scenarios, trials=2)

    def transcript(results: list[TrialResult]) -> list[tuple[str, int, bool, list[str]]]:
        return [(r.scenario_id, r.trial, r.passed, [t.text for t in r.turns]) for r in results]

    assert transcript(spread) == transcript(alone)
    assert all(r.passed for r in spread), [r.failures for r in spread]
    assert sorted(seen) == sorted(r.scenario_id for r in spread)


async def test_worker_processes_refuse_what_cannot_be_pickled(
    seeded_sandbox: Path, tmp_path: Path
) -> None:
    config = RunConfig(
        seeded_db=seeded_sandbox, work_dir=tmp_path, workers=2, validator_factory=lambda v: v
    )
    with pytest.raises(InputError, match="picklable"):
        await run_suites([_suite(CLEAN_AFTER)], config)
