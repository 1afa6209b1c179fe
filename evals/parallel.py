"""Trials in worker processes, so that a run uses every core.

One process runs its trials in one event loop, and the GIL keeps that loop on one
core: the agent, the in-process sandbox and the judging are all Python. With
``RunConfig.workers`` above 1 the run's jobs are cut into small chunks and handed to
a ``ProcessPoolExecutor`` (spawn: a fresh interpreter that inherits no threads and no
locks). A worker keeps its sandbox slots and parsed policies from chunk to chunk and
runs ``ceil(concurrency / workers)`` trials at once; every trial still gets its own
sandbox copy and stores in the run's workspace. Results come back in job order;
``on_trial_done`` is called in the parent as each chunk ends.

Everything a worker needs travels by pickle: the suites, the workspace and the
factories of the config, which must be module-level functions or plain instances
(``evals.user.SettingsModel``, ``evals.cassettes.CassetteModels``), not closures.
"""

from __future__ import annotations

import asyncio
import math
import multiprocessing
import pickle
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace

from arbiter.errors import InputError
from evals.runner import SANDBOX_CLOCK, Job, RunConfig, TrialResult, crashed, run_jobs
from evals.scenario import Suite
from evals.workspace import SandboxSlots, Workspace

CHUNKS_PER_SLOT = 2
"""Trials per chunk, per trial a worker runs at once: small chunks balance the workers."""


@dataclass
class _Worker:
    suites: list[Suite]
    workspace: Workspace
    config: RunConfig
    slots: SandboxSlots


_worker: _Worker | None = None


def _start(suites: list[Suite], workspace: Workspace, config: RunConfig) -> None:
    global _worker
    _worker = _Worker(suites, workspace, config, SandboxSlots(SANDBOX_CLOCK))


def _run_chunk(jobs: list[Job]) -> list[TrialResult]:
    if _worker is None:  # pragma: no cover - the pool always runs _start first
        raise RuntimeError("eval worker was not started")
    w = _worker
    return asyncio.run(run_jobs(w.suites, jobs, w.workspace, w.config, w.slots))


def worker_config(config: RunConfig) -> RunConfig:
    """What each worker runs with: its share of the concurrency, nothing it cannot pickle."""
    per_worker = math.ceil(config.concurrency / config.workers)
    local = replace(config, workers=1, concurrency=per_worker, on_trial_done=None, policies={})
    try:
        pickle.dumps(local)
    except (pickle.PicklingError, AttributeError, TypeError) as exc:
        raise InputError(
            f"workers={config.workers} needs picklable factories in the run config "
            f"(module-level functions or instances, not closures): {exc}"
        ) from None
    return local


async def run_in_processes(
    suites: list[Suite], jobs: list[Job], workspace: Workspace, config: RunConfig
) -> list[TrialResult]:
    """Every job, run by ``config.workers`` processes; results in job order."""
    local = worker_config(config)
    size = max(1, local.concurrency * CHUNKS_PER_SLOT)
    chunks = [jobs[i : i + size] for i in range(0, len(jobs), size)]
    pool = ProcessPoolExecutor(
        max_workers=min(config.workers, len(chunks)) or 1,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_start,
        initargs=(suites, workspace, local),
    )

    async def one(chunk: list[Job]) -> list[TrialResult]:
        try:
            results = await asyncio.wrap_future(pool.submit(_run_chunk, chunk))
        except Exception as exc:  # a worker died: its trials failed, the run goes on
            results = [
                crashed(suites[j.suite], suites[j.suite].scenarios[j.scenario], j.trial, exc)
                for j in chunk
            ]
        if config.on_trial_done is not None:
            for result in results:
                config.on_trial_done(result)
        return results

    try:
        done = await asyncio.gather(*(one(chunk) for chunk in chunks))
    finally:
        await asyncio.to_thread(pool.shutdown, wait=True, cancel_futures=True)
    return [result for results in done for result in results]
