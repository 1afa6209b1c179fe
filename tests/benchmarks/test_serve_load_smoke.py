"""The load benchmark end to end at a tiny size: fake model, ``arbiter serve``, two sessions.

Keeps ``benchmarks.serve_load`` from rotting; the model waits 10 ms, not 300.
"""

from __future__ import annotations

import math

from benchmarks.serve_load import Config, run_benchmark
from benchmarks.serve_report import summary


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
