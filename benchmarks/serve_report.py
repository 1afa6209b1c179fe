"""What a serve load run reports: one summary per level, and the two tables.

The summary is also what ``--json`` writes; the goal line checks the issue's target
(p99 added latency under 50 ms at 200 sessions, no errors, every turn recorded).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:
    from benchmarks.serve_load import Config, Level

GOAL_LEVEL, GOAL_P99_MS = 200, 50.0


def pct(values: list[float], q: float) -> float:
    """Nearest-rank percentile (nan when there are no values)."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def _ms(value: float | None) -> str:
    return "-" if value is None or math.isnan(value) else f"{value:.1f}"


def summary(level: Level, delay_ms: float) -> dict[str, Any]:
    """One level's numbers (what the tables show, and ``--json`` writes)."""
    ok = [t for t in level.turns if not t.error]
    added = level.added(delay_ms)
    outside = [t.ms - t.graph_ms for t in ok if t.graph_ms is not None]
    inside = [
        t.graph_ms - level.calls.get(t.tag, 0) * delay_ms for t in ok if t.graph_ms is not None
    ]
    creates = [r.create_ms for r in level.runs if r.create_ms is not None]
    return {
        "concurrency": level.concurrency,
        "turns_sent": len(level.turns),
        "turns_ok": len(ok),
        "errors": level.errors(),
        "throughput_tps": len(ok) / level.wall_s,
        "wall_s": level.wall_s,
        "model_calls": sum(level.calls.get(t.tag, 0) for t in level.turns),
        "response_p50_ms": pct([t.ms for t in ok], 0.5),
        "response_p99_ms": pct([t.ms for t in ok], 0.99),
        "added_p50_ms": pct(added, 0.5),
        "added_p99_ms": pct(added, 0.99),
        "added_max_ms": max(added, default=math.nan),
        "added_measured_p50_ms": pct(level.added_measured(), 0.5),
        "added_measured_p99_ms": pct(level.added_measured(), 0.99),
        "outside_graph_p50_ms": pct(outside, 0.5),
        "outside_graph_p99_ms": pct(outside, 0.99),
        "in_graph_p50_ms": pct(inside, 0.5),
        "in_graph_p99_ms": pct(inside, 0.99),
        "llm_call_overhead_ms": None if level.llm_ms is None else level.llm_ms - delay_ms,
        "session_open_p50_ms": pct(creates, 0.5),
        "session_open_p99_ms": pct(creates, 0.99),
        "records": level.recorded,
        "all_recorded": not level.unrecorded and level.recorded == len(level.turns),
        "cpu_percent_of_one_core": level.cpu,
        "server_cpu_ms_per_turn": level.cpu["server"] * level.wall_s * 10 / len(ok) if ok else None,
        "client_lag_p99_ms": pct(level.client_lag_ms, 0.99),
        "client_lag_max_ms": max(level.client_lag_ms, default=math.nan),
        "error_kinds": sorted({t.error for t in level.turns if t.error}),
        "failed_turns": [f"{t.tag} ({t.error}, {t.ms:.0f} ms)" for t in level.turns if t.error][
            :10
        ],
    }


def _pair(r: dict[str, Any], key: str) -> str:
    return f"{_ms(r[f'{key}_p50_ms'])} / {_ms(r[f'{key}_p99_ms'])}"


Row = dict[str, Any]
MAIN_COLUMNS: tuple[tuple[str, Callable[[Row], str]], ...] = (
    ("sessions", lambda r: str(r["concurrency"])),
    ("turns ok/sent", lambda r: f"{r['turns_ok']}/{r['turns_sent']}"),
    ("errors", lambda r: str(r["errors"])),
    ("turns/s", lambda r: f"{r['throughput_tps']:.1f}"),
    ("response p50 / p99", lambda r: _pair(r, "response")),
    ("added p50 / p99", lambda r: _pair(r, "added")),
    ("added vs model's own time p50 / p99", lambda r: _pair(r, "added_measured")),
    (
        "recorded",
        lambda r: f"{r['records']}/{r['turns_sent']}" + ("" if r["all_recorded"] else " !"),
    ),
)
SPLIT_COLUMNS: tuple[tuple[str, Callable[[Row], str]], ...] = (
    ("sessions", lambda r: str(r["concurrency"])),
    ("outside graph p50 / p99", lambda r: _pair(r, "outside_graph")),
    ("in graph p50 / p99", lambda r: _pair(r, "in_graph")),
    ("LLM call +", lambda r: _ms(r["llm_call_overhead_ms"])),
    ("session open p50 / p99", lambda r: _pair(r, "session_open")),
    ("server CPU ms/turn", lambda r: _ms(r["server_cpu_ms_per_turn"])),
    *(
        (f"CPU {name}", lambda r, k=key: f"{r['cpu_percent_of_one_core'].get(k, 0.0):.0f}")
        for name, key in (
            ("server", "server"),
            ("sandbox", "sandbox"),
            ("fake", "fake model"),
            ("loadgen", "load generator"),
            ("others", "other processes"),
        )
    ),
    (
        "loadgen lag p99 / max",
        lambda r: f"{_ms(r['client_lag_p99_ms'])} / {_ms(r['client_lag_max_ms'])}",
    ),
)


def pacing(cfg: Config) -> str:
    """How the sessions of a run pace their turns, in words."""
    if not cfg.think_ms:
        return "back-to-back turns (closed loop: the next turn leaves with the answer)"
    low, high = cfg.think_ms * 0.5 / 1000, cfg.think_ms * 1.5 / 1000
    return f"shopper-paced sessions ({low:g}-{high:g} s between turns)"


def goal_line(cfg: Config, rows: list[Row]) -> str | None:
    """Whether the issue's target holds at its level, and why not when it does not."""
    goal = next((r for r in rows if r["concurrency"] == GOAL_LEVEL), None)
    if goal is None:
        return None
    met = goal["added_p99_ms"] < GOAL_P99_MS and not goal["errors"] and goal["all_recorded"]
    line = (
        f"goal at {GOAL_LEVEL} sessions, {pacing(cfg).split(' (')[0]} (p99 added <"
        f" {GOAL_P99_MS:.0f} ms, no errors, every turn recorded):"
        f" {'MET' if met else 'NOT MET'} (p99 added {_ms(goal['added_p99_ms'])} ms)"
    )
    if not met and not cfg.think_ms and goal["turns_ok"]:
        calls = goal["model_calls"] / max(1, goal["turns_sent"])
        asked = GOAL_LEVEL / ((calls * cfg.model_delay_ms + GOAL_P99_MS) / 1000)
        line += (
            f"; {GOAL_LEVEL} back-to-back sessions ask for about {asked:.0f} turns/s and this"
            f" machine served {goal['throughput_tps']:.0f} (server CPU"
            f" {_ms(goal['server_cpu_ms_per_turn'])} ms a turn), so turns queue"
        )
    return line


def render(console: Console, cfg: Config, rows: list[Row], audit: dict[str, Any]) -> None:
    """The two tables, failed turns, the goal and the audit check."""
    title = (
        f"arbiter serve --workers {cfg.workers} under load, {pacing(cfg)}: model delay"
        f" {cfg.model_delay_ms:.0f} ms, {cfg.turns_per_session} turns per session"
    )
    for columns, heading in (
        (MAIN_COLUMNS, title),
        (SPLIT_COLUMNS, "where the added time goes (ms; CPU in % of one core)"),
    ):
        table = Table(title=heading)
        for name, _ in columns:
            table.add_column(name, justify="right")
        for r in rows:
            table.add_row(*(cell(r) for _, cell in columns))
        console.print(table)
    for r in rows:
        if r["failed_turns"]:
            console.print(f"{r['concurrency']} sessions, failed: {', '.join(r['failed_turns'])}")
    line = goal_line(cfg, rows)
    if line is not None:
        console.print(line)
    console.print(
        f"audit chain: {'intact' if audit.get('ok') else 'BROKEN'}, "
        f"{audit.get('checked', '?')} records checked"
    )
