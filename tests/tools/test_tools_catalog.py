from __future__ import annotations

import respx

from tools.catalog import GET_PRODUCT, SEARCH_PRODUCTS
from tools.spec import ToolContext

RESULT = {
    "items": [
        {
            "sku": "RUN-00042",
            "product_id": "P-RUN-004",
            "name": "Trail 4",
            "brand": "Stride",
            "category": "running-shoes",
            "list_price": 129.99,
            "attributes": {"size": "10", "width": "wide"},
            "rating": 4.6,
        }
    ],
    "total": 1,
}


async def test_search_products_sends_filters_and_returns_the_body(
    sandbox: respx.MockRouter, ctx: ToolContext
) -> None:
    route = sandbox.get("/catalog/products").respond(200, json=RESULT)
    args = SEARCH_PRODUCTS.parse_args(
        {
            "query": "trail shoes",
            "category": "running-shoes",
            "brand": None,
            "min_price": None,
            "max_price": 150,
            "attributes": [{"name": "size", "value": "10"}, {"name": "width", "value": "wide"}],
            "in_stock_only": True,
            "limit": 3,
        }
    )

    result = await SEARCH_PRODUCTS.run(args, ctx)

    assert result == RESULT
    params = route.calls.last.request.url.params
    assert params.multi_items() == [
        ("q", "trail shoes"),
        ("category", "running-shoes"),
        ("max_price", "150.0"),
        ("attr", "size:10"),
        ("attr", "width:wide"),
        ("in_stock", "true"),
        ("limit", "3"),
    ]


async def test_search_products_omits_unset_filters(
    sandbox: respx.MockRouter, ctx: ToolContext
) -> None:
    route = sandbox.get("/catalog/products").respond(200, json={"items": [], "total": 0})

    await SEARCH_PRODUCTS.run(SEARCH_PRODUCTS.parse_args({"query": "socks"}), ctx)

    assert dict(route.calls.last.request.url.params) == {"q": "socks", "limit": "5"}


async def test_get_product_returns_the_body(sandbox: respx.MockRouter, ctx: ToolContext) -> None:
    product = {
        "sku": "RUN-00042",
        "list_price": 129.99,
        "description": "d",
        "age_restricted": False,
    }
    sandbox.get("/catalog/products/RUN-00042").respond(200, json=product)

    assert await GET_PRODUCT.run(GET_PRODUCT.parse_args({"sku": "RUN-00042"}), ctx) == product
