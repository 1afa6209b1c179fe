"""Carts: lines, server-computed totals, discounts and checkout."""

from __future__ import annotations

import sqlite3

import httpx

from tests.sandbox.helpers import DEMO, add, error_code, new_cart, post

SHOE = "RUN-00005"  # 89.99


def _total_on_hand(db: sqlite3.Connection, sku: str) -> int:
    value: int = db.execute("SELECT SUM(on_hand) FROM stock WHERE sku = ?", (sku,)).fetchone()[0]
    return value


async def test_open_cart_is_reused(client: httpx.AsyncClient) -> None:
    first = await new_cart(client)
    assert await new_cart(client) == first
    assert first.startswith("CART-") and len(first) == len("CART-") + 12
    current = await client.get("/carts", params={"customer_id": DEMO})
    assert current.json()["cart_id"] == first
    none = await client.get("/carts", params={"customer_id": "C1002"})
    assert none.status_code == 404 and error_code(none) == "not_found"


async def test_lines_and_totals(client: httpx.AsyncClient) -> None:
    cart_id = await new_cart(client)
    await add(client, cart_id, SHOE)
    cart = (await add(client, cart_id, SHOE)).json()
    assert [(x["sku"], x["quantity"]) for x in cart["lines"]] == [(SHOE, 2)]
    await add(client, cart_id, "RAC-00001")
    cart = (await client.get(f"/carts/{cart_id}")).json()
    assert cart["subtotal"] == 199.97 and cart["discount_total"] == 0 and cart["total"] == 199.97
    assert cart["lines"][0]["unit_price"] == 89.99 and cart["lines"][0]["line_total"] == 179.98
    removed = await client.delete(
        f"/carts/{cart_id}/lines/RAC-00001", headers={"Idempotency-Key": "rm-1"}
    )
    assert removed.status_code == 200 and removed.json()["total"] == 179.98
    missing = await client.delete(
        f"/carts/{cart_id}/lines/RAC-00001", headers={"Idempotency-Key": "rm-2"}
    )
    assert missing.status_code == 404 and error_code(missing) == "not_found"


async def test_prices_follow_the_pricing_service(client: httpx.AsyncClient) -> None:
    cart_id = await new_cart(client)
    await add(client, cart_id, SHOE)
    await client.put(f"/admin/prices/{SHOE}", json={"list_price": 79.99})
    assert (await client.get(f"/carts/{cart_id}")).json()["total"] == 79.99


async def test_line_discount(client: httpx.AsyncClient) -> None:
    cart_id = await new_cart(client)
    await add(client, cart_id, SHOE, 2)
    response = await post(
        client,
        f"/carts/{cart_id}/discounts",
        {"sku": SHOE, "percent": 10, "reason": "goodwill", "competitor": None},
    )
    cart = response.json()
    assert cart["lines"][0]["discount_percent"] == 10
    assert cart["lines"][0]["discount_reason"] == "goodwill"
    assert cart["lines"][0]["line_total"] == 161.98 and cart["discount_total"] == 18.0
    no_competitor = await post(
        client, f"/carts/{cart_id}/discounts", {"sku": SHOE, "percent": 5, "reason": "price_match"}
    )
    assert no_competitor.status_code == 422 and "competitor" in no_competitor.text
    no_line = await post(
        client,
        f"/carts/{cart_id}/discounts",
        {"sku": "RAC-00001", "percent": 5, "reason": "loyalty"},
    )
    assert no_line.status_code == 404
    too_much = await post(
        client, f"/carts/{cart_id}/discounts", {"sku": SHOE, "percent": 150, "reason": "loyalty"}
    )
    assert too_much.status_code == 422 and "percent" in too_much.json()["error"]["message"]


async def test_cannot_exceed_available_stock(
    client: httpx.AsyncClient, db: sqlite3.Connection
) -> None:
    cart_id = await new_cart(client)
    available = _total_on_hand(db, SHOE)
    assert (await add(client, cart_id, SHOE, available)).status_code == 200
    over = await add(client, cart_id, SHOE, 1)
    assert over.status_code == 409 and error_code(over) == "insufficient_stock"


async def test_restricted_items(client: httpx.AsyncClient, db: sqlite3.Connection) -> None:
    unverified = db.execute(
        "SELECT customer_id FROM customers WHERE age_verified = 0 ORDER BY customer_id"
    ).fetchone()[0]
    game = db.execute(
        "SELECT sku FROM products WHERE age_restricted = 1 AND sku IN "
        "(SELECT sku FROM stock WHERE on_hand > 0) ORDER BY sku"
    ).fetchone()[0]
    refused = await add(client, await new_cart(client, unverified), game)
    assert refused.status_code == 422 and error_code(refused) == "not_eligible"
    west = db.execute(
        "SELECT customer_id FROM customers WHERE region = 'west' ORDER BY customer_id"
    ).fetchone()[0]
    power_bank = db.execute(
        "SELECT sku FROM products WHERE restricted_regions LIKE '%west%'"
    ).fetchone()[0]
    refused = await add(client, await new_cart(client, west), power_bank)
    assert refused.status_code == 422 and "west" in refused.json()["error"]["message"]


async def test_checkout(client: httpx.AsyncClient, db: sqlite3.Connection) -> None:
    cart_id = await new_cart(client)
    await add(client, cart_id, SHOE, 2)
    await add(client, cart_id, "RAC-00001")
    cart = (await post(client, f"/carts/{cart_id}/promotions", {"code": "RUNNER10"})).json()
    on_hand = _total_on_hand(db, SHOE)
    placed = await post(client, f"/carts/{cart_id}/checkout", {"payment_method": "card"})
    assert placed.status_code == 201, placed.text
    order = placed.json()
    assert order["status"] == "pending" and order["customer_id"] == DEMO
    assert order["total"] == order["paid"] == cart["total"]
    assert order["payment_method"] == {"kind": "card", "last4": "4242"}
    assert order["refundable_amount"] == cart["total"] and order["tracking"] is None
    assert _total_on_hand(db, SHOE) == on_hand - 2
    assert (await client.get(f"/carts/{cart_id}")).json()["status"] == "checked_out"
    closed = await add(client, cart_id, SHOE)
    assert closed.status_code == 409 and error_code(closed) == "invalid_state"
    orders = (await client.get("/orders", params={"customer_id": DEMO})).json()["items"]
    assert orders[0]["order_id"] == order["order_id"]
    assert await new_cart(client) != cart_id


async def test_checkout_uses_the_customers_reservation(
    client: httpx.AsyncClient, db: sqlite3.Connection
) -> None:
    reservation = (
        await post(
            client,
            "/inventory/reservations",
            {"sku": SHOE, "location_id": "ST-CHICAGO", "quantity": 1, "customer_id": DEMO},
        )
    ).json()
    cart_id = await new_cart(client)
    await add(client, cart_id, SHOE)
    before = db.execute(
        "SELECT on_hand FROM stock WHERE sku = ? AND location_id = 'ST-CHICAGO'", (SHOE,)
    ).fetchone()[0]
    assert (
        await post(client, f"/carts/{cart_id}/checkout", {"payment_method": "paypal"})
    ).status_code == 201
    after = db.execute(
        "SELECT on_hand FROM stock WHERE sku = ? AND location_id = 'ST-CHICAGO'", (SHOE,)
    ).fetchone()[0]
    assert after == before - 1
    status = (await client.get(f"/inventory/reservations/{reservation['reservation_id']}")).json()
    assert status["status"] == "consumed"


async def test_empty_cart_cannot_check_out(client: httpx.AsyncClient) -> None:
    cart_id = await new_cart(client)
    response = await post(client, f"/carts/{cart_id}/checkout", {"payment_method": "card"})
    assert response.status_code == 409 and error_code(response) == "invalid_state"
