"""Promotions read tool: the offers the session customer's tier can use."""

from __future__ import annotations

from pydantic import Field

from tools import facts
from tools.fields import Label
from tools.spec import ToolArgs, ToolContext, ToolResult, ToolSpec


class ListPromotionsArgs(ToolArgs):
    """Arguments of list_promotions."""

    category: Label | None = Field(
        default=None,
        description="Only promotions for this category slug, e.g. 'gaming-laptops'; null for all.",
    )


async def list_promotions(args: ListPromotionsArgs, ctx: ToolContext) -> ToolResult:
    """GET /promotions filtered to the session customer; the body unchanged."""
    params = {"category": args.category, "customer_id": ctx.customer_id}
    body = await ctx.client.get("/promotions", params=params)
    return facts.expect(body, "promotions", "items")


LIST_PROMOTIONS = ToolSpec(
    name="list_promotions",
    description=(
        "List the active promotions this customer is eligible to use, optionally for one "
        "category: code, description, percent or amount off, eligibility (categories, "
        "brands, tiers, minimum spend), whether it stacks, and validity dates."
    ),
    args_model=ListPromotionsArgs,
    kind="read",
    service="promotions",
    run=list_promotions,
)
