"""`arbiter sandbox serve` over real HTTP on loopback: the same client code as in-process."""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from agent.runtime import Arbiter
from arbiter.settings import Settings
from sandbox.seed import SAMPLE_CUSTOMER_ID
from tests.conftest import SANDBOX_NOW


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def served(tmp_path: Path, seeded_sandbox: Path) -> Iterator[str]:
    shutil.copy(seeded_sandbox, tmp_path / "sandbox.sqlite")
    port = _free_port()
    env = {**os.environ, "ARBITER_DATA_DIR": str(tmp_path), "ARBITER_SANDBOX_CLOCK": SANDBOX_NOW}
    process = subprocess.Popen(
        [sys.executable, "-m", "arbiter.cli", "sandbox", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/catalog/categories", timeout=0.5).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            pytest.fail("sandbox did not start")
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_a_turn_over_the_served_sandbox(served: str, tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "agent", sandbox_url=served, planner="offline")

    async def turn() -> str:
        async with Arbiter.open(settings) as arbiter:
            session = await arbiter.start_session(SAMPLE_CUSTOMER_ID)
            result = await arbiter.ask(session.session_id, "add RUN-00005 to my cart")
            assert [e.status for e in result.record.executions] == ["executed"]
            return result.text

    assert "RUN-00005" in asyncio.run(turn())
    cart = httpx.get(f"{served}/carts", params={"customer_id": SAMPLE_CUSTOMER_ID}).json()
    assert [(line["sku"], line["quantity"]) for line in cart["lines"]] == [("RUN-00005", 1)]
