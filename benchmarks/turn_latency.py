"""Turn latency on the offline planner, in-process and as a CLI process.

    .venv/bin/python -m benchmarks.turn_latency [--turns 30] [--cli-runs 7]

Prints a table: per utterance, p50/p95 of an in-process turn (sandbox in-process,
SQLite stores, zero model latency), then the median wall time of a whole
``arbiter ask`` process (interpreter start, imports, stores, one turn).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from agent.runtime import Arbiter
from arbiter.settings import Settings
from sandbox.seed import SAMPLE_CUSTOMER_ID

UTTERANCES = (
    "I need running shoes size 10 under $120 that I can pick up today",
    "what's in my cart?",
    "can I get 50% off?",
    "where is my order?",
    "hello",
)


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def in_process(turns: int, data_dir: Path) -> list[tuple[str, float, float]]:
    rows = []
    async with Arbiter.open(Settings(data_dir=data_dir, planner="offline")) as arbiter:
        session = await arbiter.start_session(SAMPLE_CUSTOMER_ID)
        await arbiter.ask(session.session_id, "hello")  # warm caches
        for text in UTTERANCES:
            samples = []
            for _ in range(turns):
                started = time.perf_counter()
                await arbiter.ask(session.session_id, text)
                samples.append((time.perf_counter() - started) * 1000)
            rows.append((text, statistics.median(samples), _pct(samples, 0.95)))
    return rows


def cli_wall(runs: int, data_dir: Path) -> list[float]:
    exe = Path(sys.executable).with_name("arbiter")
    env = {"ARBITER_DATA_DIR": str(data_dir), "PATH": "/usr/bin:/bin"}
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(
            [str(exe), "ask", UTTERANCES[0], "--customer", SAMPLE_CUSTOMER_ID],
            env=env,
            check=True,
            capture_output=True,
        )
        samples.append(time.perf_counter() - started)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=30)
    parser.add_argument("--cli-runs", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        rows = asyncio.run(in_process(args.turns, Path(tmp)))
        wall = cli_wall(args.cli_runs, Path(tmp))
    table = Table(title=f"offline planner, {args.turns} turns per utterance")
    table.add_column("utterance")
    table.add_column("p50 ms", justify="right")
    table.add_column("p95 ms", justify="right")
    for text, p50, p95 in rows:
        table.add_row(text, f"{p50:.1f}", f"{p95:.1f}")
    table.add_row(
        f"`arbiter ask` process wall time ({args.cli_runs} runs, median)",
        f"{statistics.median(wall) * 1000:.0f}",
        f"{max(wall) * 1000:.0f} (max)",
    )
    Console().print(table)


if __name__ == "__main__":
    main()
