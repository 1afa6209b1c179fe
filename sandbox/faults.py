"""Fault injection per service prefix (latency, errors, garbage), as ASGI middleware.

Faults are held in memory by the app (``app.state.faults``) and applied before
routing, so a faulted request never reaches a handler and never writes. The
``admin`` prefix is never faulted, so a test can always clear what it set.
"""

from __future__ import annotations

import asyncio
import json
import random
import threading

from starlette.types import ASGIApp, Receive, Scope, Send

from sandbox.schemas import Fault, FaultSpec

SERVICES = (
    "catalog",
    "pricing",
    "inventory",
    "promotions",
    "fulfillment",
    "customers",
    "carts",
    "orders",
    "support",
)
_GARBAGE_BODIES = (
    b'{"ok":true}',
    b'{"data":null,"note":"upstream timeout, partial response"}',
    b"[]",
    b"<html><body>Service temporarily unavailable</body></html>",
)


class FaultRegistry:
    """Current faults by service, with the random source that decides each request."""

    def __init__(self, seed: int = 7) -> None:
        self._faults: dict[str, FaultSpec] = {}
        self._lock = threading.Lock()
        self._seed = seed
        self._rng = random.Random(seed)

    def reset(self) -> None:
        """As new: no faults, and the random source back at its seed."""
        with self._lock:
            self._faults.clear()
            self._rng.seed(self._seed)

    def set(self, service: str, spec: FaultSpec) -> Fault:
        """Set (replace) the fault of one service."""
        with self._lock:
            self._faults[service] = spec
        return Fault(service=service, **spec.model_dump())

    def get(self, service: str) -> FaultSpec | None:
        """The fault set for ``service``, if any."""
        with self._lock:
            return self._faults.get(service)

    def all(self) -> list[Fault]:
        """Every fault, ordered by service."""
        with self._lock:
            items = sorted(self._faults.items())
        return [Fault(service=name, **spec.model_dump()) for name, spec in items]

    def clear(self) -> None:
        """Remove every fault."""
        with self._lock:
            self._faults.clear()

    def roll(self) -> float:
        """A uniform draw in [0, 1)."""
        with self._lock:
            return self._rng.random()


class FaultMiddleware:
    """Delay, fail or garble requests to a faulted service before the handler runs."""

    def __init__(self, app: ASGIApp, registry: FaultRegistry) -> None:
        self.app = app
        self.registry = registry

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        service = str(scope.get("path", "")).strip("/").split("/", 1)[0]
        spec = self.registry.get(service) if service in SERVICES else None
        if spec is None:
            await self.app(scope, receive, send)
            return
        if spec.latency_ms:
            await asyncio.sleep(spec.latency_ms / 1000)
        if spec.error_rate and self.registry.roll() < spec.error_rate:
            body = {
                "error": {
                    "code": "injected_fault",
                    "message": f"fault injected into the {service} service by /admin/faults",
                }
            }
            await _send(send, spec.error_status, json.dumps(body).encode())
            return
        if spec.garbage_rate and self.registry.roll() < spec.garbage_rate:
            garbage = _GARBAGE_BODIES[int(self.registry.roll() * len(_GARBAGE_BODIES))]
            await _send(send, 200, garbage)
            return
        await self.app(scope, receive, send)


async def _send(send: Send, status: int, body: bytes) -> None:
    media = b"text/html" if body.startswith(b"<") else b"application/json"
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", media), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})
