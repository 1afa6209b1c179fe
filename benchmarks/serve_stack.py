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
    sandbox: subprocess.Popen[bytes] | None = None
    """The capability services in their own process (``--sandbox process``), else None."""


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
    work: Path,
    delay_ms: float,
    server_env: tuple[tuple[str, str], ...] = (),
    workers: int = 1,
    sandbox_process: bool = False,
) -> Iterator[Stack]:
    """Start the fake model (and the sandbox) and ``arbiter serve``; stop them on exit.

    With ``sandbox_process`` the capability services run as ``arbiter sandbox serve``
    beside the server, as a retailer's APIs would, instead of inside its event loop.
    """
    fake = subprocess.Popen(
        [sys.executable, *f"-m benchmarks.fake_openai --port 0 --delay-ms {delay_ms}".split()],
        stdout=subprocess.PIPE,
        text=True,
        env=child_env(),
    )
    server: subprocess.Popen[bytes] | None = None
    sandbox: subprocess.Popen[bytes] | None = None
    try:
        assert fake.stdout is not None
        line = fake.stdout.readline().split()
        if line[:1] != ["LISTENING"]:
            raise RuntimeError(f"the fake model did not start: {line}")
        fake_url = f"http://{HOST}:{line[1]}"
        port, data_dir, log = free_port(), work / "data", work / "serve.log"
        extra: dict[str, str] = {}
        if sandbox_process:
            sandbox_port = free_port()
            with (work / "sandbox.log").open("wb") as out:
                sandbox = subprocess.Popen(
                    [arbiter_exe(), "sandbox", "serve", "--host", HOST]
                    + ["--port", str(sandbox_port)],
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    env=child_env(ARBITER_DATA_DIR=str(data_dir)),
                )
            extra["ARBITER_SANDBOX_URL"] = f"http://{HOST}:{sandbox_port}"
            wait_answering(f"{extra['ARBITER_SANDBOX_URL']}/customers?limit=1", sandbox, 60.0)
        env = child_env(
            ARBITER_DATA_DIR=str(data_dir),
            ARBITER_PLANNER="openai",
            OPENAI_BASE_URL=f"{fake_url}/v1",
            OPENAI_API_KEY="sk-benchmark",
            **extra,
            **dict(server_env),
        )
        with log.open("wb") as out:
            server = subprocess.Popen(
                [arbiter_exe(), "serve", "--host", HOST, "--port", str(port)]
                + ["--log-level", "warning", "--no-access-log", "--workers", str(workers)],
                stdout=out,
                stderr=subprocess.STDOUT,
                env=env,
            )
        base_url = f"http://{HOST}:{port}"
        wait_ready(base_url, server, log, 60.0)
        keys = read_keys(data_dir / "api-keys.yaml")
        yield Stack(fake, server, fake_url, base_url, data_dir, log, keys, sandbox)
    finally:
        for proc, sig in (
            (server, signal.SIGINT),
            (sandbox, signal.SIGINT),
            (fake, signal.SIGTERM),
        ):
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
    """User + system CPU of a process and its live children (Linux /proc), all threads."""
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # gone meanwhile
        if stat.parent.name == str(pid) or fields[1] == str(pid):
            total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def machine_busy_seconds() -> float:
    """CPU seconds all cores spent busy since boot (Linux /proc/stat)."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]
    return (sum(values[:8]) - idle) / os.sysconf("SC_CLK_TCK")


# --- load ------------------------------------------------------------------------------


def verify_audit(stack: Stack, server_env: tuple[tuple[str, str], ...] = ()) -> dict[str, Any]:
    """``arbiter audit verify --json`` over the run's stores (its data directory, or the
    PostgreSQL database an ``ARBITER_DATABASE_URL`` in ``server_env`` names)."""
    database = {k: v for k, v in server_env if k == "ARBITER_DATABASE_URL"}
    done = subprocess.run(
        [arbiter_exe(), "audit", "verify", "--json"],
        env=child_env(ARBITER_DATA_DIR=str(stack.data_dir), **database),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    report: dict[str, Any] = json.loads(done.stdout) if done.stdout.strip() else {"ok": False}
    return report


def wait_answering(url: str, proc: subprocess.Popen[bytes], timeout_s: float) -> None:
    """Poll ``url`` until it answers 200 (or the process dies, or time runs out)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{url}: the process exited with {proc.returncode}")
        try:
            if httpx.get(url, timeout=2.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {timeout_s:.0f} s")
