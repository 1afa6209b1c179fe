"""Inventory: locations, stock per location and reservations."""

from __future__ import annotations

import sqlite3

import httpx

from tests.sandbox.helpers import DEMO, error_code, post


async def _available(client: httpx.AsyncClient, sku: str, location: str) -> int:
    stock = (await client.get(f"/inventory/stock/{sku}")).json()
    return next(int(x["available"]) for x in stock["locations"] if x["location_id"] == location)


def _stocked(db: sqlite3.Connection, minimum: int = 3) -> tuple[str, str, int]:
    row = db.execute(
        "SELECT sku, location_id, on_hand FROM stock WHERE on_hand >= ? ORDER BY sku, location_id",
        (minimum,),
    ).fetchone()
    return row[0], row[1], row[2]


async def test_locations(client: httpx.AsyncClient) -> None:
    locations = (await client.get("/inventory/locations")).json()
    centers = [x for x in locations if x["kind"] == "fulfillment_center"]
    stores = [x for x in locations if x["kind"] == "store"]
    assert len(centers) >= 3 and len(stores) >= 6
    assert (
        {x["region"] for x in centers}
        == {x["region"] for x in stores}
        == {"west", "central", "east"}
    )
    assert all(x["pickup"] and x["pickup_cutoff_local"] for x in stores)


async def test_stock_totals(client: httpx.AsyncClient, db: sqlite3.Connection) -> None:
    sku, _, _ = _stocked(db)
    stock = (await client.get(f"/inventory/stock/{sku}")).json()
    on_hand = db.execute("SELECT SUM(on_hand) FROM stock WHERE sku = ?", (sku,)).fetchone()[0]
    assert stock["total_available"] == on_hand
    assert all(x["available"] == x["on_hand"] - x["reserved"] for x in stock["locations"])


async def test_reservation_reduces_and_release_restores(
    client: httpx.AsyncClient, db: sqlite3.Connection
) -> None:
    sku, location, on_hand = _stocked(db)
    created = await post(
        client,
        "/inventory/reservations",
        {"sku": sku, "location_id": location, "quantity": 2, "customer_id": DEMO},
    )
    assert created.status_code == 201, created.text
    reservation = created.json()
    assert reservation["status"] == "active"
    assert await _available(client, sku, location) == on_hand - 2
    fetched = (await client.get(f"/inventory/reservations/{reservation['reservation_id']}")).json()
    assert fetched == reservation
    released = await post(
        client, f"/inventory/reservations/{reservation['reservation_id']}/release"
    )
    assert released.status_code == 200 and released.json()["status"] == "released"
    assert await _available(client, sku, location) == on_hand
    again = await post(client, f"/inventory/reservations/{reservation['reservation_id']}/release")
    assert again.status_code == 200 and again.json()["status"] == "released"


async def test_insufficient_stock(client: httpx.AsyncClient, db: sqlite3.Connection) -> None:
    sku, location, on_hand = _stocked(db)
    response = await post(
        client,
        "/inventory/reservations",
        {"sku": sku, "location_id": location, "quantity": on_hand + 1, "customer_id": DEMO},
    )
    assert response.status_code == 409 and error_code(response) == "insufficient_stock"
    assert db.execute("SELECT COUNT(*) FROM reservations").fetchone()[0] == 0


async def test_reservation_expires_on_the_sandbox_clock(
    client: httpx.AsyncClient, db: sqlite3.Connection
) -> None:
    sku, location, on_hand = _stocked(db)
    created = (
        await post(
            client,
            "/inventory/reservations",
            {
                "sku": sku,
                "location_id": location,
                "quantity": 1,
                "customer_id": DEMO,
                "ttl_seconds": 60,
            },
        )
    ).json()
    await client.post("/admin/clock", json={"now": "2026-11-24T10:45:00-06:00"})
    fetched = (await client.get(f"/inventory/reservations/{created['reservation_id']}")).json()
    assert fetched["status"] == "expired"
    assert await _available(client, sku, location) == on_hand


async def test_unknown_references(client: httpx.AsyncClient, db: sqlite3.Connection) -> None:
    sku, _, _ = _stocked(db)
    bad_location = await post(
        client,
        "/inventory/reservations",
        {"sku": sku, "location_id": "ST-NOWHERE", "quantity": 1, "customer_id": DEMO},
    )
    assert bad_location.status_code == 404 and error_code(bad_location) == "not_found"
    assert (await client.get("/inventory/stock/NOPE-00001")).status_code == 404
    assert (await client.get("/inventory/reservations/RSV-nope")).status_code == 404
    bad_quantity = await post(
        client,
        "/inventory/reservations",
        {"sku": sku, "location_id": "FC-WEST", "quantity": 0, "customer_id": DEMO},
    )
    assert bad_quantity.status_code == 422
    assert "quantity" in bad_quantity.json()["error"]["message"]
