"""Several OS processes race for the last units of a budget: the cap holds exactly.

Each worker is a fresh interpreter with its own ledger object and connection. Workers
import and connect first, report ready, and start together on one line from the test,
so their reservations genuinely overlap.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from guardrails.ledger import Claim, customer_day_scope, global_day_scope, session_scope
from tests.guardrails.test_ledger_postgres import BACKENDS, Backend, backend

ROOT = Path(__file__).resolve().parents[2]

WORKER = """
import json, sys
from pathlib import Path

kind, where, attempts, worker, claims = sys.argv[1:6]
attempts, claims = int(attempts), json.loads(claims)
if kind == "sqlite":
    from guardrails.ledger import SqliteBudgetLedger
    ledger = SqliteBudgetLedger(Path(where))
else:
    from guardrails.ledger.postgres import PostgresBudgetLedger, open_pool
    pool = open_pool(where, max_size=1)
    ledger = PostgresBudgetLedger(pool)
ledger.spent("warm-up")
print("ready", flush=True)
sys.stdin.readline()
won = []
for attempt in range(attempts):
    entry = f"{worker}-{attempt}"
    if ledger.reserve_many([tuple(c) for c in claims], entry):
        ledger.commit(entry)
        won.append(entry)
print(json.dumps(won), flush=True)
ledger.close()
if kind != "sqlite":
    pool.close()
"""


@pytest.fixture(params=BACKENDS)
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    with backend(request.param, tmp_path) as opened:
        opened.ledger()  # create the schema before the race
        yield opened


def race(db: Backend, claims_for: list[list[Claim]], attempts: int) -> list[str]:
    """Run one worker per claim list, all released at once; the entries that won."""
    workers = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                WORKER,
                db.kind,
                db.where,
                str(attempts),
                f"w{i}",
                json.dumps(c),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
        for i, c in enumerate(claims_for)
    ]
    try:
        for worker in workers:
            assert worker.stdout is not None and worker.stdout.readline().strip() == "ready"
        for worker in workers:
            assert worker.stdin is not None
            worker.stdin.write("go\n")
            worker.stdin.flush()
        won: list[str] = []
        for worker in workers:
            out, _ = worker.communicate(timeout=60)
            assert worker.returncode == 0
            won.extend(json.loads(out.strip().splitlines()[-1]))
        return won
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
                worker.wait()


def test_processes_racing_for_one_scope_spend_exactly_the_cap(db: Backend) -> None:
    claims = [Claim("campaign:black-friday", 10.0, 50.0)]
    won = race(db, [claims] * 6, attempts=4)
    assert len(won) == 5
    assert db.ledger().spent("campaign:black-friday") == 50.0


def test_the_global_daily_cap_binds_across_sessions_and_customers(db: Backend) -> None:
    day = global_day_scope()
    claims_for = [
        [
            Claim(session_scope(f"s{i}"), 10.0, 30.0),
            Claim(customer_day_scope(f"C{i % 2}"), 10.0, 40.0),
            Claim(day, 10.0, 50.0),
        ]
        for i in range(6)
    ]
    won = race(db, claims_for, attempts=3)
    ledger = db.ledger()
    assert len(won) == 5 and ledger.spent(day) == 50.0
    # All or nothing: every scope saw exactly the winners' lines.
    assert sum(ledger.spent(session_scope(f"s{i}")) for i in range(6)) == 50.0
    customers = [ledger.spent(customer_day_scope(f"C{c}")) for c in range(2)]
    assert sum(customers) == 50.0 and max(customers) <= 40.0
