"""The tools against the real sandbox, in process (ASGITransport), seeded per test.

Checks what the respx tests cannot: that paths, query parameters, bodies and the
shapes the tools expect match what the sandbox actually serves, and that idempotent
re-execution and fault injection behave end to end.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from arbiter.errors import CapabilityError, OutOfScopeError, ServiceUnavailableError
from tools.client import CapabilityClient, RetryPolicy
from tools.registry import get_tool
from tools.spec import ToolContext, ToolResult

create_app = pytest.importorskip("sandbox.app").create_app

CLOCK = "2026-11-24T10:30:00-06:00"  # the seed day, 10:30 in Chicago
SHOE = "RUN-00005"  # list price 89.99, stocked
OWN_ORDER, OTHER_ORDER = "O100001", "O100004"  # C1001's delivered order; C1002's order


@pytest.fixture
async def live(tmp_path: Path) -> AsyncIterator[ToolContext]:
    app = create_app(tmp_path / "s.db", clock=CLOCK)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sandbox") as http:
        client = CapabilityClient(http, retry=RetryPolicy(wait_initial_s=0, wait_max_s=0))
        profile = await client.get("/customers/C1001")
        yield ToolContext(
            customer_id="C1001",
            session_id="S-live",
            channel="shopper",
            region=profile["region"],
            postcode=profile["postcode"],
            loyalty_tier=profile["loyalty_tier"],
            client=client,
        )


async def call(ctx: ToolContext, name: str, **raw: object) -> ToolResult:
    spec = get_tool(name)
    assert spec is not None
    return await spec.run(spec.parse_args(raw), ctx)


async def test_read_tools_against_the_sandbox(live: ToolContext) -> None:
    found = await call(live, "search_products", query="running shoe", in_stock_only=True, limit=3)
    assert 0 < len(found["items"]) <= 3

    price = await call(live, "get_price", sku=SHOE)
    assert price["list_price"] == 89.99
    assert "unit_cost" not in price

    stock = await call(live, "check_inventory", sku=SHOE)
    assert stock["total_available"] > 0
    options = await call(live, "get_delivery_options", sku=SHOE, quantity=1)
    assert options["region"] == live.region
    assert options["options"]

    assert (await call(live, "get_cart"))["cart_id"] is None
    assert (await call(live, "get_customer_profile"))["customer_id"] == "C1001"
    assert OWN_ORDER in {o["order_id"] for o in (await call(live, "list_orders"))["items"]}
    assert (await call(live, "list_promotions", category=None))["items"] is not None

    with pytest.raises(OutOfScopeError):
        await call(live, "get_order", order_id=OTHER_ORDER)
    with pytest.raises(CapabilityError) as raised:
        await call(live, "get_product", sku="NOP-99999")
    assert raised.value.code == "not_found"


async def test_cart_actions_replay_under_the_same_key(live: ToolContext) -> None:
    first = live.for_execution("exec-1")
    cart = await call(first, "add_to_cart", sku=SHOE, quantity=2)
    again = await call(first, "add_to_cart", sku=SHOE, quantity=2)  # re-run: replayed

    assert again["cart_id"] == cart["cart_id"]
    assert [(line["sku"], line["quantity"]) for line in again["lines"]] == [(SHOE, 2)]
    assert (await call(live, "get_cart"))["lines"][0]["quantity"] == 2

    discounted = await call(
        live.for_execution("exec-2"), "offer_discount", sku=SHOE, percent=5, reason="goodwill"
    )
    assert discounted["lines"][0]["discount_percent"] == 5
    assert discounted["total"] < cart["total"]

    emptied = await call(live.for_execution("exec-3"), "remove_from_cart", sku=SHOE)
    assert emptied["lines"] == []


async def test_refund_defaults_to_the_refundable_amount(live: ToolContext) -> None:
    order = await call(live, "get_order", order_id=OWN_ORDER)

    refund = await call(
        live.for_execution("exec-r"), "request_refund", order_id=OWN_ORDER, reason="late"
    )

    assert refund["amount"] == order["refundable_amount"]
    assert (await call(live, "get_order", order_id=OWN_ORDER))["refundable_amount"] == 0


async def test_garbage_from_a_faulted_service_fails_closed(live: ToolContext) -> None:
    http = live.client.http
    response = await http.put("/admin/faults/pricing", json={"garbage_rate": 1.0})
    assert response.status_code < 300, response.text

    with pytest.raises(ServiceUnavailableError):
        await call(live, "get_price", sku=SHOE)
