"""Fixtures for turns over the real in-process sandbox."""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path

import pytest

from agent.models.base import ChatModel
from agent.runtime import Arbiter
from arbiter.settings import Settings

SANDBOX_NOW = "2026-11-24T10:30:00-06:00"


@pytest.fixture(scope="session")
def seeded_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One seeded sandbox database per test session; tests get copies."""
    from sandbox.seed import seed_database

    previous = os.environ.get("ARBITER_SANDBOX_CLOCK")
    os.environ["ARBITER_SANDBOX_CLOCK"] = SANDBOX_NOW
    try:
        path = tmp_path_factory.mktemp("sandbox") / "sandbox.sqlite"
        seed_database(path)
    finally:
        if previous is None:
            os.environ.pop("ARBITER_SANDBOX_CLOCK", None)
        else:
            os.environ["ARBITER_SANDBOX_CLOCK"] = previous
    return path


@pytest.fixture
def settings(tmp_path: Path, seeded_sandbox: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Settings over a fresh copy of the seeded sandbox, offline planner, fixed clock."""
    monkeypatch.setenv("ARBITER_SANDBOX_CLOCK", SANDBOX_NOW)
    shutil.copy(seeded_sandbox, tmp_path / "sandbox.sqlite")
    return Settings(data_dir=tmp_path, planner="offline")


OpenArbiter = Callable[..., AbstractAsyncContextManager[Arbiter]]


@pytest.fixture
def open_arbiter(settings: Settings) -> OpenArbiter:
    """Open an Arbiter over the test's settings, optionally with a given model."""

    def opener(model: ChatModel | None = None) -> AbstractAsyncContextManager[Arbiter]:
        return Arbiter.open(settings, model=model)

    return opener


@pytest.fixture
async def arbiter(open_arbiter: OpenArbiter) -> AsyncIterator[Arbiter]:
    """An Arbiter with the offline planner."""
    async with open_arbiter() as opened:
        yield opened
