from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from guardrails.budget import SqliteBudgetLedger


def test_reserve_commit_release(tmp_path: Path) -> None:
    ledger = SqliteBudgetLedger(tmp_path / "b.sqlite")
    assert ledger.reserve("s", "e1", 30.0, cap=50.0)
    assert not ledger.reserve("s", "e2", 30.0, cap=50.0)
    ledger.commit("e1")
    assert ledger.spent("s") == 30.0
    assert ledger.reserve("s", "e3", 20.0, cap=50.0)
    ledger.release("e3")
    assert ledger.spent("s") == 30.0
    ledger.commit("e3")  # a released entry cannot be committed later
    assert ledger.spent("s") == 30.0


def test_reservation_is_idempotent_per_entry(tmp_path: Path) -> None:
    ledger = SqliteBudgetLedger(tmp_path / "b.sqlite")
    assert ledger.reserve("s", "e1", 40.0, cap=50.0)
    assert ledger.reserve("s", "e1", 40.0, cap=50.0)
    assert ledger.spent("s") == 40.0


def test_expired_reservations_free_the_budget(tmp_path: Path) -> None:
    ledger = SqliteBudgetLedger(tmp_path / "b.sqlite", reservation_ttl_s=-1.0)
    assert ledger.reserve("s", "e1", 50.0, cap=50.0)
    assert ledger.spent("s") == 0.0
    assert ledger.reserve("s", "e2", 50.0, cap=50.0)


def test_cap_holds_under_concurrent_reservations(tmp_path: Path) -> None:
    path = tmp_path / "b.sqlite"
    SqliteBudgetLedger(path)

    def attempt(i: int) -> bool:
        return SqliteBudgetLedger(path).reserve("s", f"e{i}", 10.0, cap=55.0)

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(attempt, range(40)))
    assert sum(results) == 5
    assert SqliteBudgetLedger(path).spent("s") == 50.0
