"""Liveness, readiness (the stores and services answer) and Prometheus metrics."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from agent.runtime import Arbiter
from api.deps import ArbiterDep, Operator
from api.schemas import Health
from arbiter.errors import ArbiterError, CapabilityError
from tools.facts import read_customer

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def liveness() -> Health:
    """The process is up."""
    return Health(status="ok")


async def _check(name: str, probe: Callable[[], Any]) -> tuple[str, str]:
    try:
        result = probe()
        if asyncio.iscoroutine(result):
            await asyncio.wait_for(result, timeout=2.0)
    except (ArbiterError, OSError, TimeoutError, Exception) as exc:  # any failure: not ready
        return name, f"error: {type(exc).__name__}"
    return name, "ok"


async def _reachable(arbiter: Arbiter) -> None:
    """The capability services answer (a 4xx is an answer; down raises)."""
    with contextlib.suppress(CapabilityError):
        await read_customer(arbiter.client, "readiness-probe")


@router.get("/readyz", responses={503: {"model": Health}})
async def readiness(request: Request) -> Response:
    """Every store answers (audit, sessions, approvals, checkpoints, ledger) and the services."""
    arbiter: Arbiter = request.app.state.arbiter
    checkpointer = arbiter.graph.checkpointer
    checks = dict(
        await asyncio.gather(
            _check("audit", arbiter.deps.audit.count),
            _check("approvals", arbiter.approvals.counts),
            _check("sessions", arbiter.sessions.ping),
            _check("kill_switch", arbiter.deps.validator.kill_switch.active),
            _check(
                "checkpoints",
                lambda: (
                    checkpointer.aget_tuple({"configurable": {"thread_id": "readiness"}})
                    if checkpointer and not isinstance(checkpointer, bool)
                    else None
                ),
            ),
            _check("capabilities", lambda: _reachable(arbiter)),
        )
    )
    ok = all(v == "ok" for v in checks.values())
    health = Health(status="ok" if ok else "unavailable", checks=checks)
    return JSONResponse(health.model_dump(), status_code=200 if ok else 503)


@router.get("/metrics", response_class=Response)
async def metrics(request: Request, arbiter: ArbiterDep, caller: Operator) -> Response:
    """Prometheus text format: turns, verdicts by outcome and rule, tool and LLM latency, tokens."""
    return Response(
        request.app.state.metrics.render(), media_type="text/plain; version=0.0.4; charset=utf-8"
    )
