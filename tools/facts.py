"""Typed readers of authoritative state, shared by the tools and the guardrails.

Each function is one GET against a capability service and returns the service's body
unredacted (``read_price`` includes ``unit_cost``): the guardrails layer re-reads these
before every verdict, and the read tools build what the model sees from them. Nothing
here is ever shown to the model directly.

A body that is not the documented shape (a fault-injected or broken service) raises
``ServiceUnavailableError``, like a service that did not answer, so a verdict that
depends on it fails closed. An identifier that is not URL-safe raises
``CapabilityError`` (422) without any request.
"""

from __future__ import annotations

from typing import Any

from arbiter.errors import CapabilityError, ServiceUnavailableError
from tools.client import CapabilityClient
from tools.fields import IDENTIFIER_RE


async def read_product(client: CapabilityClient, sku: str) -> dict[str, Any]:
    """The catalog's Product for a SKU."""
    path = f"/catalog/products/{segment('catalog', 'sku', sku)}"
    return expect(await client.get(path), "catalog", "sku", "list_price")


async def read_price(client: CapabilityClient, sku: str) -> dict[str, Any]:
    """The full Price of a SKU, including ``unit_cost`` and ``map_price`` (internal)."""
    path = f"/pricing/prices/{segment('pricing', 'sku', sku)}"
    return expect(await client.get(path), "pricing", "sku", "list_price", "unit_cost")


async def read_stock(client: CapabilityClient, sku: str) -> dict[str, Any]:
    """Available stock of a SKU, in total and by location."""
    path = f"/inventory/stock/{segment('inventory', 'sku', sku)}"
    return expect(await client.get(path), "inventory", "sku", "total_available", "locations")


async def read_delivery_options(
    client: CapabilityClient,
    sku: str,
    quantity: int,
    region: str,
    postcode: str,
) -> dict[str, Any]:
    """Delivery and pickup options computed now for a SKU and quantity in one area."""
    params = {"sku": sku, "quantity": quantity, "region": region, "postcode": postcode}
    body = await client.get("/fulfillment/options", params=params)
    return expect(body, "fulfillment", "sku", "options")


async def read_cart(client: CapabilityClient, customer_id: str) -> dict[str, Any] | None:
    """The customer's open cart, or None when there is none."""
    try:
        body = await client.get("/carts", params={"customer_id": customer_id})
    except CapabilityError as exc:
        if exc.status == 404:
            return None
        raise
    return expect(body, "carts", "cart_id", "customer_id", "lines")


async def read_order(client: CapabilityClient, order_id: str) -> dict[str, Any]:
    """An Order, with its owner, status, refunds and refundable amount."""
    path = f"/orders/{segment('orders', 'order_id', order_id)}"
    return expect(await client.get(path), "orders", "order_id", "customer_id", "status")


async def read_customer(client: CapabilityClient, customer_id: str) -> dict[str, Any]:
    """A Customer profile."""
    path = f"/customers/{segment('customers', 'customer_id', customer_id)}"
    return expect(await client.get(path), "customers", "customer_id")


async def read_promotion(client: CapabilityClient, code: str) -> dict[str, Any]:
    """One Promotion by code, with its eligibility rules."""
    path = f"/promotions/{segment('promotions', 'code', code)}"
    return expect(await client.get(path), "promotions", "code", "eligibility")


def segment(service: str, name: str, value: str) -> str:
    """``value`` if it is safe as one URL path segment; else CapabilityError, no request."""
    if not IDENTIFIER_RE.fullmatch(value):
        raise CapabilityError(service, 422, "validation_error", f"{name} is not a valid id")
    return value


def expect(body: Any, service: str, *keys: str) -> dict[str, Any]:
    """``body`` if it is an object carrying ``keys``; else the service counts as unavailable."""
    if not isinstance(body, dict) or any(key not in body for key in keys):
        raise ServiceUnavailableError(
            service, "answered with a body that is not the documented shape"
        )
    return body
