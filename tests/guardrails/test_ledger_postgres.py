"""The PostgreSQL backend against the real local server, plus the helpers other tests share.

Every test gets its own schema (dropped afterwards), so parallel workers never meet.
When the server is unreachable these tests skip and say why; SQLite needs nothing.
"""

from __future__ import annotations

import functools
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from agent.models.scripted import ScriptedChatModel, answer, step, tool_call
from agent.runtime import Arbiter
from arbiter.errors import ServiceUnavailableError
from arbiter.settings import Settings
from guardrails.kill_switch import KillSwitch
from guardrails.ledger import BudgetLedger, Claim, SqliteBudgetLedger
from guardrails.ledger.stores import GuardStores
from guardrails.validator import KILL_SWITCH_RULE
from sandbox.seed import SAMPLE_CUSTOMER_ID

PG_URL = os.environ.get("ARBITER_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
"""The local server (trust auth); override to point the tests elsewhere."""

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
"""Parametrize a test over both ledger backends (PostgreSQL skips when unreachable)."""


@functools.cache
def _unreachable() -> str | None:
    try:
        import psycopg
    except ImportError:
        return "psycopg is not installed (pip install -e '.[postgres]')"
    try:
        psycopg.connect(PG_URL, connect_timeout=3).close()
    except psycopg.Error as exc:
        return f"PostgreSQL unreachable at {PG_URL}: {str(exc).strip()}"
    return None


@contextmanager
def postgres_schema() -> Iterator[str]:
    """A connection string whose search_path is a fresh schema, dropped on exit."""
    reason = _unreachable()
    if reason is not None:
        pytest.skip(reason)
    import psycopg
    from psycopg.conninfo import make_conninfo

    schema = f"arbiter_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    try:
        yield make_conninfo(PG_URL, options=f"-c search_path={schema}")
    finally:
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")


@dataclass
class Backend:
    """One test's database: a SQLite file or a PostgreSQL schema."""

    kind: str
    where: str
    """The SQLite file path or the PostgreSQL connection string."""
    _stores: list[GuardStores] = field(default_factory=list)
    _pools: list[Any] = field(default_factory=list)

    def stores(self) -> GuardStores:
        """A new ledger + kill switch on this database (another replica, in effect)."""
        url = self.where if self.kind == "postgres" else None
        opened = GuardStores.open(url, Path(self.where))
        self._stores.append(opened)
        return opened

    def ledger(self, *, reservation_ttl_s: float = 300.0) -> BudgetLedger:
        """A ledger with its own reservation lifetime."""
        if self.kind == "sqlite":
            return SqliteBudgetLedger(Path(self.where), reservation_ttl_s=reservation_ttl_s)
        from guardrails.ledger.postgres import PostgresBudgetLedger, open_pool

        pool = open_pool(self.where, max_size=2)
        self._pools.append(pool)
        return PostgresBudgetLedger(pool, reservation_ttl_s=reservation_ttl_s)

    def kill_switch(self) -> KillSwitch:
        """A kill switch on this database."""
        return self.stores().kill_switch

    def close(self) -> None:
        """Close everything opened."""
        for stores in self._stores:
            stores.close()
        for pool in self._pools:
            pool.close()


@contextmanager
def backend(kind: str, tmp_path: Path) -> Iterator[Backend]:
    """A fresh database of the given kind."""
    if kind == "sqlite":
        opened = Backend("sqlite", str(tmp_path / "budget.sqlite"))
        try:
            yield opened
        finally:
            opened.close()
        return
    with postgres_schema() as url:
        opened = Backend("postgres", url)
        try:
            yield opened
        finally:
            opened.close()


# --- PostgreSQL-specific behaviour -------------------------------------------------------


@pytest.fixture
def pg(tmp_path: Path) -> Iterator[Backend]:
    with backend("postgres", tmp_path) as opened:
        yield opened


@pytest.mark.postgres
def test_schema_is_created_once_by_several_replicas(pg: Backend) -> None:
    first, second = pg.stores(), pg.stores()
    assert first.backend == second.backend == "postgres"
    assert first.ledger.reserve("s", "e1", 10.0, cap=15.0)
    assert not second.ledger.reserve("s", "e2", 10.0, cap=15.0)
    first.ledger.commit("e1")
    assert second.ledger.spent("s") == 10.0


@pytest.mark.postgres
def test_commit_after_release_and_release_after_commit_change_nothing(pg: Backend) -> None:
    ledger = pg.ledger()
    assert ledger.reserve_many([Claim("a", 4.0, 10.0), Claim("b", 4.0, 10.0)], "e1")
    ledger.release("e1")
    ledger.commit("e1")
    assert ledger.reserve_many([Claim("a", 6.0, 10.0), Claim("b", 6.0, 10.0)], "e2")
    ledger.commit("e2")
    ledger.release("e2")
    assert (ledger.spent("a"), ledger.spent("b")) == (6.0, 6.0)


def test_an_unreachable_database_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("psycopg")
    from guardrails.ledger import postgres

    monkeypatch.setattr(postgres, "open_pool", functools.partial(postgres.open_pool, timeout_s=0.3))
    url = "postgresql://postgres@127.0.0.1:1/none?connect_timeout=1"
    with pytest.raises(ServiceUnavailableError, match="budget database"):
        GuardStores.open(url, tmp_path / "unused.sqlite")


@pytest.mark.postgres
async def test_arbiter_uses_postgres_when_a_database_url_is_set(
    pg: Backend, settings: Settings
) -> None:
    configured = settings.model_copy(update={"database_url": pg.where})
    model = ScriptedChatModel(
        [step(tool_call("add_to_cart", sku="RUN-00005", quantity=1)), answer("Not now.")]
    )
    pg.kill_switch().set("action:add_to_cart", "inventory sync broken", "oncall")
    async with Arbiter.open(configured, model=model) as arbiter:
        session = await arbiter.start_session(SAMPLE_CUSTOMER_ID)
        result = await arbiter.ask(session.session_id, "add RUN-00005")
    assert [v.rule_ids for v in result.record.verdicts] == [[KILL_SWITCH_RULE]]
    assert result.record.executions == []
    assert not (settings.data_dir / "budget.sqlite").exists()


@pytest.mark.postgres
def test_an_unreachable_kill_switch_raises_for_the_validator_to_fail_closed(pg: Backend) -> None:
    from guardrails.kill_switch import KillSwitchUnavailable
    from guardrails.ledger.postgres import PostgresKillSwitch, open_pool

    pool = open_pool(pg.where, max_size=1)
    switch = PostgresKillSwitch(pool)
    assert switch.blocks("offer_discount", "shopper") is None
    pool.close()
    with pytest.raises(KillSwitchUnavailable):
        switch.blocks("offer_discount", "shopper")
