"""Fulfillment: options computed from stock, cut-offs and capacity; promises."""

from __future__ import annotations

import sqlite3
from typing import Any

import httpx

from tests.sandbox.helpers import DEMO, error_code, post

SKU = "RUN-00005"  # size-10 Stride on the shelf at ST-CHICAGO in the seed


async def options(client: httpx.AsyncClient, sku: str = SKU, **params: Any) -> list[dict[str, Any]]:
    response = await client.get(
        "/fulfillment/options", params={"sku": sku, "region": "central", **params}
    )
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()["options"]
    return found


def pick(found: list[dict[str, Any]], kind: str, location: str) -> dict[str, Any]:
    return next(o for o in found if o["kind"] == kind and o["location_id"] == location)


async def test_pickup_today_before_cutoff(client: httpx.AsyncClient) -> None:
    found = await options(client)
    assert {o["kind"] for o in found} == {"store_pickup", "same_day", "next_day", "standard"}
    pickup = pick(found, "store_pickup", "ST-CHICAGO")
    assert pickup["available"] and pickup["ready_today"]
    assert pickup["ready_by"] == "2026-11-24T13:00:00-06:00"  # local time of the store
    assert pickup["cutoff"] == "2026-11-24T20:00:00-06:00"  # 20:00 in Chicago
    assert pickup["price"] == 0


async def test_options_follow_stock_moves(client: httpx.AsyncClient) -> None:
    before = pick(await options(client), "store_pickup", "ST-CHICAGO")
    await client.put("/admin/stock", json={"sku": SKU, "location_id": "ST-CHICAGO", "on_hand": 0})
    after = pick(await options(client), "store_pickup", "ST-CHICAGO")
    assert before["available"] and not after["available"]
    assert "out of stock" in after["reason"]
    await client.put("/admin/stock", json={"sku": SKU, "location_id": "FC-CENTRAL", "on_hand": 5})
    assert pick(await options(client), "next_day", "FC-CENTRAL")["available"]


async def test_after_cutoff_pickup_moves_to_tomorrow(client: httpx.AsyncClient) -> None:
    await client.post("/admin/clock", json={"now": "2026-11-24T20:30:00-06:00"})
    found = await options(client)
    pickup = pick(found, "store_pickup", "ST-CHICAGO")
    assert pickup["available"] and not pickup["ready_today"]
    assert pickup["ready_by"] == "2026-11-25T10:00:00-06:00"  # 10:00 tomorrow, local
    same_day = pick(found, "same_day", "ST-CHICAGO")
    assert not same_day["available"] and "cut-off" in same_day["reason"]


async def test_promise_consumes_capacity(client: httpx.AsyncClient) -> None:
    option = pick(await options(client), "same_day", "ST-CHICAGO")
    assert option["available"]
    body = {"customer_id": DEMO, "sku": SKU, "quantity": 1, "option_id": option["option_id"]}
    promise = await post(client, "/fulfillment/promises", body)
    assert promise.status_code == 201, promise.text
    assert promise.json()["kind"] == "same_day" and promise.json()["ready_by"] == option["ready_by"]
    after = pick(await options(client), "same_day", "ST-CHICAGO")
    assert after["capacity_remaining"] == option["capacity_remaining"] - 1


async def test_promise_refused_when_capacity_is_used_up(
    client: httpx.AsyncClient, db: sqlite3.Connection
) -> None:
    option = pick(await options(client), "same_day", "ST-CHICAGO")
    db.execute("INSERT INTO capacity_used VALUES ('same_day', 'ST-CHICAGO', '2026-11-24', 6)")
    after = pick(await options(client), "same_day", "ST-CHICAGO")
    assert after["capacity_remaining"] == 0 and not after["available"]
    body = {"customer_id": DEMO, "sku": SKU, "quantity": 1, "option_id": option["option_id"]}
    refused = await post(client, "/fulfillment/promises", body)
    assert refused.status_code == 409 and error_code(refused) == "invalid_state"


async def test_promise_for_an_option_no_longer_offered(client: httpx.AsyncClient) -> None:
    body = {"customer_id": DEMO, "sku": SKU, "quantity": 1, "option_id": "OPT-000000000000"}
    refused = await post(client, "/fulfillment/promises", body)
    assert refused.status_code == 409 and error_code(refused) == "invalid_state"


async def test_postcode_and_restricted_regions(
    client: httpx.AsyncClient, db: sqlite3.Connection
) -> None:
    by_postcode = await client.get("/fulfillment/options", params={"sku": SKU, "postcode": "98101"})
    assert by_postcode.json()["region"] == "west"
    restricted = db.execute(
        "SELECT sku FROM products WHERE restricted_regions LIKE '%west%' ORDER BY sku"
    ).fetchone()[0]
    found = (
        await client.get("/fulfillment/options", params={"sku": restricted, "region": "west"})
    ).json()["options"]
    assert found and not any(o["available"] for o in found)
    missing = await client.get("/fulfillment/options", params={"sku": SKU})
    assert missing.status_code == 422 and "region" in missing.json()["error"]["message"]
