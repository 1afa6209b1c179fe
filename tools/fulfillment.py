"""Fulfillment tools: delivery and pickup options for the customer's area, and promises.

The customer's region and postcode come from the session context, never from the model,
so options are always computed for where this customer actually is.
"""

from __future__ import annotations

from pydantic import Field

from tools import facts
from tools.fields import Identifier, Quantity
from tools.spec import ToolArgs, ToolContext, ToolResult, ToolSpec


class GetDeliveryOptionsArgs(ToolArgs):
    """Arguments of get_delivery_options."""

    sku: Identifier = Field(description="The SKU, e.g. 'RUN-00042'.")
    quantity: Quantity = Field(default=1, description="Units wanted (1-20).")


class PromiseDeliveryArgs(ToolArgs):
    """Arguments of promise_delivery."""

    sku: Identifier = Field(description="The SKU the promise is for.")
    quantity: Quantity = Field(default=1, description="Units promised (1-20).")
    option_id: str = Field(
        min_length=1,
        max_length=128,
        description="option_id of an available option from get_delivery_options.",
    )


async def get_delivery_options(args: GetDeliveryOptionsArgs, ctx: ToolContext) -> ToolResult:
    """GET /fulfillment/options for the session customer's region and postcode."""
    return await facts.read_delivery_options(
        ctx.client, args.sku, args.quantity, ctx.region, ctx.postcode
    )


async def promise_delivery(args: PromiseDeliveryArgs, ctx: ToolContext) -> ToolResult:
    """POST /fulfillment/promises for the session's customer; returns the Promise."""
    key = ctx.require_idempotency_key()
    body = {
        "customer_id": ctx.customer_id,
        "sku": args.sku,
        "quantity": args.quantity,
        "option_id": args.option_id,
    }
    result = await ctx.client.post("/fulfillment/promises", json=body, idempotency_key=key)
    return facts.expect(result, "fulfillment", "promise_id", "ready_by")


GET_DELIVERY_OPTIONS = ToolSpec(
    name="get_delivery_options",
    description=(
        "List delivery and pickup options for a SKU and quantity to this customer's "
        "address, computed now: same-day, next-day, standard and store pickup, each with "
        "availability (and why not), ready-by time, order cut-off, price and whether it is "
        "ready today. Use it before saying when something can arrive."
    ),
    args_model=GetDeliveryOptionsArgs,
    kind="read",
    service="fulfillment",
    run=get_delivery_options,
)

PROMISE_DELIVERY = ToolSpec(
    name="promise_delivery",
    description=(
        "Propose committing one delivery or pickup option (by option_id) for a SKU to this "
        "customer, consuming its capacity. A proposal: policy re-checks the option is still "
        "offered before it runs, and it may be denied."
    ),
    args_model=PromiseDeliveryArgs,
    kind="action",
    service="fulfillment",
    run=promise_delivery,
)
