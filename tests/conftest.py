"""Suite-wide fixtures: no real model can be reached; settings never leak from the shell."""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from httpcore2._backends.auto import AutoBackend
from httpcore2._backends.sync import SyncBackend

from agent.models.base import ChatModel
from agent.runtime import Arbiter
from arbiter.settings import Settings


class RealModelCallError(AssertionError):
    """A test tried to reach a real LLM endpoint."""


_MESSAGE = "a test tried to reach a real model endpoint; mock it with respx"
_LOOPBACK = ("127.0.0.1", "localhost", "::1")


async def _refuse_async(*args: Any, **kwargs: Any) -> Any:
    raise RealModelCallError(_MESSAGE)


def _refuse(*args: Any, **kwargs: Any) -> Any:
    raise RealModelCallError(_MESSAGE)


@pytest.fixture(autouse=True)
def no_real_model_calls(monkeypatch: pytest.MonkeyPatch) -> None:
    """The openai SDK sends through httpcore2; opening a real connection fails the test.

    The guard sits at the network backend, below where respx intercepts, so mocked
    requests still work and anything unmocked cannot leave the process.
    """
    monkeypatch.setattr(AutoBackend, "connect_tcp", _refuse_async)
    monkeypatch.setattr(SyncBackend, "connect_tcp", _refuse)
    # The aiohttp transport (ARBITER_LLM_TRANSPORT): loopback only, for fakes on 127.0.0.1.
    connect = aiohttp.TCPConnector._create_direct_connection

    async def loopback_only(self: aiohttp.TCPConnector, req: Any, *args: Any, **kw: Any) -> Any:
        if req.url.host not in _LOOPBACK:
            raise RealModelCallError(_MESSAGE)
        return await connect(self, req, *args, **kw)

    monkeypatch.setattr(aiohttp.TCPConnector, "_create_direct_connection", loopback_only)


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Settings come only from what a test sets."""
    for name in list(os.environ):
        if name.startswith(("ARBITER_", "OPENAI_", "OTEL_")):
            monkeypatch.delenv(name)


SANDBOX_NOW = "2026-11-24T10:30:00-06:00"


@pytest.fixture(scope="session")
def seeded_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One seeded sandbox database per test session; tests get copies."""
    from sandbox.clock import parse_iso
    from sandbox.seed import seed_database

    # Seed against the fixed clock (not today's), so data ages stay the same on any day.
    path = tmp_path_factory.mktemp("sandbox") / "sandbox.sqlite"
    seed_database(path, now=parse_iso(SANDBOX_NOW))
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
