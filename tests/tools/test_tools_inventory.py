from __future__ import annotations

import json

import pytest
import respx

from tools.inventory import CHECK_INVENTORY, RESERVE_INVENTORY
from tools.spec import ToolContext

STOCK = {
    "sku": "RUN-00042",
    "as_of": "2026-11-24T16:30:00+00:00",
    "total_available": 4,
    "locations": [
        {"location_id": "ST-SEATTLE", "kind": "store", "region": "west", "on_hand": 5,
         "reserved": 1, "available": 4}
    ],
}  # fmt: skip


async def test_check_inventory_returns_the_body(
    sandbox: respx.MockRouter, ctx: ToolContext
) -> None:
    sandbox.get("/inventory/stock/RUN-00042").respond(200, json=STOCK)

    args = CHECK_INVENTORY.parse_args({"sku": "RUN-00042"})

    assert await CHECK_INVENTORY.run(args, ctx) == STOCK


async def test_reserve_inventory_posts_for_the_session_customer(
    sandbox: respx.MockRouter, action_ctx: ToolContext
) -> None:
    reservation = {"reservation_id": "R1", "status": "active", "customer_id": "C1001"}
    route = sandbox.post("/inventory/reservations").respond(201, json=reservation)
    args = RESERVE_INVENTORY.parse_args({"sku": "RUN-00042", "location_id": "ST-SEATTLE"})

    assert await RESERVE_INVENTORY.run(args, action_ctx) == reservation

    request = route.calls.last.request
    assert request.headers["Idempotency-Key"] == "K1"
    assert json.loads(request.content) == {
        "sku": "RUN-00042",
        "location_id": "ST-SEATTLE",
        "quantity": 1,
        "customer_id": "C1001",
    }


async def test_reserve_inventory_without_a_key_raises_before_any_call(
    sandbox: respx.MockRouter, ctx: ToolContext
) -> None:
    args = RESERVE_INVENTORY.parse_args({"sku": "RUN-00042", "location_id": "ST-SEATTLE"})

    with pytest.raises(RuntimeError, match="execute step"):
        await RESERVE_INVENTORY.run(args, ctx)
    assert not sandbox.calls
