"""Load benchmark of ``arbiter serve``: concurrent sessions against a model that sleeps.

    .venv/bin/python -m benchmarks.serve_load [--levels 50,200,500] [--think-ms 10000,0]
        [--turns-per-session 4] [--model-delay-ms 300] [--workers 2] [--duration 120]

Starts two subprocesses on loopback: the fake model (``benchmarks.fake_openai``) and
``arbiter serve --workers 2`` (one per core) over a fresh temporary data directory
(ARBITER_PLANNER=openai, OPENAI_BASE_URL at the fake, access log off). After /readyz
and a short warm-up, each concurrency level runs that many sessions at once from one
aiohttp client: a session opens itself, then sends its turns one after another.

Two pacings run by default, each over its own fresh stack:

- **shopper-paced** (``--think-ms 10000``): a session pauses 5-15 s (0.5-1.5x the
  think time, seeded) between its turns, as a person reading an answer and typing the
  next message does; session starts are spread over one think time.
- **back-to-back** (``--think-ms 0``): the next turn leaves as soon as the answer is
  in (a closed loop: a capacity test). N sessions then ask for N / (response time)
  turns a second, whatever the machine can serve, so past capacity turns queue.

Added latency of a turn = response time - (model calls of that turn x model delay);
the fake counts the calls per turn from a ``[bench:<tag>]`` tag in the message. A
second figure subtracts what the fake measured it spent on the turn's calls instead
(request read to response written: its sleeps, their timer overshoot, its own JSON
work), so the model's own delays are not charged to Arbiter. Every
level is checked for errors and for a DecisionRecord of every turn sent (GET
/v1/sessions/{id}/decisions of each session, matched by turn id), and the audit chain
is verified at the end. A second table splits the added latency: outside the graph
(HTTP, auth, session and approval lookups, JSON, waiting for the event loop: response
time - the record's ``duration_ms``), inside the graph beyond model time, and the
server's own model-call latency beyond the delay (Prometheus), with the CPU each
process used, in % of one core: server, fake model and load generator share the cores.
"server CPU ms/turn" (session opens included) bounds throughput: the server's
processes serve at most (cores x 1000) / that many turns per second. The load
generator's own event-loop lag says whether one client process kept up.

``--server-env NAME=VALUE`` passes settings (or a PYTHONPATH with patched code, for
experiments) to the server; ``--json FILE`` writes every number.

Bounded: no turn starts after ``--duration`` seconds of a level, ``--max-turns`` caps
the whole run, every request has a timeout, and nothing leaves loopback.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import tempfile
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import aiohttp
import httpx
import uvloop
from prometheus_client.parser import text_string_to_metric_families
from rich.console import Console

from benchmarks.serve_report import render, summary
from benchmarks.serve_stack import (
    Stack,
    cpu_seconds,
    machine_busy_seconds,
    running_stack,
    verify_audit,
)

CUSTOMERS = tuple(f"C{n}" for n in range(1001, 1051))
UTTERANCES = (
    "I need running shoes size 10 under $120 that I can pick up today",
    "how much is RUN-00005?",
)


class Budget:
    """The run's turn cap, shared by every session."""

    def __init__(self, turns: int) -> None:
        self.left = turns

    def take(self) -> bool:
        """One more turn, if any is left."""
        if self.left <= 0:
            return False
        self.left -= 1
        return True


@dataclass(frozen=True)
class Config:
    """One run of the benchmark."""

    levels: tuple[int, ...] = (50, 200, 500)
    turns_per_session: int = 4
    model_delay_ms: float = 300.0
    duration_s: float = 120.0
    """No turn of a level starts after this many seconds."""
    max_turns: int = 6000
    """Turns of the whole run (warm-up excluded)."""
    ramp_s: float | None = None
    """Session starts are spread over this; None: 1 s, or the think time if longer."""
    think_ms: float = 0.0
    """Pause between a session's turns (0: the next turn right after the answer)."""
    warmup_sessions: int = 4
    request_timeout_s: float = 60.0
    server_env: tuple[tuple[str, str], ...] = ()
    """Extra environment for ``arbiter serve`` (experiments: PYTHONPATH, ARBITER_*)."""
    workers: int = 2
    """``arbiter serve --workers`` (default: one per core of the 2-core reference machine)."""
    sandbox_process: bool = False
    """Run the capability services in their own process (as a retailer's APIs would be)."""


@dataclass
class Turn:
    """One message and its answer as the client saw it."""

    tag: str
    ms: float
    error: str | None = None
    turn_id: str = ""
    graph_ms: float | None = None
    """The record's ``duration_ms``: the turn inside the runtime."""


@dataclass
class SessionRun:
    """One simulated session."""

    budget: Budget
    until: float
    """No turn starts after this (``time.monotonic()``)."""
    session_id: str | None = None
    create_ms: float | None = None
    error: str | None = None
    turns: list[Turn] = field(default_factory=list)


@dataclass
class Level:
    """What one concurrency level measured."""

    concurrency: int
    wall_s: float
    runs: list[SessionRun]
    calls: dict[str, int]
    model_ms: dict[str, float] = field(default_factory=dict)
    """Time the fake model spent per turn tag (its sleeps plus its own work)."""
    recorded: int = 0
    unrecorded: list[str] = field(default_factory=list)
    llm_ms: float | None = None
    """Mean model-call latency measured by the server (its Prometheus histogram)."""
    cpu: dict[str, float] = field(default_factory=dict)
    """CPU used during the level, in % of one core."""
    client_lag_ms: list[float] = field(default_factory=list)
    """How late the load generator's event loop woke a 50 ms sleep (its own saturation)."""

    @property
    def turns(self) -> list[Turn]:
        """Every turn sent at this level."""
        return [t for r in self.runs for t in r.turns]

    def errors(self) -> int:
        """Failed session opens and failed turns."""
        return sum(r.error is not None for r in self.runs) + sum(
            t.error is not None for t in self.turns
        )

    def added(self, delay_ms: float) -> list[float]:
        """Response time minus the turn's model time, for answered turns."""
        return [t.ms - self.calls.get(t.tag, 0) * delay_ms for t in self.turns if not t.error]

    def added_measured(self) -> list[float]:
        """Response time minus the time the model endpoint itself took for the turn."""
        return [t.ms - self.model_ms.get(t.tag, 0.0) for t in self.turns if not t.error]


# --- processes -------------------------------------------------------------------------


async def one_turn(http: aiohttp.ClientSession, session_id: str, tag: str, n: int) -> Turn:
    """Send one message under a turn id of our choosing; time it to the last byte."""
    text = f"{UTTERANCES[n % len(UTTERANCES)]} [bench:{tag}]"
    turn_id = "turn_bench_" + tag.replace(".", "_")
    body = {"text": text, "turn_id": turn_id}
    started = time.perf_counter()
    try:
        async with http.post(f"/v1/sessions/{session_id}/messages", json=body) as response:
            status, answer = response.status, await response.json()
    except (aiohttp.ClientError, TimeoutError) as exc:
        return Turn(tag, (time.perf_counter() - started) * 1000, type(exc).__name__, turn_id)
    turn = Turn(tag, (time.perf_counter() - started) * 1000, turn_id=turn_id)
    if status != 200:
        turn.error = f"HTTP {status}"
        return turn
    decision = answer.get("decision") or {}
    turn.graph_ms = decision.get("duration_ms")
    if answer.get("status") != "answered" or decision.get("error"):
        turn.error = f"{answer.get('status')}: {decision.get('error')}"
    return turn


async def session(
    http: aiohttp.ClientSession, cfg: Config, run: SessionRun, index: int, of: int, name: str
) -> None:
    """Open a session, then send its turns one after another (results land in ``run``).

    Starts are spread over ``cfg.ramp_s``; with ``cfg.think_ms`` a session pauses
    between turns for 0.5-1.5x that (seeded per session, so runs repeat).
    """
    ramp = cfg.ramp_s if cfg.ramp_s is not None else max(1.0, cfg.think_ms / 1000)
    await asyncio.sleep(ramp * index / of)
    started = time.perf_counter()
    try:
        customer = {"customer_id": CUSTOMERS[index % len(CUSTOMERS)]}
        async with http.post("/v1/sessions", json=customer, raise_for_status=True) as response:
            opened = await response.json()
    except (aiohttp.ClientError, TimeoutError) as exc:
        run.error = type(exc).__name__
        return
    run.create_ms = (time.perf_counter() - started) * 1000
    run.session_id = str(opened["session_id"])
    think = random.Random(f"{name}.s{index}")
    for n in range(cfg.turns_per_session):
        if n and cfg.think_ms:
            await asyncio.sleep(cfg.think_ms / 1000 * think.uniform(0.5, 1.5))
        if time.monotonic() >= run.until or not run.budget.take():
            return
        run.turns.append(await one_turn(http, run.session_id, f"{name}.s{index}.t{n}", n))


async def run_level(
    stack: Stack, cfg: Config, concurrency: int, budget: Budget, name: str
) -> Level:
    """``concurrency`` sessions at once; then the fake's counts and the records of each."""
    headers = {"Authorization": f"Bearer {stack.keys['support_agent']}"}
    # The sessions' traffic goes through aiohttp (httpx's pool cost this process ~9 ms of
    # CPU a turn at 200 connections, CPU the server under test shares); httpx reads the
    # metrics and the records. Idle connections are dropped before uvicorn's 5 s keep-alive
    # timeout closes them: reusing one the server is closing fails the request.
    connector = aiohttp.TCPConnector(limit=concurrency + 16, keepalive_timeout=1.0)
    async with (
        httpx.AsyncClient(
            base_url=stack.base_url, headers=headers, timeout=cfg.request_timeout_s
        ) as client,
        aiohttp.ClientSession(
            base_url=stack.base_url,
            headers=headers,
            connector=connector,
            timeout=aiohttp.ClientTimeout(total=cfg.request_timeout_s),
        ) as http,
    ):
        before = await server_llm(client, stack)
        pids = {"server": stack.server.pid, "fake model": stack.fake.pid}
        if stack.sandbox is not None:
            pids["sandbox"] = stack.sandbox.pid
        cpu0 = {k: cpu_seconds(p) for k, p in pids.items()}
        own0, busy0, started = time.process_time(), machine_busy_seconds(), time.monotonic()
        runs = [SessionRun(budget, started + cfg.duration_s) for _ in range(concurrency)]
        lags: list[float] = []
        monitor = asyncio.create_task(loop_lag(lags))
        tasks = [
            asyncio.create_task(session(http, cfg, runs[i], i, concurrency, name))
            for i in range(concurrency)
        ]
        _, late = await asyncio.wait(tasks, timeout=cfg.duration_s + cfg.request_timeout_s + 5)
        for task in late:
            task.cancel()
        await asyncio.gather(*late, return_exceptions=True)
        monitor.cancel()
        await asyncio.gather(monitor, return_exceptions=True)
        wall = time.monotonic() - started
        cpu = {k: (cpu_seconds(p) - cpu0[k]) / wall * 100 for k, p in pids.items()}
        cpu["load generator"] = (time.process_time() - own0) / wall * 100
        busy = (machine_busy_seconds() - busy0) / wall * 100
        cpu["other processes"] = max(0.0, busy - sum(cpu.values()))
        after = await server_llm(client, stack)
        by_tag, model_ms = await fake_calls(stack)
        level = Level(concurrency, wall, runs, by_tag, model_ms=model_ms, cpu=cpu)
        level.client_lag_ms = lags
        calls = after[1] - before[1]
        level.llm_ms = (after[0] - before[0]) / calls * 1000 if calls else None
        await check_recorded(client, level)
    return level


async def loop_lag(lags: list[float], every_s: float = 0.05) -> None:
    """Record how late each wake-up of this event loop is, until cancelled."""
    while True:
        started = time.perf_counter()
        await asyncio.sleep(every_s)
        lags.append((time.perf_counter() - started - every_s) * 1000)


async def server_llm(client: httpx.AsyncClient, stack: Stack) -> tuple[float, float]:
    """(sum of seconds, count) of the server's model-call latency histogram."""
    response = await client.get(
        "/metrics", headers={"Authorization": f"Bearer {stack.keys['operator']}"}
    )
    response.raise_for_status()
    total = count = 0.0
    for family in text_string_to_metric_families(response.text):
        if family.name == "arbiter_llm_duration_seconds":
            for sample in family.samples:
                if sample.name.endswith("_sum"):
                    total += sample.value
                elif sample.name.endswith("_count"):
                    count += sample.value
    return total, count


async def fake_calls(stack: Stack) -> tuple[dict[str, int], dict[str, float]]:
    """Model calls per turn tag, and the time the fake spent on them, as it counted."""
    async with httpx.AsyncClient(base_url=stack.fake_url, timeout=30) as fake:
        response = await fake.get("/stats")
    response.raise_for_status()
    stats = response.json()
    calls = {str(k): int(v) for k, v in stats["by_tag"].items()}
    return calls, {str(k): float(v) for k, v in stats["ms_by_tag"].items()}


async def check_recorded(client: httpx.AsyncClient, level: Level) -> None:
    """Match every turn sent with a DecisionRecord of its session."""
    gate = asyncio.Semaphore(16)

    async def records(session_id: str) -> set[str]:
        async with gate:
            response = await client.get(f"/v1/sessions/{session_id}/decisions")
        response.raise_for_status()
        return {str(r["turn_id"]) for r in response.json()}

    ids = [r.session_id for r in level.runs if r.session_id]
    found = await asyncio.gather(*(records(s) for s in ids))
    for run, turn_ids in zip((r for r in level.runs if r.session_id), found, strict=True):
        level.recorded += sum(t.turn_id in turn_ids for t in run.turns)
        level.unrecorded += [t.tag for t in run.turns if t.turn_id not in turn_ids]


async def drive(stack: Stack, cfg: Config) -> list[Level]:
    """Warm up (not measured), then every level in turn."""
    if cfg.warmup_sessions:
        warm = Config(turns_per_session=2, ramp_s=0, duration_s=30)
        await run_level(stack, warm, cfg.warmup_sessions, Budget(2 * cfg.warmup_sessions), "w")
    budget = Budget(cfg.max_turns)
    return [await run_level(stack, cfg, c, budget, f"L{c}") for c in cfg.levels]


def run_benchmark(cfg: Config) -> tuple[list[Level], dict[str, Any]]:
    """Start everything, measure every level, then check the audit chain and the server log.

    The checks: ``audit`` (``arbiter audit verify``) and ``server_log``, the lines the
    server logged at warning level or above while it ran.
    """
    with tempfile.TemporaryDirectory(prefix="arbiter-load-") as tmp:
        with running_stack(
            Path(tmp), cfg.model_delay_ms, cfg.server_env, cfg.workers, cfg.sandbox_process
        ) as stack:
            levels = uvloop.run(drive(stack, cfg))
            audit = verify_audit(stack, cfg.server_env)
        problems = [
            line
            for line in stack.log.read_text(errors="replace").splitlines()
            if line.startswith(("WARNING", "ERROR", "CRITICAL", "Traceback"))
        ]
    return levels, {"audit": audit, "server_log": problems}


# --- report ----------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--levels", default="50,200,500", help="Concurrent sessions per level.")
    parser.add_argument("--turns-per-session", type=int, default=Config.turns_per_session)
    parser.add_argument("--model-delay-ms", type=float, default=Config.model_delay_ms)
    parser.add_argument(
        "--duration", type=float, default=Config.duration_s, help="Max seconds per level."
    )
    parser.add_argument(
        "--max-turns", type=int, default=Config.max_turns, help="Turn cap per pacing."
    )
    parser.add_argument("--ramp-s", type=float, default=None, help="Spread of session starts.")
    parser.add_argument(
        "--think-ms",
        default="10000,0",
        help="Pause between a session's turns; one run per value (0: back-to-back).",
    )
    parser.add_argument(
        "--server-env", action="append", default=[], metavar="NAME=VALUE", help="For the server."
    )
    parser.add_argument(
        "--sandbox",
        choices=("in-process", "process"),
        default="in-process",
        help="Capability services inside the server (default) or in their own process.",
    )
    parser.add_argument(
        "--workers", type=int, default=Config.workers, help="arbiter serve --workers (processes)."
    )
    parser.add_argument("--json", type=Path, default=None, help="Also write the numbers here.")
    args = parser.parse_args()
    try:
        thinks = [float(v) for v in args.think_ms.split(",") if v.strip()]
        levels = tuple(int(v) for v in args.levels.split(",") if v.strip())
    except ValueError as exc:
        parser.error(f"--levels and --think-ms take comma-separated numbers ({exc})")
    if not thinks or not levels or min(*thinks, *levels) < 0:
        parser.error("--levels and --think-ms need at least one non-negative number each")
    base = Config(
        levels=levels,
        turns_per_session=args.turns_per_session,
        model_delay_ms=args.model_delay_ms,
        duration_s=args.duration,
        max_turns=args.max_turns,
        ramp_s=args.ramp_s,
        server_env=tuple((e.partition("=")[0], e.partition("=")[2]) for e in args.server_env),
        workers=args.workers,
        sandbox_process=args.sandbox == "process",
    )
    console = Console()
    if not console.is_terminal:
        console = Console(width=150)
    load = os.getloadavg()[0]
    console.print(
        f"{os.cpu_count()} CPUs, load average {load:.2f} before the run. The server"
        f" ({base.workers} worker processes), the fake model and this load generator (one"
        " process) share them, all on loopback."
    )
    if load > 0.5:
        console.print("[yellow]other work is running: expect noisy numbers ('others' CPU)[/]")
    passes: list[dict[str, Any]] = []
    for think in thinks:
        cfg = replace(base, think_ms=think)
        measured, checks = run_benchmark(cfg)
        rows = [summary(level, cfg.model_delay_ms) for level in measured]
        render(console, cfg, rows, checks["audit"])
        if checks["server_log"]:
            console.print(f"server log: {len(checks['server_log'])} problem lines, the last ones:")
            for line in checks["server_log"][-10:]:
                console.print(f"  {line}", highlight=False, markup=False)
        passes.append({"config": asdict(cfg), "levels": rows, **checks})
    if args.json:
        args.json.write_text(json.dumps({"passes": passes}, indent=2))


if __name__ == "__main__":
    main()
