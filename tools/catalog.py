"""Catalog read tools: search the assortment and read one product."""

from __future__ import annotations

from typing import Any

from pydantic import Field, model_validator

from tools import facts
from tools.fields import Identifier, Label
from tools.spec import ToolArgs, ToolContext, ToolResult, ToolSpec


class AttributeFilter(ToolArgs):
    """One product attribute that must match exactly."""

    name: str = Field(
        pattern=r"^[a-z][a-z0-9_]{0,31}$",
        description="Attribute key, e.g. 'size', 'width', 'gpu', 'ram_gb'.",
    )
    value: Label = Field(description="Required value, e.g. '10', 'wide', 'RTX 4070'.")


class SearchProductsArgs(ToolArgs):
    """Arguments of search_products."""

    query: str = Field(
        max_length=200, description="Free text over name, brand, description and category."
    )
    category: Label | None = Field(
        default=None, description="Exact category slug, e.g. 'running-shoes'; null for any."
    )
    brand: Label | None = Field(default=None, description="Exact brand name; null for any.")
    min_price: float | None = Field(
        default=None, ge=0, le=100_000, description="Lowest list price in USD; null for none."
    )
    max_price: float | None = Field(
        default=None, ge=0, le=100_000, description="Highest list price in USD; null for none."
    )
    attributes: list[AttributeFilter] = Field(
        default_factory=list,
        max_length=8,
        description="Attribute filters that must all match; empty for none.",
    )
    in_stock_only: bool = Field(
        default=False, description="True to return only SKUs with stock available somewhere."
    )
    limit: int = Field(default=5, ge=1, le=20, description="Maximum number of results (1-20).")

    @model_validator(mode="after")
    def _price_range(self) -> SearchProductsArgs:
        if (
            self.min_price is not None
            and self.max_price is not None
            and self.min_price > self.max_price
        ):
            raise ValueError("min_price must not exceed max_price")
        return self


class GetProductArgs(ToolArgs):
    """Arguments of get_product."""

    sku: Identifier = Field(description="The SKU, e.g. 'RUN-00042'.")


async def search_products(args: SearchProductsArgs, ctx: ToolContext) -> ToolResult:
    """GET /catalog/products; the body unchanged."""
    params: list[tuple[str, Any]] = [
        ("q", args.query or None),
        ("category", args.category),
        ("brand", args.brand),
        ("min_price", args.min_price),
        ("max_price", args.max_price),
        *(("attr", f"{a.name}:{a.value}") for a in args.attributes),
        ("in_stock", True if args.in_stock_only else None),
        ("limit", args.limit),
    ]
    body = await ctx.client.get("/catalog/products", params=params)
    return facts.expect(body, "catalog", "items", "total")


async def get_product(args: GetProductArgs, ctx: ToolContext) -> ToolResult:
    """GET /catalog/products/{sku}; the body unchanged."""
    return await facts.read_product(ctx.client, args.sku)


SEARCH_PRODUCTS = ToolSpec(
    name="search_products",
    description=(
        "Search the product catalog by free text, category, brand, price range and exact "
        "attributes (size, width, gpu, ...). Returns product summaries with SKU, name, "
        "list price, attributes and rating, best matches first, plus the total match "
        "count. Use it to find SKUs; never guess a SKU."
    ),
    args_model=SearchProductsArgs,
    kind="read",
    service="catalog",
    run=search_products,
)

GET_PRODUCT = ToolSpec(
    name="get_product",
    description=(
        "Read one product by SKU: description, attributes, list price, related SKUs, "
        "regions it cannot ship to and whether it is age-restricted."
    ),
    args_model=GetProductArgs,
    kind="read",
    service="catalog",
    run=get_product,
)
