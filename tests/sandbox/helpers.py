"""Request helpers for the sandbox tests."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

# 10:30 in Chicago on the seed day: the default clock anchor, fixed for tests.
CLOCK = "2026-11-24T10:30:00-06:00"
DEMO = "C1001"


def key() -> dict[str, str]:
    """Headers with a fresh Idempotency-Key."""
    return {"Idempotency-Key": f"test-{uuid.uuid4()}"}


async def post(
    client: httpx.AsyncClient, url: str, body: dict[str, Any] | None = None
) -> httpx.Response:
    """POST with a fresh Idempotency-Key."""
    return await client.post(url, json=body, headers=key())


def error_code(response: httpx.Response) -> str:
    """The ``error.code`` of an error body (asserting its documented shape)."""
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message"}
    code: str = body["error"]["code"]
    return code


async def new_cart(client: httpx.AsyncClient, customer_id: str = DEMO) -> str:
    """Open a cart for the customer and return its id."""
    response = await post(client, "/carts", {"customer_id": customer_id})
    assert response.status_code == 201, response.text
    cart_id: str = response.json()["cart_id"]
    return cart_id


async def add(
    client: httpx.AsyncClient, cart_id: str, sku: str, quantity: int = 1
) -> httpx.Response:
    """Add a line to a cart."""
    return await post(client, f"/carts/{cart_id}/lines", {"sku": sku, "quantity": quantity})
