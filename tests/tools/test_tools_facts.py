from __future__ import annotations

import httpx
import pytest
import respx

from arbiter.errors import CapabilityError, ServiceUnavailableError
from tools import facts
from tools.client import CapabilityClient

PRICE = {
    "sku": "RUN-00042",
    "list_price": 129.99,
    "unit_cost": 61.5,
    "map_price": 119.99,
    "currency": "USD",
    "as_of": "2026-11-24T16:30:00+00:00",
    "competitor_prices": [],
}


async def test_read_price_returns_the_full_body_with_unit_cost(
    sandbox: respx.MockRouter, client: CapabilityClient
) -> None:
    sandbox.get("/pricing/prices/RUN-00042").respond(200, json=PRICE)

    assert await facts.read_price(client, "RUN-00042") == PRICE


async def test_read_cart_is_none_when_there_is_no_open_cart(
    sandbox: respx.MockRouter, client: CapabilityClient
) -> None:
    route = sandbox.get("/carts").respond(
        404, json={"error": {"code": "not_found", "message": "no open cart"}}
    )

    assert await facts.read_cart(client, "C1001") is None
    assert route.calls.last.request.url.params["customer_id"] == "C1001"


async def test_read_cart_still_raises_other_rejections(
    sandbox: respx.MockRouter, client: CapabilityClient
) -> None:
    sandbox.get("/carts").respond(422, json={"error": {"code": "validation_error", "message": "x"}})

    with pytest.raises(CapabilityError):
        await facts.read_cart(client, "C1001")


async def test_read_delivery_options_sends_the_area(
    sandbox: respx.MockRouter, client: CapabilityClient
) -> None:
    route = sandbox.get("/fulfillment/options").respond(
        200, json={"sku": "RUN-00042", "region": "east", "options": []}
    )

    await facts.read_delivery_options(client, "RUN-00042", 2, "east", "10001")

    assert dict(route.calls.last.request.url.params) == {
        "sku": "RUN-00042",
        "quantity": "2",
        "region": "east",
        "postcode": "10001",
    }


@pytest.mark.parametrize("garbage", [[1, 2], "ok", {"sku": "RUN-00042"}, None])
async def test_a_body_of_the_wrong_shape_fails_closed(
    sandbox: respx.MockRouter, client: CapabilityClient, garbage: object
) -> None:
    sandbox.get("/pricing/prices/RUN-00042").mock(return_value=httpx.Response(200, json=garbage))

    with pytest.raises(ServiceUnavailableError) as raised:
        await facts.read_price(client, "RUN-00042")
    assert raised.value.service == "pricing"


@pytest.mark.parametrize("bad", ["", "../customers/C1002", "O1/refunds", "A?x=1", "..", "A B"])
async def test_unsafe_identifiers_are_rejected_without_a_request(
    sandbox: respx.MockRouter, client: CapabilityClient, bad: str
) -> None:
    with pytest.raises(CapabilityError) as raised:
        await facts.read_order(client, bad)

    assert raised.value.code == "validation_error"
    assert not sandbox.calls


@pytest.mark.parametrize(
    ("reader", "arg", "path", "body"),
    [
        (
            facts.read_product,
            "RUN-00042",
            "/catalog/products/RUN-00042",
            {"sku": "RUN-00042", "list_price": 1.0},
        ),
        (
            facts.read_stock,
            "RUN-00042",
            "/inventory/stock/RUN-00042",
            {"sku": "RUN-00042", "total_available": 3, "locations": []},
        ),
        (
            facts.read_order,
            "O100123",
            "/orders/O100123",
            {"order_id": "O100123", "customer_id": "C1001", "status": "delivered"},
        ),
        (facts.read_customer, "C1001", "/customers/C1001", {"customer_id": "C1001"}),
        (
            facts.read_promotion,
            "RUNNER10",
            "/promotions/RUNNER10",
            {"code": "RUNNER10", "eligibility": {}},
        ),
    ],
)
async def test_readers_get_their_paths(
    sandbox: respx.MockRouter,
    client: CapabilityClient,
    reader: object,
    arg: str,
    path: str,
    body: dict[str, object],
) -> None:
    route = sandbox.get(path).respond(200, json=body)

    assert await reader(client, arg) == body  # type: ignore[operator]
    assert route.call_count == 1
