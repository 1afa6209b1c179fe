"""Shared fixtures: a respx-mocked sandbox, the real CapabilityClient, a context builder.

respx patches httpx's transport, so the real client code (request building, retries,
error mapping) runs against the routes each test declares. Retry waits are zero so
nothing sleeps. An unmatched request fails the test (``assert_all_mocked``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import httpx
import pytest
import respx

from tools.client import CapabilityClient, RetryPolicy
from tools.spec import ToolContext

BASE_URL = "http://sandbox"


@pytest.fixture
def sandbox() -> Iterator[respx.MockRouter]:
    """A respx router for the sandbox base URL; tests add routes to it."""
    with respx.mock(base_url=BASE_URL, assert_all_called=False) as router:
        yield router


@pytest.fixture
async def client() -> AsyncIterator[CapabilityClient]:
    """The real client over an httpx.AsyncClient, with zero retry waits."""
    async with httpx.AsyncClient(base_url=BASE_URL) as http:
        yield CapabilityClient(http, retry=RetryPolicy(wait_initial_s=0, wait_max_s=0))


@pytest.fixture
def make_ctx(client: CapabilityClient) -> Callable[..., ToolContext]:
    """Build a ToolContext for customer C1001 (west, 98101); keyword overrides win."""

    def build(**overrides: Any) -> ToolContext:
        fields: dict[str, Any] = {
            "customer_id": "C1001",
            "session_id": "S-test",
            "channel": "shopper",
            "region": "west",
            "postcode": "98101",
            "loyalty_tier": "gold",
            "client": client,
            "idempotency_key": None,
        }
        fields.update(overrides)
        return ToolContext(**fields)

    return build


@pytest.fixture
def ctx(make_ctx: Callable[..., ToolContext]) -> ToolContext:
    """A read context: no idempotency key."""
    return make_ctx()


@pytest.fixture
def action_ctx(make_ctx: Callable[..., ToolContext]) -> ToolContext:
    """An execution context carrying idempotency key 'K1'."""
    return make_ctx(idempotency_key="K1")
