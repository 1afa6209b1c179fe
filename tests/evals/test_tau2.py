"""The tau-bench retail peer suite (evals.tau2): loader, reward, gold and LLM modes, pass^k."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from agent.deps import TurnLimits
from agent.models.base import ModelParams
from agent.models.scripted import ScriptedChatModel, answer, step, tool_call
from arbiter.cli import app
from arbiter.settings import Settings
from evals.conformance import DEFAULT_PEERS, SETS
from evals.tau2 import reference
from evals.tau2.env import prepare_env
from evals.tau2.episode import missing_outputs
from evals.tau2.passk import pass_hat_curve, pass_hat_k, task_pass_hat_k
from evals.tau2.players import Player, chat_players, gold_agent, gold_player, llm_players
from evals.tau2.reference import expected_state
from evals.tau2.runner import Tau2Config, run_tau2
from evals.tau2.tasks import (
    GoldCall,
    TaskFileError,
    TaskSelectionError,
    Tau2Task,
    load_tasks,
)
from evals.tau2.user import GREETING, STOP, SimulatedUser

pytestmark = pytest.mark.skipif(
    not all((DEFAULT_PEERS / folder).is_dir() for folder in SETS.values()),
    reason="peer data (../shared/peers) not present",
)

GOLD_SAMPLE = ["0", "16", "24", "43", "64", "105"]
"""An exchange, an answer with a required output, a task with no gold call, a user
address change, and the two tasks whose gold write the benchmark's own tool refuses."""


def config(tmp_path: Path, *ids: str, set_name: str = "tau2", trials: int = 1) -> Tau2Config:
    return Tau2Config(
        set_name="tau2" if set_name == "tau2" else "original",
        task_ids=list(ids),
        trials=trials,
        work_dir=tmp_path,
    )


# --- loading ------------------------------------------------------------------------


def test_tau2_loader_reads_splits_gold_calls_and_required_outputs() -> None:
    base = load_tasks("tau2")
    test = load_tasks("tau2", "test")
    train = load_tasks("tau2", "train")

    assert (len(base), len(test), len(train)) == (114, 40, 74)
    assert {t.task_id for t in test} | {t.task_id for t in train} == {t.task_id for t in base}
    first = base[0]
    assert first.ref == "0"
    assert first.scenario.known_info == "You are Yusuf Rossi in zip code 19122."
    assert [c.name for c in first.writes] == ["exchange_delivered_order_items"]
    assert next(t for t in base if t.task_id == "16").outputs == ["8276.23"]


def test_original_loader_uses_positions_as_ids_and_kwargs_as_arguments() -> None:
    tasks = load_tasks("original", task_ids=["64"])

    assert [t.ref for t in tasks] == ["test:64"]
    assert tasks[0].user_id is not None
    assert all(isinstance(c.arguments, dict) for c in tasks[0].actions)
    assert len(load_tasks("original", "dev")) == 20


def test_loader_errors_name_the_problem(tmp_path: Path) -> None:
    with pytest.raises(TaskSelectionError, match="no split 'dev'"):
        load_tasks("tau2", "dev")
    with pytest.raises(TaskSelectionError, match="no task 999"):
        load_tasks("tau2", task_ids=["999"])
    with pytest.raises(TaskFileError, match="no such file"):
        load_tasks("tau2", peers=tmp_path)
    folder = tmp_path / SETS["original"]
    folder.mkdir()
    (folder / "tasks_test.json").write_text(json.dumps([{"user_id": "u", "actions": []}]))
    with pytest.raises(TaskFileError, match=r"0\.instruction: Field required"):
        load_tasks("original", peers=tmp_path)


# --- pass^k -------------------------------------------------------------------------


def test_pass_hat_k_is_the_mean_of_c_choose_k_over_n_choose_k() -> None:
    counts = [(4, 4), (2, 4), (0, 4)]

    assert task_pass_hat_k(2, 4, 2) == pytest.approx(1 / 6)
    assert pass_hat_k(counts, 1) == pytest.approx(0.5)
    assert pass_hat_k(counts, 2) == pytest.approx((1 + 1 / 6 + 0) / 3)
    assert pass_hat_k(counts, 4) == pytest.approx(1 / 3)
    assert list(pass_hat_curve(counts)) == [1, 2, 3, 4]
    assert pass_hat_curve([(3, 3), (1, 2)]) == {1: pytest.approx(0.75), 2: pytest.approx(0.5)}
    assert pass_hat_k([], 1) == 0.0
    with pytest.raises(ValueError, match="k=5"):
        task_pass_hat_k(1, 4, 5)


def test_required_outputs_ignore_case_and_commas() -> None:
    said = ["Your refund is $1,093.34 to the MasterCard."]

    assert missing_outputs(["1093.34", "mastercard"], said) == []
    assert missing_outputs(["1093.35", "visa"], said) == ["1093.35", "visa"]


# --- gold mode ----------------------------------------------------------------------


async def test_gold_calls_through_the_real_turn_graph_score_100_percent(tmp_path: Path) -> None:
    outcome = await run_tau2(config(tmp_path, *GOLD_SAMPLE), gold_player)

    assert [e.task_id for e in outcome.episodes] == GOLD_SAMPLE
    failed = [(e.task_id, e.error, e.outputs_missing) for e in outcome.episodes if not e.success]
    assert failed == []
    by_id = {e.task_id: e for e in outcome.episodes}
    assert by_id["0"].executed == ["exchange_delivered_order_items #W2378156"]
    assert by_id["16"].transcript[1].text.endswith("8276.23.")
    assert by_id["43"].executed == ["modify_user_address lucas_santos_6600"]
    assert by_id["24"].executed == [] and outcome.expected["24"].user_id == "sofia_hernandez_5364"


async def test_refused_gold_writes_are_denied_and_change_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Tasks 64 and 105: the policy denies the write the benchmark's tool refuses, and
    the expected state (which skips it) is still reached; applied, it would differ."""
    outcome = await run_tau2(config(tmp_path / "run", "64", "105"), gold_player)
    by_id = {e.task_id: e for e in outcome.episodes}

    assert all(e.success for e in outcome.episodes)
    assert by_id["64"].denied == ["exchange_delivered_order_items (retail.delivered_only)"]
    assert by_id["64"].executed == ["modify_pending_order_items #W7464385"]
    assert by_id["105"].denied == ["exchange_delivered_order_items (retail.gift_card_covers)"]
    assert by_id["105"].executed == []
    assert outcome.expected["105"].unchanged == [
        "0:exchange_delivered_order_items (the benchmark's tool refuses it)"
    ]

    # the sandbox service would accept these writes: the refusal list is what keeps
    # them out of the expected state
    monkeypatch.setattr(reference, "refused_by_benchmark", lambda *args: False)
    env = prepare_env("tau2", tmp_path / "applied")
    for task in load_tasks("tau2", task_ids=["64", "105"]):
        applied = await expected_state(env, task)
        assert applied.state_hash != outcome.expected[task.task_id].state_hash


async def test_original_set_refusals_and_its_identical_item_defect(tmp_path: Path) -> None:
    outcome = await run_tau2(config(tmp_path, "12", "18", set_name="original"), gold_player)
    by_id = {e.task_id: e for e in outcome.episodes}

    assert by_id["12"].success  # refund to a foreign method: refused by tool and policy
    assert not by_id["18"].success  # identical item: the tool accepts it, the policy does not
    assert by_id["18"].denied == ["exchange_delivered_order_items (retail.different_option)"]


def _wrong(task: Tau2Task, trial: int, *, drop_write: bool, outputs: bool) -> Player:
    """The gold player with one gold write left out, or the required outputs unsaid."""
    player = gold_player(task, trial)
    calls = [c for c in task.actions if c.is_known and not (drop_write and c.is_write)]
    said = "; ".join(task.outputs) if outputs else "Done."
    player.agent = ScriptedChatModel(
        [*(step(tool_call(c.name, **c.arguments)) for c in calls), answer(said)]
    )
    return player


async def test_a_wrong_agent_scores_zero(tmp_path: Path) -> None:
    skipped_write = await run_tau2(
        config(tmp_path / "a", "0"), lambda t, n: _wrong(t, n, drop_write=True, outputs=True)
    )
    unsaid = await run_tau2(
        config(tmp_path / "b", "16"), lambda t, n: _wrong(t, n, drop_write=False, outputs=False)
    )

    [missing_write] = skipped_write.episodes
    assert not missing_write.success and not missing_write.state_matches
    [missing_output] = unsaid.episodes
    assert missing_output.state_matches and missing_output.outputs_missing == ["8276.23"]
    assert not missing_output.success


async def test_a_changed_argument_reaches_another_state(tmp_path: Path) -> None:
    def changed(task: Tau2Task, trial: int) -> Player:
        player = gold_player(task, trial)
        bent = task.model_copy(deep=True)
        write = bent.writes[0]
        # another available keyboard (clicky, white backlight): allowed, but not the ask
        write.arguments["new_item_ids"] = ["6342039236", "7747408585"]
        player.agent = gold_agent(bent)
        return player

    outcome = await run_tau2(config(tmp_path, "0"), changed)

    [episode] = outcome.episodes
    assert episode.executed == ["exchange_delivered_order_items #W2378156"]
    assert not episode.state_matches and not episode.success


# --- LLM mode (both models faked) ---------------------------------------------------


async def test_llm_mode_alternates_user_and_agent_until_the_stop_token(tmp_path: Path) -> None:
    exchange = GoldCall(
        name="exchange_delivered_order_items",
        arguments={
            "order_id": "#W2378156",
            "item_ids": ["1151293680", "4983901480"],
            "new_item_ids": ["7706410293", "7747408585"],
            "payment_method_id": "credit_card_9513926",
        },
    )
    agent = ScriptedChatModel(
        [
            step(
                tool_call(
                    "find_user_id_by_name_zip", first_name="Yusuf", last_name="Rossi", zip="19122"
                )
            ),
            step(tool_call("get_order_details", order_id="#W2378156")),
            answer("I can exchange the keyboard and the thermostat. Shall I go ahead?"),
            step(tool_call(exchange.name, **exchange.arguments)),
            answer("The exchange is requested; you will get an email with instructions."),
        ]
    )
    user = ScriptedChatModel(
        [
            answer("Hi, I'm Yusuf Rossi, zip 19122. I want to exchange items of #W2378156."),
            answer("Yes, please go ahead."),
            answer(STOP),
        ]
    )
    players = chat_players(
        agent, user, limits=TurnLimits(max_plan_steps=6), params=ModelParams(seed=7)
    )

    outcome = await run_tau2(config(tmp_path, "0"), players)

    [episode] = outcome.episodes
    assert episode.success and episode.user_stopped and episode.turns == 2
    assert [u.role for u in episode.transcript] == ["user", "agent", "user", "agent", "user"]
    assert episode.executed == ["exchange_delivered_order_items #W2378156"]
    agent.assert_exhausted()
    user.assert_exhausted()
    first_user_call = user.requests[0].messages
    assert first_user_call[0].role == "system"
    assert "exchange the mechanical keyboard" in (first_user_call[0].content or "")
    assert first_user_call[1].content == GREETING
    assert user.requests[1].messages[-1].content == episode.transcript[1].text
    planner_call = agent.requests[0]
    assert "Retail agent policy" in (planner_call.messages[0].content or "")
    assert {t["function"]["name"] for t in planner_call.tools} >= {exchange.name}


def test_llm_players_build_the_planner_and_a_separate_user_model() -> None:
    settings = Settings(openai_api_key="sk-test", model="agent-model", seed=3)
    players = llm_players(settings, user_model="user-model", user_base_url="http://user:8000/v1")
    task = load_tasks("tau2", task_ids=["0"])[0]

    player = players(task, 2)

    assert player.agent.model_name == "agent-model"
    assert isinstance(player.user, SimulatedUser)
    assert player.user.model.model_name == "user-model"
    assert player.params.seed == 5  # a distinct seed per trial


# --- CLI ----------------------------------------------------------------------------


def test_cli_gold_run_prints_pass_hat_k_and_writes_the_report(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app,
        ["eval", "tau2", "--task", "64", "--task", "105", "--trials", "2", "--out", str(tmp_path)],
    )

    assert result.exit_code == 0, result.output
    assert "pass^1" in result.output and "pass^2" in result.output
    report = json.loads((tmp_path / "tau2.json").read_text())
    assert report["tasks"] == 2 and report["successes"] == 4
    assert report["pass_hat"] == {"1": 1.0, "2": 1.0}
    assert report["mode"] == "gold" and report["split"] == "base"


def test_cli_refuses_llm_mode_without_an_endpoint_and_a_bad_split() -> None:
    no_key = CliRunner().invoke(app, ["eval", "tau2", "--mode", "llm", "--task", "0"])
    bad_split = CliRunner().invoke(app, ["eval", "tau2", "--split", "dev"])

    assert no_key.exit_code == 2 and "OPENAI_API_KEY" in no_key.output
    assert bad_split.exit_code == 2 and "no split 'dev'" in bad_split.output


async def test_full_tau2_gold_run_scores_100_percent(tmp_path: Path) -> None:
    outcome = await run_tau2(Tau2Config(work_dir=tmp_path), gold_player)

    assert len(outcome.episodes) == 114
    assert [e.task_id for e in outcome.episodes if not e.success] == []
