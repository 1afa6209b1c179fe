"""Pricing: list price, cost, MAP and competitor prices."""

from __future__ import annotations

import sqlite3

import httpx

from tests.sandbox.helpers import error_code


async def test_price_has_cost_map_and_competitors(
    client: httpx.AsyncClient, db: sqlite3.Connection
) -> None:
    sku = db.execute(
        "SELECT p.sku FROM prices p JOIN products USING (sku) WHERE brand = 'Velox' "
        "AND sku IN (SELECT sku FROM competitor_prices) ORDER BY sku"
    ).fetchone()[0]
    price = (await client.get(f"/pricing/prices/{sku}")).json()
    assert price["currency"] == "USD"
    assert 0.45 * price["list_price"] <= price["unit_cost"] <= 0.7 * price["list_price"]
    assert price["map_price"] is not None and price["map_price"] < price["list_price"]
    observed = [c["observed_at"] for c in price["competitor_prices"]]
    assert observed == sorted(observed, reverse=True)
    assert all(c["url"].startswith("https://") for c in price["competitor_prices"])


async def test_brand_without_map(client: httpx.AsyncClient, db: sqlite3.Connection) -> None:
    sku = db.execute("SELECT sku FROM products WHERE brand = 'Stride' ORDER BY sku").fetchone()[0]
    assert (await client.get(f"/pricing/prices/{sku}")).json()["map_price"] is None


async def test_bulk_prices_omit_unknown(client: httpx.AsyncClient) -> None:
    body = (
        await client.get("/pricing/prices", params={"skus": "RUN-00001,NOPE-1,LAP-00001"})
    ).json()
    assert [p["sku"] for p in body["items"]] == ["RUN-00001", "LAP-00001"]


async def test_admin_price_and_competitor_updates(client: httpx.AsyncClient) -> None:
    updated = await client.put(
        "/admin/prices/RUN-00001", json={"list_price": 84.99, "map_price": None}
    )
    assert updated.status_code == 200
    assert updated.json()["list_price"] == 84.99 and updated.json()["map_price"] is None
    added = await client.post(
        "/admin/competitor-prices",
        json={"sku": "RUN-00001", "competitor": "MegaMart", "price": 79.99},
    )
    assert added.status_code == 201
    newest = added.json()["competitor_prices"][0]
    assert newest["competitor"] == "MegaMart" and newest["price"] == 79.99
    assert newest["observed_at"].startswith("2026-11-24T16:3")


async def test_unknown_sku(client: httpx.AsyncClient) -> None:
    response = await client.get("/pricing/prices/NOPE-00001")
    assert response.status_code == 404 and error_code(response) == "not_found"
