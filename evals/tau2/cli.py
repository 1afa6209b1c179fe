"""The body of ``arbiter eval tau2``: pick the players, run with a progress bar, report.

Kept here rather than in ``arbiter/commands/evals.py`` so the command module stays a
thin option parser. Returns the exit code: gold mode exits 1 unless every trial
passed (it is a sanity check); LLM mode exits 0 whatever it scored.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from arbiter.errors import ConfigError, InputError
from arbiter.settings import Settings
from evals.report import default_out_dir
from evals.tau2.episode import EpisodeResult
from evals.tau2.players import PlayerFactory, gold_player, llm_players
from evals.tau2.report import (
    build_report,
    failures_table,
    published_table,
    summary_table,
    write_report,
)
from evals.tau2.runner import Mode, Tau2Config, run_tau2
from evals.tau2.tasks import load_tasks


def run_tau2_command(
    config: Tau2Config,
    *,
    mode: Mode,
    out_dir: Path | None,
    user_model: str,
    user_base_url: str | None,
    settings: Settings,
    out: Console,
    err: Console,
) -> int:
    """Run the suite as the CLI does; print the tables; return the exit code."""
    set_name = config.set_name
    try:
        selected = load_tasks(set_name, config.resolved_split, task_ids=config.task_ids)
    except (InputError, ConfigError) as exc:
        err.print(f"[red]error:[/red] {exc}", highlight=False)
        return 2
    players: PlayerFactory = gold_player
    agent_model, shown_user = "gold (scripted gold calls)", "scripted"
    if mode == "llm":
        if not (settings.openai_api_key or settings.openai_base_url):
            err.print("[red]error:[/red] --mode llm needs OPENAI_API_KEY or OPENAI_BASE_URL")
            return 2
        players = llm_players(settings, user_model=user_model, user_base_url=user_base_url)
        agent_model, shown_user = settings.model, user_model
        err.print(
            f"Agent: {agent_model} at {settings.openai_base_url or 'api.openai.com'}; "
            f"simulated user: {user_model} at "
            f"{user_base_url or settings.openai_base_url or 'api.openai.com'}.",
            highlight=False,
        )
    started_at = datetime.now(UTC)
    with Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[passed]} passed"),
        TimeElapsedColumn(),
        console=err,
    ) as progress:
        total = len(selected) * config.trials
        bar = progress.add_task(f"{set_name} {mode}", total=total, passed=0)
        passed = 0

        def done(result: EpisodeResult) -> None:
            nonlocal passed
            passed += result.success
            mark = "[green]pass[/green]" if result.success else "[red]FAIL[/red]"
            label = f"{mark} task {result.task_id} #{result.trial}"
            progress.update(bar, advance=1, passed=passed, description=label)

        config.on_episode = done
        outcome = asyncio.run(run_tau2(config, players))
    report = build_report(
        config,
        outcome,
        mode=mode,
        agent_model=agent_model,
        user_model=shown_user,
        started_at=started_at,
    )
    path = write_report(report, out_dir or default_out_dir(settings.data_dir, started_at))
    out.print(summary_table(report))
    for extra in (failures_table(report), published_table(report)):
        if extra is not None:
            out.print(extra)
    out.print(f"Report: {path}", highlight=False)
    return 1 if mode == "gold" and report.successes < report.episodes_run else 0
