"""Budget ledger and kill switch latency, SQLite and PostgreSQL, one process.

    .venv/bin/python -m benchmarks.ledger [--ops 2000] [--warmup 200] [--database-url URL]

Prints a table: per backend, p50/p99 and throughput of a reserve+commit pair (the
money path of one executed action), of a four-scope ``reserve_many`` + commit
(session, customer-day, campaign, global-day), and of the kill-switch read every
verdict makes. SQLite uses a file in a temporary directory; PostgreSQL uses a
throwaway schema on ``--database-url`` (default: ``ARBITER_DATABASE_URL`` or the
local server) and is skipped with a note when unreachable. Goal: reserve+commit
p99 under 2 ms on SQLite.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from rich.console import Console
from rich.table import Table

from guardrails.kill_switch import KillSwitch
from guardrails.ledger import (
    BudgetLedger,
    Claim,
    campaign_scope,
    customer_day_scope,
    global_day_scope,
    session_scope,
)
from guardrails.ledger.stores import GuardStores

LOCAL_URL = "postgresql://postgres@127.0.0.1:5432/test"

Row = tuple[str, str, int, float, float, float]


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _measure(op: Callable[[int], object], ops: int, warmup: int) -> tuple[float, float, float]:
    for i in range(warmup):
        op(-1 - i)
    samples = []
    started = time.perf_counter()
    for i in range(ops):
        t0 = time.perf_counter()
        op(i)
        samples.append((time.perf_counter() - t0) * 1000)
    elapsed = time.perf_counter() - started
    return statistics.median(samples), _pct(samples, 0.99), ops / elapsed


def bench(
    backend: str, ledger: BudgetLedger, switch: KillSwitch, ops: int, warmup: int
) -> list[Row]:
    run = uuid.uuid4().hex[:8]

    def one_scope(i: int) -> None:
        entry = f"{run}-a{i}"
        assert ledger.reserve(session_scope(f"{run}-{i % 50}"), entry, 1.0, cap=1e12)
        ledger.commit(entry)

    claims = [
        (session_scope(run), 1.0, 1e12),
        (customer_day_scope(f"C{run}"), 1.0, 1e12),
        (campaign_scope(run), 1.0, 1e12),
        (global_day_scope(), 1.0, 1e12),
    ]

    def four_scopes(i: int) -> None:
        entry = f"{run}-m{i}"
        assert ledger.reserve_many([Claim(*c) for c in claims], entry)
        ledger.commit(entry)

    switch.set("action:request_refund", "benchmark", "bench")

    def verdict_read(i: int) -> None:
        switch.blocks("offer_discount", "shopper")

    rows = []
    for name, op in (
        ("reserve + commit", one_scope),
        ("reserve_many (4 scopes) + commit", four_scopes),
        ("kill switch read (per verdict)", verdict_read),
    ):
        p50, p99, rate = _measure(op, ops, warmup)
        rows.append((backend, name, ops, p50, p99, rate))
    switch.clear("action:request_refund")
    return rows


@contextmanager
def postgres_schema(url: str) -> Iterator[str]:
    """A connection string on a throwaway schema (dropped on exit)."""
    import psycopg
    from psycopg.conninfo import make_conninfo

    schema = f"arbiter_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(url, autocommit=True, connect_timeout=3) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    try:
        yield make_conninfo(url, options=f"-c search_path={schema}")
    finally:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--ops", type=int, default=2000)
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument(
        "--database-url", default=os.environ.get("ARBITER_DATABASE_URL") or LOCAL_URL
    )
    args = parser.parse_args()
    rows: list[Row] = []
    notes: list[str] = []
    with (
        tempfile.TemporaryDirectory() as tmp,
        GuardStores.open(None, Path(tmp) / "budget.sqlite") as stores,
    ):
        rows += bench("sqlite", stores.ledger, stores.kill_switch, args.ops, args.warmup)
    try:
        with postgres_schema(args.database_url) as url, GuardStores.open(url, Path("-")) as pg:
            rows += bench("postgres", pg.ledger, pg.kill_switch, args.ops, args.warmup)
    except Exception as exc:  # noqa: BLE001 - any failure to reach it is reported, not raised
        notes.append(f"postgres skipped: {type(exc).__name__}: {str(exc).strip()[:160]}")
    table = Table(title=f"budget ledger, one process, {args.ops} ops after {args.warmup} warm-up")
    for column in ("backend", "operation", "ops"):
        table.add_column(column)
    for column in ("p50 ms", "p99 ms", "ops/s"):
        table.add_column(column, justify="right")
    for backend, name, ops, p50, p99, rate in rows:
        table.add_row(backend, name, str(ops), f"{p50:.3f}", f"{p99:.3f}", f"{rate:,.0f}")
    console = Console()
    console.print(table)
    for note in notes:
        console.print(note, highlight=False, markup=False)


if __name__ == "__main__":
    main()
