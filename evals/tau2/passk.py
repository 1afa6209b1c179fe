"""pass^k as tau-bench reports it: the chance that k trials of a task *all* succeed.

With ``n`` trials of a task of which ``c`` succeeded, the unbiased estimate of that
chance for k ≤ n is C(c, k) / C(n, k) (draw k of the n trials without replacement;
all k must be successes). pass^k of a run is its mean over tasks. pass^1 is the
plain success rate; pass^k falls as k grows unless every task is solved reliably.
(The scenario harness's ``pass_hat_k`` in ``evals.metrics`` is the strict form — all
of a scenario's trials passed — which equals this at k = n.)
"""

from __future__ import annotations

from collections.abc import Sequence
from math import comb

TaskCount = tuple[int, int]
"""(successes, trials) of one task."""


def task_pass_hat_k(successes: int, trials: int, k: int) -> float:
    """C(c, k) / C(n, k) for one task; k must be between 1 and the trials run."""
    if not 0 <= successes <= trials:
        raise ValueError(f"successes {successes} must be between 0 and trials {trials}")
    if not 1 <= k <= trials:
        raise ValueError(f"k={k} needs 1 <= k <= trials ({trials})")
    return comb(successes, k) / comb(trials, k)


def pass_hat_k(counts: Sequence[TaskCount], k: int) -> float:
    """Mean over tasks of ``task_pass_hat_k`` (0 for no tasks)."""
    if not counts:
        return 0.0
    return sum(task_pass_hat_k(c, n, k) for c, n in counts) / len(counts)


def pass_hat_curve(counts: Sequence[TaskCount]) -> dict[int, float]:
    """pass^1 … pass^K, K being the fewest trials any task had."""
    if not counts:
        return {}
    most = min(n for _, n in counts)
    return {k: pass_hat_k(counts, k) for k in range(1, most + 1)}
