"""Suite-wide fixtures: no real model can be reached; settings never leak from the shell."""

from __future__ import annotations

import os
from typing import Any

import pytest
from httpcore2._backends.auto import AutoBackend
from httpcore2._backends.sync import SyncBackend


class RealModelCallError(AssertionError):
    """A test tried to reach a real LLM endpoint."""


_MESSAGE = "a test tried to reach a real model endpoint; mock it with respx"


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


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Settings come only from what a test sets."""
    for name in list(os.environ):
        if name.startswith(("ARBITER_", "OPENAI_")):
            monkeypatch.delenv(name)
