"""``arbiter eval``: score the agent on scenario suites."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from arbiter.commands.common import err, fail, out, run
from arbiter.errors import ConfigError, InputError
from arbiter.settings import Settings

app = typer.Typer(help="Offline evaluation: run scenario suites, score and report.")


class ModelChoice(StrEnum):
    """Which reasoning component the agent runs with."""

    offline = "offline"
    openai = "openai"
    replay = "replay"


@app.command("run")
def run_command(
    suites: Annotated[list[Path], typer.Argument(help="Suite YAML files (evals/suites/*.yaml).")],
    model: Annotated[ModelChoice, typer.Option(help="Planner to evaluate.")] = ModelChoice.offline,
    trials: Annotated[int, typer.Option(help="Trials per scenario (pass^k, pass@k).", min=1)] = 1,
    concurrency: Annotated[
        int | None,
        typer.Option(
            help="Trials run at once over all workers (default: one per core offline, 4 with"
            " --model openai; latency is truest when equal to --workers).",
            min=1,
        ),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            help="Worker processes (default: one per core, at most --concurrency; 1: in"
            " this process).",
            min=1,
        ),
    ] = None,
    out_dir: Annotated[
        Path | None,
        typer.Option("--out", help="Report directory (default .arbiter/evals/<timestamp>/)."),
    ] = None,
    scenario: Annotated[
        list[str] | None, typer.Option(help="Run only this scenario id (repeatable).")
    ] = None,
    tag: Annotated[
        list[str] | None, typer.Option(help="Run only scenarios with this tag (repeatable).")
    ] = None,
    cassettes: Annotated[
        Path | None, typer.Option(help="Cassette directory for --model replay.")
    ] = None,
    record: Annotated[
        Path | None,
        typer.Option(help="Record each scenario's model outputs here (cassettes for replay)."),
    ] = None,
    junit: Annotated[
        Path | None, typer.Option(help="Also write JUnit XML here (one testcase per trial).")
    ] = None,
    user_model: Annotated[
        str | None,
        typer.Option(
            help="LLM that plays persona users (default with --model openai: the agent's model)."
        ),
    ] = None,
    user_base_url: Annotated[
        str | None,
        typer.Option(
            help="OpenAI-compatible base URL of the user model (default OPENAI_BASE_URL)."
        ),
    ] = None,
    scripted_user: Annotated[
        bool, typer.Option(help="Persona users play their scripted replies, even with a model.")
    ] = False,
    input_price: Annotated[
        float | None, typer.Option(help="USD per 1M input tokens, for any model.", min=0)
    ] = None,
    output_price: Annotated[
        float | None, typer.Option(help="USD per 1M output tokens, for any model.", min=0)
    ] = None,
    prices: Annotated[
        Path | None,
        typer.Option(help="YAML prices by model name: {model: {input: USD, output: USD}}."),
    ] = None,
    enforce_policy: Annotated[
        Path | None,
        typer.Option(
            help="Enforce this policy instead of each suite's (a candidate, or one loosened on"
            " purpose); what is unsafe is still judged by the suite's own policy."
        ),
    ] = None,
) -> None:
    """Run every scenario of the suites; write report.json, summary.md and report.html.

    Exits 1 when any executed action is unsafe (the policy would not allow it).
    """
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    from evals.cassettes import ModelFactory
    from evals.costs import price_table
    from evals.metrics import score_run
    from evals.report import (
        RunReport,
        default_out_dir,
        failures_table,
        table,
        write_junit,
        write_reports,
    )
    from evals.runner import (
        RunConfig,
        TrialResult,
        cassette_model,
        enforced_policy,
        run_suites,
        suite_policy,
    )
    from evals.scenario import SuiteError, load_suite
    from evals.user import SettingsModel, UserModelFactory, user_settings

    try:
        loaded = [load_suite(path).select(scenario, tag) for path in suites]
    except SuiteError as exc:
        raise fail(str(exc), code=2) from None
    loaded = [s for s in loaded if s.scenarios]
    if not loaded:
        raise fail("no scenario matches --scenario/--tag", code=2)
    total = sum(len(s.scenarios) for s in loaded) * trials
    policies = RunConfig().policies
    try:  # a broken suite policy stops the run here, not in every trial
        versions = {s.name: suite_policy(s, RunConfig(policies=policies)).version for s in loaded}
        enforced = enforced_policy(RunConfig(policies=policies, enforce_policy=enforce_policy))
    except ConfigError as exc:
        raise fail(str(exc), code=2) from None
    if enforced is not None:
        err.print(
            f"Enforcing {enforce_policy} ({enforced.version[:12]}) instead of the suites'"
            " policies; unsafe executions are still judged by each suite's own."
        )
    try:
        price_list = price_table(input_price, output_price, prices)
    except InputError as exc:
        raise fail(str(exc), code=2) from None
    settings = Settings()
    factory: ModelFactory | None = None
    if model is ModelChoice.openai:
        if not (settings.openai_api_key or settings.openai_base_url):
            raise fail("--model openai needs OPENAI_API_KEY or OPENAI_BASE_URL", code=2)
        factory = SettingsModel(settings.model_copy(update={"planner": "openai"}))
    elif model is ModelChoice.replay:
        if cassettes is None:
            raise fail("--model replay needs --cassettes DIR", code=2)
        factory = cassette_model(cassettes)
    users: UserModelFactory | None = None
    personas = any(s.user is not None for suite in loaded for s in suite.scenarios)
    if personas and not scripted_user and (model is ModelChoice.openai or user_model):
        if settings.openai_api_key or settings.openai_base_url or user_base_url:
            users = SettingsModel(user_settings(settings, user_model, user_base_url))
        else:
            err.print("No OpenAI endpoint configured: persona users play their scripted replies.")
    cores = len(os.sched_getaffinity(0))
    if concurrency is None:  # CPU-bound offline: a trial per core; waiting on a model: more
        concurrency = 4 if model is ModelChoice.openai else cores
    procs = workers or max(1, min(concurrency, cores, total))

    started_at = datetime.now(UTC)
    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
    ) as progress:
        task = progress.add_task("scenarios", total=total)

        def done(result: TrialResult) -> None:
            mark = "[green]pass[/green]" if result.passed else "[red]FAIL[/red]"
            progress.update(task, advance=1, description=f"{mark} {result.scenario_id}")

        config = RunConfig(
            trials=trials,
            concurrency=concurrency,
            workers=procs,
            model_factory=factory,
            user_model=users,
            on_trial_done=done,
            policies=policies,
            record_dir=record,
            enforce_policy=enforce_policy,
        )
        clock = time.perf_counter()
        results = run(lambda: run_suites(loaded, config))
        wall = time.perf_counter() - clock
    scores = score_run(results, wall, price_list)
    report = RunReport(
        started_at=started_at,
        model=model.value,
        trials_per_scenario=trials,
        concurrency=concurrency,
        workers=procs,
        prices=price_list,
        suites=[str(s.path) for s in loaded],
        policy_versions=versions,
        scores=scores,
        results=results,
    )
    target = out_dir or default_out_dir(settings.data_dir, started_at)
    json_path, md_path = write_reports(report, target)
    # fifteen columns: when piped, don't squeeze them into 80
    shown = out if out.is_terminal else Console(width=max(out.width, 140))
    shown.print(table(scores))
    failing = failures_table(scores)
    if failing is not None:
        shown.print(failing)
    html_path = md_path.with_name("report.html")
    out.print(f"Reports: {json_path}, {md_path} and {html_path}", highlight=False)
    if junit is not None:
        out.print(f"JUnit: {write_junit(report, junit)}", highlight=False)
    if scores.overall.unsafe_executions:
        err.print(f"[red]{scores.overall.unsafe_executions} unsafe execution(s)[/red]")
        raise typer.Exit(1)


@app.command("compare")
def compare_command(
    baseline: Annotated[Path, typer.Argument(help="Baseline report.json (or its run directory).")],
    candidate: Annotated[Path, typer.Argument(help="Candidate report.json (or directory).")],
    max_success_drop: Annotated[
        float | None,
        typer.Option(
            min=0,
            help="Gate on the overall success drop (percentage points) instead of on any"
            " scenario that stopped passing. New unsafe executions always fail the gate.",
        ),
    ] = None,
) -> None:
    """Compare two runs; exit 1 when the release gate fails."""
    from pydantic import ValidationError

    from evals.report import compare as compare_runs
    from evals.report import comparison_table, load_report

    try:
        result = compare_runs(load_report(baseline), load_report(candidate))
    except (OSError, ValidationError) as exc:
        raise fail(f"cannot read a report: {exc}", code=2) from None
    out.print(comparison_table(result))
    for label, items in (
        ("regressions", result.regressions),
        ("fixed", result.fixes),
        ("not run", result.missing),
    ):
        if items:
            out.print(f"{label}: {', '.join(items)}", highlight=False)
    failures = result.gate_failures(max_success_drop)
    for reason in failures:
        err.print(f"[red]gate failed:[/red] {reason}", highlight=False)
    if failures:
        raise typer.Exit(1)
    out.print("gate passed", style="green")


class Tau2Set(StrEnum):
    """Which tau-bench retail task set."""

    tau2 = "tau2"
    original = "original"


class Tau2Mode(StrEnum):
    """Who plays the agent (and the user)."""

    gold = "gold"
    llm = "llm"


@app.command("tau2")
def tau2_command(
    set_name: Annotated[
        Tau2Set, typer.Option("--set", help="tau2 (maintained) or original task set.")
    ] = Tau2Set.tau2,
    split: Annotated[
        str | None,
        typer.Option(
            help="tau2: base|test|train (default base); original: test|dev|train (default test)."
        ),
    ] = None,
    mode: Annotated[
        Tau2Mode, typer.Option(help="gold: replay the gold calls (no key); llm: real models.")
    ] = Tau2Mode.gold,
    trials: Annotated[int, typer.Option(help="Trials per task (pass^1..pass^K).", min=1)] = 1,
    concurrency: Annotated[int, typer.Option(help="Episodes run at once.", min=1)] = 4,
    task: Annotated[
        list[str] | None, typer.Option("--task", help="Run only this task id (repeatable).")
    ] = None,
    out_dir: Annotated[
        Path | None,
        typer.Option("--out", help="Report directory (default .arbiter/evals/<timestamp>/)."),
    ] = None,
    user_model: Annotated[
        str, typer.Option(help="Model of the simulated user (llm mode).")
    ] = "gpt-4o",
    user_base_url: Annotated[
        str | None,
        typer.Option(
            help="OpenAI-compatible base URL of the user model (default OPENAI_BASE_URL)."
        ),
    ] = None,
    max_turns: Annotated[int, typer.Option(help="User messages per episode.", min=1)] = 30,
) -> None:
    """Run the tau-bench retail tasks over the sandbox retail domain; print pass^k.

    Scored by end state: the task's gold writes applied to a fresh database give the
    expected state; the episode must reach it and say the required outputs. Writes
    tau2.json; see docs/tau2.md.
    """
    from evals.tau2.cli import run_tau2_command
    from evals.tau2.runner import Tau2Config

    config = Tau2Config(
        set_name=set_name.value,
        split=split,
        task_ids=task,
        trials=trials,
        concurrency=concurrency,
        max_turns=max_turns,
    )
    code = run_tau2_command(
        config,
        mode=mode.value,
        out_dir=out_dir,
        user_model=user_model,
        user_base_url=user_base_url,
        settings=Settings(),
        out=out,
        err=err,
    )
    if code:
        raise typer.Exit(code)
