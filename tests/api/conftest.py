"""The API under test: the real app over a seeded sandbox, one key per role, httpx in-process."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr

from api.app import create_app
from arbiter.settings import Settings

KEYS = {
    "storefront": "sf-test-key-0123456789abcdef",
    "support_agent": "sa-test-key-0123456789abcdef",
    "operator": "op-test-key-0123456789abcdef",
}
SHOPPER = "C1001"


def api_settings(settings: Settings) -> Settings:
    """The test settings with one key per role (no keys file is written)."""
    keys = ",".join(f"test-{role.replace('_', '-')}:{role}:{key}" for role, key in KEYS.items())
    return settings.model_copy(update={"api_keys": SecretStr(keys)})


def headers(role: str | None, customer: str | None = SHOPPER) -> dict[str, str]:
    """Auth headers for a role (storefronts also name their shopper)."""
    if role is None:
        return {}
    out = {"Authorization": f"Bearer {KEYS[role]}"}
    if role == "storefront" and customer is not None:
        out["X-Customer-Id"] = customer
    return out


@asynccontextmanager
async def serving(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """Run the app's lifespan and talk to it in-process."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://arbiter.test") as client:
            yield client


OpenApi = Callable[..., AbstractAsyncContextManager[httpx.AsyncClient]]


@pytest.fixture
def open_api(settings: Settings) -> OpenApi:
    """Start (and, on exit, stop) the service over this test's data directory."""

    def opener(**overrides: Any) -> AbstractAsyncContextManager[httpx.AsyncClient]:
        return serving(create_app(api_settings(settings).model_copy(update=overrides)))

    return opener


@pytest.fixture
async def client(open_api: OpenApi) -> AsyncIterator[httpx.AsyncClient]:
    """A running service."""
    async with open_api() as opened:
        yield opened
