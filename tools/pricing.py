"""Pricing read tool. The model sees list, MAP and competitor prices, never unit cost.

What the model reads is an allowlist of the Price body's public fields rather than the
body minus ``unit_cost``: a margin field the pricing service adds later stays hidden
until someone decides the model may see it. The guardrails read the full body through
``tools.facts.read_price``.
"""

from __future__ import annotations

from pydantic import Field

from tools import facts
from tools.fields import Identifier
from tools.spec import ToolArgs, ToolContext, ToolResult, ToolSpec

PUBLIC_PRICE_FIELDS = ("sku", "list_price", "map_price", "currency", "as_of", "competitor_prices")


class GetPriceArgs(ToolArgs):
    """Arguments of get_price."""

    sku: Identifier = Field(description="The SKU, e.g. 'RUN-00042'.")


async def get_price(args: GetPriceArgs, ctx: ToolContext) -> ToolResult:
    """GET /pricing/prices/{sku} without ``unit_cost`` (internal margin data)."""
    price = await facts.read_price(ctx.client, args.sku)
    return {key: price[key] for key in PUBLIC_PRICE_FIELDS if key in price}


GET_PRICE = ToolSpec(
    name="get_price",
    description=(
        "Read the current price of a SKU: list price, the brand's minimum advertised "
        "price (map_price, null if none) and competitor prices with when each was "
        "observed. Use it before quoting a price or considering a price match."
    ),
    args_model=GetPriceArgs,
    kind="read",
    service="pricing",
    run=get_price,
)
