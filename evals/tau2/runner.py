"""Run a peer set: the expected state of every task once, then K trials per task.

Episodes run concurrently (at most ``concurrency`` at once) in one event loop, each
over its own copy of the database; the reference run of a task happens once and
serves all its trials. Work files live in a temporary folder removed at the end.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from evals.conformance import DEFAULT_PEERS
from evals.tau2.env import RetailEnv, prepare_env
from evals.tau2.episode import MAX_TURNS, EpisodeResult, run_episode
from evals.tau2.players import PlayerFactory
from evals.tau2.reference import ExpectedState, expected_state
from evals.tau2.tasks import SetName, Tau2Task, default_split, load_tasks

Mode = Literal["gold", "llm"]


@dataclass
class Tau2Config:
    """Which tasks, how many trials, how much at once."""

    set_name: SetName = "tau2"
    """Which peer set."""
    split: str | None = None
    """None: the set's default split (tau2 ``base``, original ``test``)."""
    task_ids: Sequence[str] | None = None
    """Only these tasks (None: all of the split)."""
    trials: int = 1
    """Trials per task."""
    concurrency: int = 4
    """Episodes (and reference runs) at once."""
    max_turns: int = MAX_TURNS
    """User messages per episode."""
    peers: Path = DEFAULT_PEERS
    """The folder holding the peer sets."""
    work_dir: Path | None = None
    """Parent of the run's temporary folder (default: the system's)."""
    on_episode: Callable[[EpisodeResult], None] | None = None
    """Called as each episode finishes (progress)."""

    @property
    def resolved_split(self) -> str:
        """The split actually run."""
        return self.split or default_split(self.set_name)


@dataclass
class Tau2Outcome:
    """What a run produced, before it is summarized."""

    tasks: list[Tau2Task]
    """The tasks selected."""
    expected: dict[str, ExpectedState] = field(default_factory=dict)
    """Each task's reference run, by task id."""
    episodes: list[EpisodeResult] = field(default_factory=list)
    """Every episode, in task then trial order."""
    wall_s: float = 0.0
    """Wall time of the whole run."""


def _failed(task: Tau2Task, trial: int, error: str) -> EpisodeResult:
    return EpisodeResult(
        task_id=task.task_id,
        trial=trial,
        success=False,
        state_matches=False,
        expected_hash="",
        error=error,
    )


async def run_tau2(config: Tau2Config, players: PlayerFactory) -> Tau2Outcome:
    """Every selected task, ``config.trials`` times, played by ``players``."""
    started = time.perf_counter()
    tasks = load_tasks(
        config.set_name, config.resolved_split, peers=config.peers, task_ids=config.task_ids
    )
    outcome = Tau2Outcome(tasks=tasks)
    gate = asyncio.Semaphore(max(1, config.concurrency))
    if config.work_dir is not None:
        config.work_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="arbiter-tau2-", dir=config.work_dir) as tmp:
        env = await asyncio.to_thread(prepare_env, config.set_name, Path(tmp), config.peers)

        errors: dict[str, str] = {}

        async def reference(task: Tau2Task) -> None:
            async with gate:
                try:
                    outcome.expected[task.task_id] = await expected_state(env, task)
                except Exception as exc:  # that task's trials fail; the others still run
                    errors[task.task_id] = f"reference run failed: {type(exc).__name__}: {exc}"

        await asyncio.gather(*(reference(task) for task in tasks))

        async def episode(task: Tau2Task, trial: int) -> EpisodeResult:
            async with gate:
                expected = outcome.expected.get(task.task_id)
                if expected is None:
                    result = _failed(task, trial, errors[task.task_id])
                else:
                    result = await _play(env, task, expected, trial, players, config)
            if config.on_episode is not None:
                config.on_episode(result)
            return result

        jobs = [episode(task, trial) for task in tasks for trial in range(config.trials)]
        outcome.episodes = list(await asyncio.gather(*jobs))
    outcome.wall_s = time.perf_counter() - started
    return outcome


async def _play(
    env: RetailEnv,
    task: Tau2Task,
    expected: ExpectedState,
    trial: int,
    players: PlayerFactory,
    config: Tau2Config,
) -> EpisodeResult:
    try:
        player = players(task, trial)
    except Exception as exc:  # a player that cannot be built fails its trial, not the run
        return _failed(task, trial, f"cannot build the players: {type(exc).__name__}: {exc}")
    return await run_episode(env, task, expected, player, trial=trial, max_turns=config.max_turns)
