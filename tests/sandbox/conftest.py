"""Shared fixtures: a freshly seeded sandbox per test (copied from one seeded template)."""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from sandbox.app import create_app
from sandbox.seed import seed_database
from tests.sandbox.helpers import CLOCK

SEED_NOW = datetime(2026, 11, 24, 16, 30, tzinfo=UTC)  # CLOCK in UTC


@pytest.fixture(scope="session")
def seeded_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sandbox-template") / "template.db"
    seed_database(path, now=SEED_NOW)
    return path


@pytest.fixture
def db_path(seeded_template: Path, tmp_path: Path) -> Path:
    target = tmp_path / "sandbox.db"
    shutil.copyfile(seeded_template, target)
    return target


@pytest.fixture
def app(db_path: Path) -> FastAPI:
    return create_app(db_path, clock=CLOCK)


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sandbox") as http:
        yield http


@pytest.fixture
def db(db_path: Path) -> Iterator[sqlite3.Connection]:
    """A direct connection for arranging and inspecting state."""
    conn = sqlite3.connect(db_path, isolation_level=None)
    conn.row_factory = sqlite3.Row
    yield conn
    conn.close()
