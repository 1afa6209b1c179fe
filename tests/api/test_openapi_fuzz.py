"""Schemathesis against the OpenAPI document: generated requests never get a 5xx.

The real service runs under uvicorn on a loopback port; every operation gets a bounded
number of generated requests (valid and invalid bodies, odd path ids), sent with an
operator key so authorization is not what answers.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
import uvicorn
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from schemathesis.core.result import Ok

from api.app import create_app
from arbiter.settings import Settings
from tests.api.conftest import api_settings, headers

EXAMPLES_PER_OPERATION = 12


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def live_url(settings: Settings) -> Iterator[str]:
    """The app served by uvicorn in a thread, until the test ends."""
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(api_settings(settings)), host="127.0.0.1", port=port, log_level="warning"
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the API did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)


def test_generated_requests_never_get_a_server_error(live_url: str, settings: Settings) -> None:
    schema = schemathesis.openapi.from_dict(create_app(api_settings(settings)).openapi())
    operations = []
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), result
        operations.append(result.ok())
    assert len(operations) >= 20
    failures: list[str] = []
    calls = 0
    for operation in operations:

        @hypothesis_settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            database=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy())
        def run(case: schemathesis.Case[Any]) -> None:
            nonlocal calls
            calls += 1
            response = case.call(base_url=live_url, headers=headers("operator"), timeout=30)
            if response.status_code >= 500:
                failures.append(
                    f"{case.method} {case.formatted_path} -> {response.status_code}: "
                    f"{response.text[:200]} body={case.body!r}"
                )

        run()
    assert calls >= len(operations)
    assert failures == []
