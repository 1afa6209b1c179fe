"""``arbiter serve --workers 2`` as a process: turns land on both workers, /metrics sums them.

Each request opens its own connection and they run concurrently, so the kernel hands
them to both worker processes; every scrape, whichever worker answers it, must count
every turn (Prometheus multiprocess mode).
"""

from __future__ import annotations

import signal
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from arbiter.settings import Settings
from benchmarks.serve_stack import HOST, arbiter_exe, child_env, free_port, stop, wait_ready
from tests.api.conftest import KEYS, SHOPPER, headers
from tests.conftest import SANDBOX_NOW

TURNS = 16


def _turns_counted(text: str) -> float:
    for family in text_string_to_metric_families(text):
        if family.name == "arbiter_turns":
            return sum(s.value for s in family.samples if s.name == "arbiter_turns_total")
    return 0.0


def test_metrics_sum_every_worker(settings: Settings, tmp_path: Path) -> None:
    keys = ",".join(f"t-{role.replace('_', '-')}:{role}:{key}" for role, key in KEYS.items())
    env = child_env(
        ARBITER_DATA_DIR=str(settings.data_dir),
        ARBITER_PLANNER="offline",
        ARBITER_API_KEYS=keys,
        ARBITER_SANDBOX_CLOCK=SANDBOX_NOW,
    )
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    port, log = free_port(), tmp_path / "serve.log"
    with log.open("wb") as out:
        server = subprocess.Popen(
            [arbiter_exe(), "serve", "--host", HOST, "--port", str(port), "--workers", "2"]
            + ["--log-level", "warning"],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
        )
    base = f"http://{HOST}:{port}"
    try:
        wait_ready(base, server, log, 60.0)
        staff = headers("support_agent")

        def one_turn(n: int) -> int:
            # A fresh connection per request: no keep-alive pins them to one worker.
            with httpx.Client(base_url=base, headers=staff, timeout=30) as client:
                session = client.post("/v1/sessions", json={"customer_id": SHOPPER}).json()
                answer = client.post(
                    f"/v1/sessions/{session['session_id']}/messages",
                    json={"text": f"how much is RUN-0000{n % 9 + 1}?"},
                )
                return answer.status_code

        with ThreadPoolExecutor(max_workers=8) as pool:
            assert list(pool.map(one_turn, range(TURNS))) == [200] * TURNS
        for _ in range(6):
            with httpx.Client(base_url=base, timeout=10) as client:
                scrape = client.get("/metrics", headers=headers("operator"))
            assert scrape.status_code == 200
            assert _turns_counted(scrape.text) == TURNS
    finally:
        stop(server, signal.SIGINT)
    assert server.returncode == 0, log.read_text()[-2000:]
    assert KEYS["operator"] not in log.read_text()
