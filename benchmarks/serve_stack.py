"""The processes a serve load run needs: the fake model and ``arbiter serve`` on loopback.

Both start over a fresh temporary data directory and stop (SIGINT, then SIGKILL) when
the run ends; CPU time per process is read from /proc so a run can say who used it.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import yaml

HOST = "127.0.0.1"


@dataclass
class Stack:
    """The fake model and the server, running."""

    fake: subprocess.Popen[str]
    server: subprocess.Popen[bytes]
    fake_url: str
    base_url: str
    data_dir: Path
    log: Path
    keys: dict[str, str]


def free_port() -> int:
    """A loopback port free right now."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def child_env(**extra: str) -> dict[str, str]:
    """This environment without Arbiter/OpenAI/OTel settings, plus ``extra``."""
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("ARBITER_", "OPENAI_", "OTEL_"))
    }
    return {**env, **extra}


def arbiter_exe() -> str:
    """The ``arbiter`` script beside this interpreter."""
    return str(Path(sys.executable).with_name("arbiter"))


@contextmanager
def running_stack(
    work: Path, delay_ms: float, server_env: tuple[tuple[str, str], ...] = ()
) -> Iterator[Stack]:
    """Start the fake model and ``arbiter serve``; stop both on exit."""
    fake = subprocess.Popen(
        [sys.executable, *f"-m benchmarks.fake_openai --port 0 --delay-ms {delay_ms}".split()],
        stdout=subprocess.PIPE,
        text=True,
        env=child_env(),
    )
    server: subprocess.Popen[bytes] | None = None
    try:
        assert fake.stdout is not None
        line = fake.stdout.readline().split()
        if line[:1] != ["LISTENING"]:
            raise RuntimeError(f"the fake model did not start: {line}")
        fake_url = f"http://{HOST}:{line[1]}"
        port, data_dir, log = free_port(), work / "data", work / "serve.log"
        env = child_env(
            ARBITER_DATA_DIR=str(data_dir),
            ARBITER_PLANNER="openai",
            OPENAI_BASE_URL=f"{fake_url}/v1",
            OPENAI_API_KEY="sk-benchmark",
            **dict(server_env),
        )
        with log.open("wb") as out:
            server = subprocess.Popen(
                [arbiter_exe(), "serve", "--host", HOST, "--port", str(port)]
                + ["--log-level", "warning", "--no-access-log"],
                stdout=out,
                stderr=subprocess.STDOUT,
                env=env,
            )
        base_url = f"http://{HOST}:{port}"
        wait_ready(base_url, server, log, 60.0)
        keys = read_keys(data_dir / "api-keys.yaml")
        yield Stack(fake, server, fake_url, base_url, data_dir, log, keys)
    finally:
        for proc, sig in ((server, signal.SIGINT), (fake, signal.SIGTERM)):
            if proc is not None:
                stop(proc, sig)
        if fake.stdout is not None:
            fake.stdout.close()


def stop(proc: subprocess.Popen[Any], sig: signal.Signals) -> None:
    """Ask a child to stop; kill it if it does not within 15 s."""
    if proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def wait_ready(base_url: str, server: subprocess.Popen[bytes], log: Path, timeout_s: float) -> None:
    """Poll /readyz until it answers 200; fail with the server's log if it dies."""
    deadline = time.monotonic() + timeout_s
    with httpx.Client(base_url=base_url, timeout=2.0) as client:
        while time.monotonic() < deadline:
            if server.poll() is not None:
                raise RuntimeError(f"arbiter serve exited:\n{log.read_text()[-2000:]}")
            try:
                if client.get("/readyz").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
    raise RuntimeError(f"arbiter serve not ready after {timeout_s} s:\n{log.read_text()[-2000:]}")


def read_keys(path: Path) -> dict[str, str]:
    """The secret of each role from the ``api-keys.yaml`` the server wrote."""
    document = yaml.safe_load(path.read_text())
    return {str(k["role"]): str(k["key"]) for k in document["keys"]}


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process (Linux /proc), all threads."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_busy_seconds() -> float:
    """CPU seconds all cores spent busy since boot (Linux /proc/stat)."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]
    return (sum(values[:8]) - idle) / os.sysconf("SC_CLK_TCK")


# --- load ------------------------------------------------------------------------------


def verify_audit(stack: Stack) -> dict[str, Any]:
    """``arbiter audit verify --json`` over the run's data directory."""
    done = subprocess.run(
        [arbiter_exe(), "audit", "verify", "--json"],
        env=child_env(ARBITER_DATA_DIR=str(stack.data_dir)),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    report: dict[str, Any] = json.loads(done.stdout) if done.stdout.strip() else {"ok": False}
    return report
