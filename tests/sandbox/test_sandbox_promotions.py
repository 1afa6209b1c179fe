"""Promotions: listing, eligibility (tier, category, minimum spend, validity) and stacking."""

from __future__ import annotations

import sqlite3

import httpx

from tests.sandbox.helpers import DEMO, add, error_code, new_cart, post

SHOE = "RUN-00005"  # Stride, 89.99


def _customer(db: sqlite3.Connection, tier: str) -> str:
    row = db.execute(
        "SELECT customer_id FROM customers WHERE loyalty_tier = ? AND region = 'central' "
        "ORDER BY customer_id",
        (tier,),
    ).fetchone()
    return str(row[0])


async def apply(client: httpx.AsyncClient, cart_id: str, code: str) -> httpx.Response:
    return await post(client, f"/carts/{cart_id}/promotions", {"code": code})


async def test_listing_filters(client: httpx.AsyncClient, db: sqlite3.Connection) -> None:
    active = {p["code"]: p for p in (await client.get("/promotions")).json()["items"]}
    assert "SUMMER25" not in active and "BLACKFRIDAY30" not in active
    assert {p["kind"] for p in active.values()} == {"code", "automatic"}
    everything = (await client.get("/promotions", params={"active_only": "false"})).json()["items"]
    inactive = {p["code"] for p in everything if not p["active"]}
    assert inactive == {"SUMMER25", "BLACKFRIDAY30"}
    bronze = _customer(db, "bronze")
    for_bronze = {
        p["code"]
        for p in (await client.get("/promotions", params={"customer_id": bronze})).json()["items"]
    }
    assert "GOLD15" not in for_bronze and "RUNNER10" in for_bronze
    for_laptops = (await client.get("/promotions", params={"category": "gaming-laptops"})).json()
    assert all(
        p["eligibility"]["categories"] in (None, ["gaming-laptops"]) for p in for_laptops["items"]
    )
    detail = (await client.get("/promotions/GAMER50")).json()
    assert detail["eligibility"]["min_spend"] == 1000 and detail["stackable"] is False


async def test_code_discounts_eligible_lines_and_stacks(client: httpx.AsyncClient) -> None:
    cart_id = await new_cart(client)
    await add(client, cart_id, SHOE, 2)
    cart = (await apply(client, cart_id, "RUNNER10")).json()
    assert cart["promotions"] == ["RUNNER10"]
    assert cart["subtotal"] == 179.98 and cart["discount_total"] == 18.0 and cart["total"] == 161.98
    cart = (await apply(client, cart_id, "WELCOME5")).json()
    assert cart["promotions"] == ["RUNNER10", "WELCOME5"] and cart["total"] == 156.98
    refused = await apply(client, cart_id, "STRIDE20")
    assert refused.status_code == 422 and error_code(refused) == "not_eligible"
    assert "combined" in refused.json()["error"]["message"]


async def test_automatic_offer_and_non_stackable_code(client: httpx.AsyncClient) -> None:
    cart_id = await new_cart(client)
    cart = (await add(client, cart_id, SHOE, 3)).json()
    assert cart["promotions"] == ["SPEND200"] and cart["total"] == round(269.97 - 20, 2)
    cart = (await apply(client, cart_id, "GOLD15")).json()  # demo customer is gold
    assert cart["promotions"] == ["GOLD15"]  # not stackable: the automatic offer drops out
    assert cart["discount_total"] == 40.5 and cart["total"] == 229.47


async def test_not_eligible_reasons(client: httpx.AsyncClient, db: sqlite3.Connection) -> None:
    cart_id = await new_cart(client, _customer(db, "bronze"))
    await add(client, cart_id, "RAC-00001")  # socks, 19.99
    expectations = {
        "GOLD15": "members",
        "GAMER50": "applies only to",
        "WELCOME5": "minimum spend",
        "SUMMER25": "expired",
        "BLACKFRIDAY30": "not valid until",
        "SPEND200": "automatically",
    }
    for code, words in expectations.items():
        response = await apply(client, cart_id, code)
        assert response.status_code == 422, code
        assert error_code(response) == "not_eligible"
        assert words in response.json()["error"]["message"], code
    unknown = await apply(client, cart_id, "NOSUCHCODE")
    assert unknown.status_code == 404 and error_code(unknown) == "not_found"
    cart = (await client.get(f"/carts/{cart_id}")).json()
    assert cart["promotions"] == [] and cart["total"] == 19.99


async def test_promotion_stops_applying_when_cart_no_longer_qualifies(
    client: httpx.AsyncClient,
) -> None:
    cart_id = await new_cart(client, DEMO)
    await add(client, cart_id, SHOE)
    await add(client, cart_id, "RAC-00001")
    assert (await apply(client, cart_id, "RUNNER10")).json()["promotions"] == ["RUNNER10"]
    removed = await client.delete(
        f"/carts/{cart_id}/lines/{SHOE}", headers={"Idempotency-Key": "remove-shoe"}
    )
    assert removed.json()["promotions"] == [] and removed.json()["total"] == 19.99
