"""Open the budget ledger and the kill switch together, on the configured database.

With a database URL both live in PostgreSQL behind one small connection pool (every
replica shares them); without one, both live in one SQLite file under the data dir.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol, Self

from arbiter.errors import ConfigError, ServiceUnavailableError
from guardrails.kill_switch import KillSwitch, SqliteKillSwitch
from guardrails.ledger.base import BudgetLedger
from guardrails.ledger.sqlite import SqliteBudgetLedger


class _Closeable(Protocol):
    def close(self) -> None: ...


@dataclass
class GuardStores:
    """The ledger and kill switch of one process; close (or ``with``) to release them."""

    ledger: BudgetLedger
    kill_switch: KillSwitch
    backend: str
    """``sqlite`` or ``postgres``."""
    pool: Any = None
    """The PostgreSQL connection pool, for other small tables to share (None on SQLite)."""
    _closers: list[_Closeable] = field(default_factory=list, repr=False)

    @classmethod
    def open(cls, database_url: str | None, sqlite_path: Path) -> GuardStores:
        """PostgreSQL when a URL is given, else the SQLite file."""
        if not database_url:
            return cls(SqliteBudgetLedger(sqlite_path), SqliteKillSwitch(sqlite_path), "sqlite")
        try:
            import psycopg

            from guardrails.ledger.postgres import (
                PostgresBudgetLedger,
                PostgresKillSwitch,
                open_pool,
            )
        except ImportError as exc:
            raise ConfigError(
                "ARBITER_DATABASE_URL is set but the PostgreSQL driver is missing: "
                "pip install 'arbiter-commerce[postgres]'"
            ) from exc

        try:
            pool = open_pool(database_url)
        except psycopg.Error as exc:
            raise ServiceUnavailableError("budget database", str(exc)) from exc
        try:
            stores = cls(
                PostgresBudgetLedger(pool), PostgresKillSwitch(pool), "postgres", pool=pool
            )
        except BaseException as exc:
            pool.close()
            if isinstance(exc, psycopg.Error):
                raise ServiceUnavailableError("budget database", str(exc)) from exc
            raise
        stores._closers.append(pool)
        return stores

    def close(self) -> None:
        """Close the ledger, the kill switch and the pool they share."""
        self.ledger.close()
        self.kill_switch.close()
        for closer in self._closers:
            closer.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
