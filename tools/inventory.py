"""Inventory tools: read stock by location, and propose holding units for the customer."""

from __future__ import annotations

from pydantic import Field

from tools import facts
from tools.fields import Identifier, Quantity
from tools.spec import ToolArgs, ToolContext, ToolResult, ToolSpec


class CheckInventoryArgs(ToolArgs):
    """Arguments of check_inventory."""

    sku: Identifier = Field(description="The SKU, e.g. 'RUN-00042'.")


class ReserveInventoryArgs(ToolArgs):
    """Arguments of reserve_inventory."""

    sku: Identifier = Field(description="The SKU to hold.")
    quantity: Quantity = Field(default=1, description="Units to hold (1-20).")
    location_id: Identifier = Field(
        description="Location to hold the units at, from check_inventory, e.g. 'ST-SEATTLE'."
    )


async def check_inventory(args: CheckInventoryArgs, ctx: ToolContext) -> ToolResult:
    """GET /inventory/stock/{sku}; the body unchanged."""
    return await facts.read_stock(ctx.client, args.sku)


async def reserve_inventory(args: ReserveInventoryArgs, ctx: ToolContext) -> ToolResult:
    """POST /inventory/reservations for the session's customer; returns the Reservation."""
    key = ctx.require_idempotency_key()
    body = {
        "sku": args.sku,
        "location_id": args.location_id,
        "quantity": args.quantity,
        "customer_id": ctx.customer_id,
    }
    result = await ctx.client.post("/inventory/reservations", json=body, idempotency_key=key)
    return facts.expect(result, "inventory", "reservation_id", "status")


CHECK_INVENTORY = ToolSpec(
    name="check_inventory",
    description=(
        "Read available stock of a SKU: the total and, per store or fulfillment center, "
        "on hand, reserved and available units. Use it before promising availability."
    ),
    args_model=CheckInventoryArgs,
    kind="read",
    service="inventory",
    run=check_inventory,
)

RESERVE_INVENTORY = ToolSpec(
    name="reserve_inventory",
    description=(
        "Propose holding units of a SKU at one location for this customer for 15 minutes "
        "(e.g. for store pickup). A proposal: policy checks it before it runs, and it may "
        "be denied or need approval."
    ),
    args_model=ReserveInventoryArgs,
    kind="action",
    service="inventory",
    run=reserve_inventory,
)
