"""Eval harness throughput: the shipped offline suites, timed end to end in-process.

    .venv/bin/python -m benchmarks.eval_speed [--concurrency 1 2] [--workers N] [--repeat 3]

For each concurrency level (default: 1 and one per core), runs every scenario of the
suites (default ``evals/suites/*.yaml``) once with the offline planner, ``--repeat``
times, and prints the quietest run: suites, scenarios, wall s, scenarios/s,
concurrency, workers (default: one per core, at most the concurrency) and the CPU
seconds spent (this process and its workers): CPU well below wall x cores means the
machine was busy with something else or the trials were waiting. Seeding the sandbox
is inside the timing; interpreter start-up and report writing are not.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import time
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.table import Table

from evals.runner import RunConfig, run_suites
from evals.scenario import Suite, load_suite

SUITES = Path(__file__).resolve().parents[1] / "evals" / "suites"


@dataclass(frozen=True)
class Timing:
    """One timed run of every scenario."""

    concurrency: int
    workers: int
    scenarios: int
    failed: int
    wall_s: float
    cpu_s: float

    @property
    def per_s(self) -> float:
        """Scenario runs finished per second."""
        return self.scenarios / self.wall_s


def _cpu_s() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)  # worker processes, once joined
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


async def timed(suites: list[Suite], concurrency: int, workers: int) -> Timing:
    """Run every scenario once at this concurrency; how long it took."""
    config = RunConfig(concurrency=concurrency, workers=workers)
    cpu, started = _cpu_s(), time.perf_counter()
    results = await run_suites(suites, config)
    wall = time.perf_counter() - started
    failed = sum(not r.passed for r in results)
    return Timing(concurrency, workers, len(results), failed, wall, _cpu_s() - cpu)


def render(names: list[str], rows: list[Timing], repeat: int) -> Table:
    """The quietest run of each level, one row each."""
    out = Table(
        "suites",
        "scenarios",
        "wall s",
        "scenarios/s",
        "concurrency",
        "workers",
        "cpu s",
        "failed",
        title=f"eval harness, offline planner (quietest of {repeat})",
    )
    for row in rows:
        out.add_row(
            ",".join(names),
            str(row.scenarios),
            f"{row.wall_s:.1f}",
            f"{row.per_s:.1f}",
            str(row.concurrency),
            str(row.workers),
            f"{row.cpu_s:.1f}",
            str(row.failed),
        )
    return out


def main() -> None:
    """Parse the options, time each level, print the table."""
    cores = len(os.sched_getaffinity(0))
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("suites", nargs="*", type=Path, help="suite files (default: shipped)")
    parser.add_argument("--concurrency", type=int, nargs="+", default=sorted({1, cores}))
    parser.add_argument("--workers", type=int, help="processes (default: min(concurrency, cores))")
    parser.add_argument("--repeat", type=int, default=3, help="runs per level; the quietest wins")
    args = parser.parse_args()
    suites = [load_suite(p) for p in (args.suites or sorted(SUITES.glob("*.yaml")))]
    rows = []
    for level in args.concurrency:
        workers = args.workers or max(1, min(level, cores))
        runs = [asyncio.run(timed(suites, level, workers)) for _ in range(max(1, args.repeat))]
        rows.append(min(runs, key=lambda t: t.wall_s))
    console = Console()
    if not console.is_terminal:  # eight columns: when piped, don't squeeze them into 80
        console = Console(width=max(console.width, 120))
    console.print(render([s.name for s in suites], rows, args.repeat))


if __name__ == "__main__":
    main()
