"""The run's summary: pass^1..pass^K, per-task counts, every episode; JSON and tables."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from pathlib import Path

from pydantic import BaseModel, Field
from rich.table import Table

from evals.tau2.episode import EpisodeResult
from evals.tau2.passk import pass_hat_curve
from evals.tau2.reference import ExpectedState
from evals.tau2.runner import Mode, Tau2Config, Tau2Outcome


class PublishedFigure(BaseModel):
    """A published tau-bench retail result to compare with."""

    model: str = Field(description="The agent model as the leaderboard names it.")
    pass_hat_1: float = Field(description="Its pass^1.")
    pass_hat_4: float = Field(description="Its pass^4.")


PUBLISHED: tuple[PublishedFigure, ...] = (
    PublishedFigure(model="claude-3-5-sonnet-20241022", pass_hat_1=0.692, pass_hat_4=0.462),
    PublishedFigure(model="gpt-4o", pass_hat_1=0.604, pass_hat_4=0.383),
)
"""Original tau-bench README leaderboard, retail, tool calling: measured on the original
set's test split with gpt-4o as the simulated user."""


class TaskScore(BaseModel):
    """One task over its trials."""

    task_id: str = Field(description="The task.")
    trials: int = Field(description="Trials run.")
    successes: int = Field(description="Trials with reward 1.")
    state_matches: int = Field(description="Trials that ended in the expected state.")
    outputs_said: int = Field(description="Trials in which every required output was said.")
    why: list[str] = Field(
        default_factory=list, description="Distinct reasons its failed trials failed."
    )


class Tau2Report(BaseModel):
    """Everything one ``arbiter eval tau2`` run measured."""

    set_name: str = Field(description="tau2 or original.")
    split: str = Field(description="The split run.")
    mode: Mode = Field(description="gold or llm.")
    agent_model: str = Field(description="The agent's model (or the gold script).")
    user_model: str = Field(description="The simulated user's model (or the script).")
    trials: int = Field(description="Trials per task.")
    concurrency: int = Field(description="Episodes run at once.")
    started_at: datetime = Field(description="When the run started (UTC).")
    wall_s: float = Field(description="Wall time of the run, reference runs included.")
    tasks: int = Field(description="Tasks selected.")
    episodes_run: int = Field(description="Episodes played (tasks × trials).")
    successes: int = Field(description="Episodes with reward 1.")
    pass_hat: dict[int, float] = Field(description="pass^k for k = 1..trials.")
    task_scores: list[TaskScore] = Field(description="Per-task counts, in task order.")
    expected: dict[str, ExpectedState] = Field(description="Each task's reference run.")
    episodes: list[EpisodeResult] = Field(description="Every episode, in task order.")
    published: list[PublishedFigure] = Field(
        default_factory=list, description="Published figures comparable with this run."
    )


def failure_reason(episode: EpisodeResult) -> str:
    """Why one trial failed, in a line."""
    if episode.error:
        return episode.error
    parts = []
    if not episode.state_matches:
        denied = f" (denied: {', '.join(episode.denied)})" if episode.denied else ""
        parts.append(f"end state differs{denied}")
    if episode.outputs_missing:
        parts.append(f"not said: {', '.join(episode.outputs_missing)}")
    return "; ".join(parts)


def build_report(
    config: Tau2Config,
    outcome: Tau2Outcome,
    *,
    mode: Mode,
    agent_model: str,
    user_model: str,
    started_at: datetime,
) -> Tau2Report:
    """Count successes per task and compute the pass^k curve."""
    by_task: dict[str, list[EpisodeResult]] = defaultdict(list)
    for episode in outcome.episodes:
        by_task[episode.task_id].append(episode)
    scores = [
        TaskScore(
            task_id=task.task_id,
            trials=len(runs),
            successes=sum(r.success for r in runs),
            state_matches=sum(r.state_matches for r in runs),
            outputs_said=sum(not r.outputs_missing for r in runs),
            why=sorted({failure_reason(r) for r in runs if not r.success}),
        )
        for task in outcome.tasks
        if (runs := by_task.get(task.task_id))
    ]
    comparable = config.set_name == "original" and config.resolved_split == "test"
    return Tau2Report(
        set_name=config.set_name,
        split=config.resolved_split,
        mode=mode,
        agent_model=agent_model,
        user_model=user_model,
        trials=config.trials,
        concurrency=config.concurrency,
        started_at=started_at,
        wall_s=outcome.wall_s,
        tasks=len(outcome.tasks),
        episodes_run=len(outcome.episodes),
        successes=sum(s.successes for s in scores),
        pass_hat=pass_hat_curve([(s.successes, s.trials) for s in scores]),
        task_scores=scores,
        expected=outcome.expected,
        episodes=outcome.episodes,
        published=list(PUBLISHED) if comparable and mode == "llm" else [],
    )


def write_report(report: Tau2Report, out_dir: Path) -> Path:
    """Write ``tau2.json`` into ``out_dir``; return its path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "tau2.json"
    path.write_text(report.model_dump_json(indent=1), encoding="utf-8")
    return path


def summary_table(report: Tau2Report) -> Table:
    """One row: tasks, trials, successes, pass^1..pass^K, wall time."""
    title = f"tau-bench retail ({report.set_name}/{report.split}, {report.mode} mode)"
    table = Table(title=title)
    for name in ("tasks", "trials/task", "successes"):
        table.add_column(name, justify="right")
    for k in report.pass_hat:
        table.add_column(f"pass^{k}", justify="right")
    table.add_column("wall", justify="right")
    table.add_row(
        str(report.tasks),
        str(report.trials),
        f"{report.successes}/{report.episodes_run}",
        *(f"{value:.3f}" for value in report.pass_hat.values()),
        f"{report.wall_s:.1f} s",
    )
    return table


def failures_table(report: Tau2Report, limit: int = 30) -> Table | None:
    """Tasks with a failed trial and why (state, outputs, error); None when all passed."""
    failing = [s for s in report.task_scores if s.successes < s.trials]
    if not failing:
        return None
    table = Table(title=f"tasks with a failed trial ({len(failing)})")
    for name in ("task", "passed", "end state ok", "outputs ok", "why"):
        table.add_column(name)
    for s in failing[:limit]:
        table.add_row(
            s.task_id,
            f"{s.successes}/{s.trials}",
            f"{s.state_matches}/{s.trials}",
            f"{s.outputs_said}/{s.trials}",
            "; ".join(s.why)[:160],
        )
    return table


def published_table(report: Tau2Report) -> Table | None:
    """This run beside the published figures, when they are comparable."""
    if not report.published:
        return None
    table = Table(title="published (original tau-bench leaderboard, gpt-4o user)")
    for name in ("model", "pass^1", "pass^4"):
        table.add_column(name, justify="right")
    for figure in report.published:
        table.add_row(figure.model, f"{figure.pass_hat_1:.3f}", f"{figure.pass_hat_4:.3f}")
    ours = report.pass_hat
    table.add_row(
        f"this run: {report.agent_model} (user {report.user_model})",
        f"{ours[1]:.3f}" if 1 in ours else "-",
        f"{ours[4]:.3f}" if 4 in ours else "-",
    )
    return table
