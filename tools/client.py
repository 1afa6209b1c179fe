"""The one async HTTP client every tool and fact reader uses to reach capability APIs.

Retries (tenacity): exponential backoff with jitter on 5xx, connect errors and
timeouts; never on 4xx. After the last attempt the call fails closed with
``ServiceUnavailableError``. A 4xx becomes ``CapabilityError`` carrying the service's
error code, which tool wrappers hand back to the model.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

import httpx
from tenacity import (
    AsyncRetrying,
    RetryError,
    retry_if_exception,
    stop_after_attempt,
    wait_random_exponential,
)

from arbiter.errors import CapabilityError, ServiceUnavailableError

logger = logging.getLogger("arbiter.tools")

IN_PROCESS_BASE_URL = "http://sandbox"


class _RetryableStatus(Exception):
    """Internal marker: a 5xx answer worth retrying."""

    def __init__(self, response: httpx.Response) -> None:
        super().__init__(f"HTTP {response.status_code}")
        self.response = response


def _is_retryable(exc: BaseException) -> bool:
    return isinstance(exc, _RetryableStatus | httpx.TimeoutException | httpx.TransportError)


@dataclass
class CallStats:
    """What calls cost: attempts made and wall time, recorded in the context snapshot.

    Calls that share one object add up (an action that writes twice reports both).
    """

    attempts: int = 0
    duration_ms: float = 0.0


CALL_STATS: ContextVar[CallStats | None] = ContextVar("arbiter_call_stats", default=None)
"""Set by a caller (one per task) to collect attempts and time of the calls made under it."""


@contextmanager
def collect_stats() -> Iterator[CallStats]:
    """Count the attempts and time of every capability call made inside the block."""
    stats = CallStats()
    token = CALL_STATS.set(stats)
    try:
        yield stats
    finally:
        CALL_STATS.reset(token)


@dataclass
class RetryPolicy:
    """Per-client retry knobs."""

    max_attempts: int = 3
    wait_initial_s: float = 0.05
    wait_max_s: float = 1.0


@dataclass
class CapabilityClient:
    """Typed wrapper over one ``httpx.AsyncClient`` pointed at the capability services."""

    http: httpx.AsyncClient
    timeout_s: float = 5.0
    retry: RetryPolicy = field(default_factory=RetryPolicy)

    async def get(
        self,
        path: str,
        *,
        params: Mapping[str, Any] | list[tuple[str, Any]] | None = None,
        timeout_s: float | None = None,
    ) -> Any:
        """GET a JSON document; raises CapabilityError (4xx) or ServiceUnavailableError."""
        return await self._request("GET", path, params=params, timeout_s=timeout_s)

    async def post(
        self,
        path: str,
        *,
        json: Any,
        idempotency_key: str,
        timeout_s: float | None = None,
    ) -> Any:
        """POST with an Idempotency-Key, so a retry after a lost answer cannot double-apply."""
        return await self._request(
            "POST",
            path,
            json=json,
            idempotency_key=idempotency_key,
            timeout_s=timeout_s,
        )

    async def delete(
        self,
        path: str,
        *,
        idempotency_key: str,
        timeout_s: float | None = None,
    ) -> Any:
        """DELETE with an Idempotency-Key."""
        return await self._request(
            "DELETE", path, idempotency_key=idempotency_key, timeout_s=timeout_s
        )

    async def _request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | list[tuple[str, Any]] | None = None,
        json: Any = None,
        idempotency_key: str | None = None,
        timeout_s: float | None = None,
    ) -> Any:
        service = path.strip("/").split("/", 1)[0] or "root"
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else None
        seconds = timeout_s if timeout_s is not None else self.timeout_s
        timeout = httpx.Timeout(seconds)
        stats = CALL_STATS.get() or CallStats()
        loop_start = _now_ms()
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self.retry.max_attempts),
            wait=wait_random_exponential(
                multiplier=self.retry.wait_initial_s, max=self.retry.wait_max_s
            ),
            retry=retry_if_exception(_is_retryable),
            reraise=False,
        )
        try:
            async for attempt in retrying:
                with attempt:
                    stats.attempts += 1
                    try:
                        # httpx enforces timeouts in network I/O only; the in-process
                        # ASGI transport has none, so the deadline is also kept here.
                        async with asyncio.timeout(seconds):
                            response = await self.http.request(
                                method,
                                path,
                                params=_clean(params),
                                json=json,
                                headers=headers,
                                timeout=timeout,
                            )
                    except TimeoutError as exc:
                        raise httpx.ReadTimeout(f"no answer within {seconds:g} s") from exc
                    if response.status_code >= 500:
                        raise _RetryableStatus(response)
        except RetryError as exc:
            last = exc.last_attempt.exception()
            raise ServiceUnavailableError(service, _describe(last)) from last
        finally:
            stats.duration_ms += _now_ms() - loop_start
        if response.status_code >= 400:
            code, message = _error_fields(response)
            raise CapabilityError(service, response.status_code, code, message)
        try:
            return response.json()
        except ValueError as exc:
            raise ServiceUnavailableError(service, "answered with a body that is not JSON") from exc


def _clean(
    params: Mapping[str, Any] | list[tuple[str, Any]] | None,
) -> list[tuple[str, Any]] | None:
    """Drop None values so optional filters are simply absent from the query string."""
    if params is None:
        return None
    items = params.items() if isinstance(params, Mapping) else params
    return [(k, str(v).lower() if isinstance(v, bool) else v) for k, v in items if v is not None]


def _describe(exc: BaseException | None) -> str:
    if isinstance(exc, _RetryableStatus):
        code, message = _error_fields(exc.response)
        return f"HTTP {exc.response.status_code} {code}: {message}"
    if isinstance(exc, httpx.TimeoutException):
        return "timed out"
    if isinstance(exc, httpx.TransportError):
        return f"connection failed ({type(exc).__name__})"
    return repr(exc)


def _error_fields(response: httpx.Response) -> tuple[str, str]:
    try:
        body = response.json()
        error = body["error"]
        return str(error["code"]), str(error["message"])
    except (ValueError, KeyError, TypeError):
        return f"http_{response.status_code}", response.text[:200]


def _now_ms() -> float:
    return time.perf_counter() * 1000.0
