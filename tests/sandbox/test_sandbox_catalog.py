"""Catalog search, detail and categories."""

from __future__ import annotations

import sqlite3
from typing import Any

import httpx

from tests.sandbox.helpers import error_code


async def search(client: httpx.AsyncClient, **params: Any) -> dict[str, Any]:
    response = await client.get("/catalog/products", params={"limit": 50, **params})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_category_brand_and_price_filters(client: httpx.AsyncClient) -> None:
    body = await search(
        client, category="running-shoes", brand="stride", min_price=80, max_price=100
    )
    assert body["items"]
    for item in body["items"]:
        assert item["category"] == "running-shoes"
        assert item["brand"] == "Stride"
        assert 80 <= item["list_price"] <= 100


async def test_attribute_filters_are_anded(client: httpx.AsyncClient) -> None:
    body = await search(client, attr=["size:10", "width:wide"])
    assert body["items"]
    for item in body["items"]:
        assert item["attributes"]["size"] == "10" and item["attributes"]["width"] == "wide"


async def test_text_search_ranks_and_orders_by_sku(client: httpx.AsyncClient) -> None:
    body = await search(client, q="gaming laptop rtx 4070")
    assert body["total"] == len(body["items"]) > 0
    for item in body["items"]:
        assert item["category"] == "gaming-laptops"
        assert item["attributes"]["gpu"] == "RTX 4070"
    skus = [i["sku"] for i in body["items"]]
    assert skus == sorted(skus)  # equal relevance -> SKU order


async def test_text_search_matches_plurals_and_description(client: httpx.AsyncClient) -> None:
    body = await search(client, q="trail shoes")
    assert body["items"]
    assert all(item["category"] == "running-shoes" for item in body["items"])


async def test_in_stock_filter(client: httpx.AsyncClient, db: sqlite3.Connection) -> None:
    sold_out = db.execute(
        "SELECT sku FROM stock GROUP BY sku HAVING SUM(on_hand) = 0 ORDER BY sku"
    ).fetchone()[0]
    category = db.execute("SELECT category FROM products WHERE sku = ?", (sold_out,)).fetchone()[0]
    listed_in = {
        i["sku"] for i in (await search(client, category=category, in_stock="true"))["items"]
    }
    listed_out = {
        i["sku"] for i in (await search(client, category=category, in_stock="false"))["items"]
    }
    assert sold_out not in listed_in
    assert sold_out in listed_out


async def test_pagination(client: httpx.AsyncClient) -> None:
    first = (
        await client.get("/catalog/products", params={"category": "apparel", "limit": 5})
    ).json()
    second = (
        await client.get(
            "/catalog/products", params={"category": "apparel", "limit": 5, "offset": 5}
        )
    ).json()
    assert first["total"] == second["total"] == 60
    assert len(first["items"]) == len(second["items"]) == 5
    assert first["items"][-1]["sku"] < second["items"][0]["sku"]


async def test_product_detail(client: httpx.AsyncClient) -> None:
    game = (await search(client, category="video-games", attr="rating:M"))["items"][0]
    detail = (await client.get(f"/catalog/products/{game['sku']}")).json()
    assert detail["age_restricted"] is True
    assert detail["related_skus"] and detail["description"]
    assert set(detail) >= {"sku", "product_id", "name", "brand", "list_price", "restricted_regions"}


async def test_categories(client: httpx.AsyncClient) -> None:
    categories = (await client.get("/catalog/categories")).json()
    names = {c["category"] for c in categories}
    assert {
        "running-shoes",
        "gaming-laptops",
        "laptop-accessories",
        "running-accessories",
        "apparel",
        "video-games",
        "home-fitness",
    } <= names
    assert sum(c["count"] for c in categories) >= 300


async def test_errors_have_the_documented_shape(client: httpx.AsyncClient) -> None:
    missing = await client.get("/catalog/products/RUN-99999")
    assert missing.status_code == 404 and error_code(missing) == "not_found"
    unknown_route = await client.get("/catalog/nothing-here/x/y")
    assert unknown_route.status_code == 404 and error_code(unknown_route) == "not_found"
    bad_limit = await client.get("/catalog/products", params={"limit": 0})
    assert bad_limit.status_code == 422 and error_code(bad_limit) == "validation_error"
    assert "limit" in bad_limit.json()["error"]["message"]
    bad_attr = await client.get("/catalog/products", params={"attr": "size"})
    assert bad_attr.status_code == 422 and "attr" in bad_attr.json()["error"]["message"]
