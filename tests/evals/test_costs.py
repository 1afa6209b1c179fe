"""Token cost: the price table, per-trial and per-run cost, and where reports show it."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from agent.models.base import ChatModel, ModelResponse, TokenUsage
from agent.models.scripted import ScriptedChatModel, tool_call
from arbiter.cli import app
from arbiter.errors import InputError
from evals.cassettes import Cassette
from evals.costs import Price, PriceTable, load_prices, price_table, total_cost, trial_cost, usd
from evals.metrics import score, score_run
from evals.report import RunReport, html_page, load_report, markdown, table
from evals.runner import RunConfig, TrialResult, TurnOutcome, crashed, run_suites
from evals.scenario import Scenario, Suite

PRICE_CHECK = Scenario.model_validate(
    {"id": "price", "turns": ["how much is RUN-00005?"], "expect": {"mentions": ["$89.99"]}}
)
SUITE = Suite(name="t", path=Path("t.yaml"), scenarios=[PRICE_CHECK])


def _priced_steps() -> list[ModelResponse]:
    """The agent's two model calls for the price check, each reporting its usage."""
    return [
        ModelResponse(
            tool_calls=[tool_call("get_price", sku="RUN-00005")],
            model="gpt-test",
            finish_reason="tool_calls",
            usage=TokenUsage(input_tokens=1_000, output_tokens=200),
        ),
        ModelResponse(
            text="RUN-00005 is $89.99.",
            model="gpt-test",
            finish_reason="stop",
            usage=TokenUsage(input_tokens=1_500, output_tokens=100),
        ),
    ]


def _trial(model: str | None, tokens: tuple[int, int], user: str = "turns") -> TrialResult:
    turn = TurnOutcome(message="m", text="t", latency_ms=1.0)
    turn.input_tokens, turn.output_tokens = tokens
    base = crashed(SUITE, PRICE_CHECK, 0, RuntimeError("unused"))
    return base.model_copy(update={"turns": [turn], "model": model, "user": user})


TABLE = PriceTable(
    models={"gpt-test": Price(input=2.0, output=8.0)}, default=Price(input=1.0, output=1.0)
)


def test_a_trial_is_priced_by_its_model_name_or_else_the_default() -> None:
    named = _trial("gpt-test", (2_500, 300))
    other = _trial("other", (1_000_000, 0))
    assert trial_cost(named, TABLE) == pytest.approx((2_500 * 2.0 + 300 * 8.0) / 1e6)
    assert trial_cost(other, TABLE) == pytest.approx(1.0)
    assert trial_cost(other, PriceTable(models=TABLE.models)) is None  # no default: unknown
    assert total_cost([named, other], TABLE) == pytest.approx(0.0074 + 1.0)


def test_an_llm_user_is_priced_by_its_own_model() -> None:
    trial = _trial("gpt-test", (0, 0), user="llm:cheap-user")
    trial.user_input_tokens, trial.user_output_tokens = 1_000_000, 1_000_000
    table = PriceTable(models={"cheap-user": Price(input=0.1, output=0.4)})
    assert trial_cost(trial, table) == pytest.approx(0.5)
    assert trial_cost(trial, PriceTable(models={"gpt-test": Price(input=9, output=9)})) is None


def test_cost_is_unknown_without_tokens_or_with_an_unpriced_model() -> None:
    offline = _trial("offline", (0, 0))
    assert total_cost([offline], TABLE) is None  # the offline planner reports no usage
    assert total_cost([_trial("gpt-test", (10, 10))], None) is None
    mixed = [_trial("gpt-test", (10, 10)), _trial("mystery", (10, 10))]
    assert total_cost(mixed, PriceTable(models=TABLE.models)) is None
    assert score(mixed, TABLE).cost_usd == pytest.approx((10 * 2 + 10 * 8 + 20) / 1e6)
    assert (usd(None), usd(0.012345)) == ("n/a", "$0.0123")


def test_prices_file_and_options(tmp_path: Path) -> None:
    path = tmp_path / "prices.yaml"
    path.write_text("gpt-test: {input: 2, output: 8}\ngpt-4o: {input: 2.5, output: 10}\n")
    table_ = price_table(1.0, 3.0, path)
    assert table_ is not None and table_.default == Price(input=1.0, output=3.0)
    assert table_.price("gpt-4o") == Price(input=2.5, output=10.0)
    assert load_prices(path)["gpt-test"].cost(1_000_000, 500_000) == pytest.approx(6.0)
    assert price_table(None, None, None) is None
    with pytest.raises(InputError, match="go together"):
        price_table(1.0, None, None)
    path.write_text("gpt-test: {input: 2}\n")
    with pytest.raises(InputError, match=r"prices.yaml: gpt-test: output: Field required"):
        load_prices(path)
    path.write_text("- not a mapping\n")
    with pytest.raises(InputError, match="expected a mapping"):
        load_prices(path)


async def test_a_model_that_reports_usage_gets_a_cost_in_every_report(
    seeded_sandbox: Path, tmp_path: Path
) -> None:
    def model(suite: Suite, scenario: Scenario) -> ChatModel:
        return ScriptedChatModel(_priced_steps(), name="gpt-test")

    config = RunConfig(seeded_db=seeded_sandbox, work_dir=tmp_path, model_factory=model)
    [result] = await run_suites([SUITE], config)
    assert result.passed, result.failures
    assert result.model == "gpt-test"
    assert (result.turns[0].input_tokens, result.turns[0].output_tokens) == (2_500, 300)
    expected = (2_500 * 2.0 + 300 * 8.0) / 1e6  # $0.0074
    scores = score_run([result], wall_s=1.0, prices=TABLE)
    assert scores.overall.cost_usd == pytest.approx(expected)
    assert scores.scenarios[0].scores.cost_usd == pytest.approx(expected)
    report = RunReport(
        started_at=datetime(2026, 11, 24, tzinfo=UTC),
        model="scripted",
        trials_per_scenario=1,
        concurrency=1,
        suites=["t.yaml"],
        policy_versions={},
        scores=scores,
        results=[result],
        prices=TABLE,
    )
    summary = markdown(report)
    assert "| t | 1 | 1 | 100%" in summary and "| 2800 | $0.0074 |" in summary
    assert "| t/price |  | 1/1 |" in summary and "`gpt-test` 2/8" in summary
    page = html_page(report)
    assert "<td>2800</td><td>$0.0074</td></tr>" in page and "2800 tokens, $0.0074" in page
    console = Console(width=200, record=True)
    console.print(table(scores))
    assert "$0.0074" in console.export_text()
    assert json.loads(report.model_dump_json())["scores"]["overall"]["cost_usd"] == expected


def test_cli_prices_a_replayed_run_and_says_na_offline(tmp_path: Path) -> None:
    suite = tmp_path / "mini.yaml"
    suite.write_text('- id: price\n  turns: ["how much is RUN-00005?"]\n')
    cassette = Cassette(model="gpt-test", responses=_priced_steps())
    (tmp_path / "tapes" / "mini").mkdir(parents=True)
    (tmp_path / "tapes" / "mini" / "price.json").write_text(cassette.model_dump_json())
    prices = tmp_path / "prices.yaml"
    prices.write_text("gpt-test: {input: 2, output: 8}\n")
    tapes, out = str(tmp_path / "tapes"), str(tmp_path / "a")
    replay = ["eval", "run", str(suite), "--model", "replay", "--cassettes", tapes, "--out", out]
    result = CliRunner().invoke(app, [*replay, "--prices", str(prices)])
    assert result.exit_code == 0, result.output
    assert load_report(tmp_path / "a").scores.overall.cost_usd == pytest.approx(0.0074)
    offline = ["eval", "run", str(suite), "--input-price", "1", "--output-price", "2"]
    result = CliRunner().invoke(app, [*offline, "--out", str(tmp_path / "b")])
    assert result.exit_code == 0, result.output
    assert load_report(tmp_path / "b").scores.overall.cost_usd is None
    assert "| mini | 1 | 1 | 100%" in (tmp_path / "b" / "summary.md").read_text()
    assert "| n/a | n/a |" in (tmp_path / "b" / "summary.md").read_text()
    alone = CliRunner().invoke(app, ["eval", "run", str(suite), "--input-price", "1"])
    assert alone.exit_code == 2 and "go together" in alone.output
