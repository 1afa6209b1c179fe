"""The load benchmark end to end at a tiny size: fake model, ``arbiter serve``, two sessions.

Keeps ``benchmarks.serve_load`` from rotting; the model waits 10 ms, not 300.
"""

from __future__ import annotations

import math

from benchmarks.serve_load import Config, run_benchmark
from benchmarks.serve_report import goal_line, summary


def test_two_sessions_two_turns_all_answered_and_recorded() -> None:
    cfg = Config(
        levels=(2,),
        turns_per_session=2,
        model_delay_ms=10,
        duration_s=20,
        max_turns=10,
        ramp_s=0,
        warmup_sessions=0,
        request_timeout_s=20,
    )
    levels, checks = run_benchmark(cfg)

    (level,) = levels
    row = summary(level, cfg.model_delay_ms)
    assert row["errors"] == 0 and row["turns_ok"] == 4
    assert row["all_recorded"] and row["records"] == 4
    # Each turn: a tool call, then the answer after the tool result.
    assert [level.calls[t.tag] for t in level.turns] == [2, 2, 2, 2]
    assert row["model_calls"] == 8
    assert not math.isnan(row["added_p99_ms"]) and row["added_p50_ms"] > 0
    assert checks["audit"]["ok"] and checks["audit"]["checked"] == 4
    assert checks["server_log"] == []


def _goal_row(p99: float, *, errors: int = 0, recorded: bool = True) -> dict[str, object]:
    return {
        "concurrency": 200,
        "added_p99_ms": p99,
        "errors": errors,
        "all_recorded": recorded,
        "turns_ok": 800,
        "turns_sent": 800,
        "model_calls": 1600,
        "throughput_tps": 120.0,
        "server_cpu_ms_per_turn": 12.5,
    }


def test_goal_line_holds_each_condition_and_explains_a_closed_loop_miss() -> None:
    paced, closed = Config(think_ms=10_000), Config(think_ms=0)
    assert "shopper-paced" in str(goal_line(paced, [_goal_row(38.0)]))
    assert ": MET" in str(goal_line(paced, [_goal_row(38.0)]))
    assert "NOT MET" in str(goal_line(paced, [_goal_row(51.0)]))
    assert "NOT MET" in str(goal_line(paced, [_goal_row(10.0, errors=1)]))
    assert "NOT MET" in str(goal_line(paced, [_goal_row(10.0, recorded=False)]))
    missed = str(goal_line(closed, [_goal_row(900.0)]))
    # 200 sessions, two 300 ms model calls a turn: about 308 turns/s asked for.
    assert "NOT MET" in missed and "about 308 turns/s" in missed and "served 120" in missed
    assert goal_line(paced, [{**_goal_row(1.0), "concurrency": 50}]) is None
