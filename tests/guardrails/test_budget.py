"""The ledger's contract, on SQLite and on PostgreSQL (skipped when the server is down)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from guardrails.budget import BudgetLedger, Claim, SqliteBudgetLedger
from guardrails.ledger import campaign_scope, customer_day_scope, global_day_scope, session_scope
from tests.guardrails.test_ledger_postgres import BACKENDS, Backend, backend


@pytest.fixture(params=BACKENDS)
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    with backend(request.param, tmp_path) as opened:
        yield opened


@pytest.fixture
def ledger(db: Backend) -> BudgetLedger:
    return db.ledger()


def test_reserve_commit_release(ledger: BudgetLedger) -> None:
    assert ledger.reserve("s", "e1", 30.0, cap=50.0)
    assert not ledger.reserve("s", "e2", 30.0, cap=50.0)
    ledger.commit("e1")
    assert ledger.spent("s") == 30.0
    assert ledger.reserve("s", "e3", 20.0, cap=50.0)
    ledger.release("e3")
    assert ledger.spent("s") == 30.0
    ledger.commit("e3")  # a released entry cannot be committed later
    assert ledger.spent("s") == 30.0


def test_reservation_is_idempotent_per_entry(ledger: BudgetLedger) -> None:
    assert ledger.reserve("s", "e1", 40.0, cap=50.0)
    assert ledger.reserve("s", "e1", 40.0, cap=50.0)
    assert ledger.spent("s") == 40.0
    ledger.commit("e1")
    ledger.commit("e1")
    assert ledger.spent("s") == 40.0
    ledger.release("e1")  # too late: the money is spent
    assert ledger.spent("s") == 40.0


def test_a_released_entry_stays_refused(ledger: BudgetLedger) -> None:
    assert ledger.reserve("s", "e1", 10.0, cap=50.0)
    ledger.release("e1")
    assert not ledger.reserve("s", "e1", 10.0, cap=50.0)
    assert ledger.spent("s") == 0.0


def test_expired_reservations_free_the_budget(db: Backend) -> None:
    ledger = db.ledger(reservation_ttl_s=-1.0)
    assert ledger.reserve("s", "e1", 50.0, cap=50.0)
    assert ledger.spent("s") == 0.0
    assert ledger.reserve("s", "e2", 50.0, cap=50.0)


def test_reserve_many_is_all_or_nothing(ledger: BudgetLedger) -> None:
    day = global_day_scope()
    assert ledger.reserve_many([Claim("session:a", 30.0, 100.0), Claim(day, 30.0, 40.0)], "e1")
    # The session has room, the day does not: neither scope is touched.
    assert not ledger.reserve_many([Claim("session:b", 20.0, 100.0), Claim(day, 20.0, 40.0)], "e2")
    assert (ledger.spent("session:b"), ledger.spent(day)) == (0.0, 30.0)
    assert ledger.reserve_many([("session:b", 10.0, 100.0), (day, 10.0, 40.0)], "e3")
    ledger.commit("e1")
    ledger.release("e3")
    assert (ledger.spent("session:a"), ledger.spent("session:b"), ledger.spent(day)) == (
        30.0,
        0.0,
        30.0,
    )


def test_reserve_many_rejects_malformed_claims(ledger: BudgetLedger) -> None:
    with pytest.raises(ValueError, match="claimed twice"):
        ledger.reserve_many([Claim("s", 1.0, 5.0), Claim("s", 1.0, 5.0)], "e1")
    with pytest.raises(ValueError, match="negative"):
        ledger.reserve_many([Claim("s", -1.0, 5.0)], "e1")
    with pytest.raises(ValueError, match="at least one"):
        ledger.reserve_many([], "e1")


def test_scope_names_are_distinct_per_kind() -> None:
    names = {
        session_scope("x"),
        customer_day_scope("x"),
        campaign_scope("x"),
        global_day_scope(),
    }
    assert len(names) == 4
    assert customer_day_scope("C1").startswith("customer:C1:20")


def test_cap_holds_under_concurrent_reservations(db: Backend) -> None:
    db.ledger()

    def attempt(i: int) -> bool:
        return db.ledger().reserve("s", f"e{i}", 10.0, cap=55.0)

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(attempt, range(40)))
    assert sum(results) == 5
    assert db.ledger().spent("s") == 50.0


def test_a_file_from_before_multi_scope_reservations_is_migrated(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    with sqlite3.connect(path) as conn:
        conn.execute(
            "CREATE TABLE budget_entries (entry_id TEXT PRIMARY KEY, scope TEXT NOT NULL,"
            " amount REAL NOT NULL, status TEXT NOT NULL, expires_at REAL NOT NULL,"
            " created_at REAL NOT NULL)"
        )
        conn.executemany(
            "INSERT INTO budget_entries VALUES (?, ?, ?, ?, 9e99, 0)",
            [
                ("e1", "s", 20.0, "committed"),
                ("e2", "s", 5.0, "reserved"),
                ("e3", "s", 9.0, "released"),
            ],
        )
    conn.close()
    ledger = SqliteBudgetLedger(path)
    assert ledger.spent("s") == 25.0
    assert ledger.reserve("s", "e1", 20.0, cap=25.0)  # still known: idempotent
    ledger.commit("e2")
    assert ledger.spent("s") == 25.0
    ledger.close()
