"""Orders: refunds, returns, cancellation; support tickets."""

from __future__ import annotations

import sqlite3

import httpx

from tests.sandbox.helpers import DEMO, error_code, post

IN_WINDOW, OUT_OF_WINDOW, PENDING = "O100001", "O100002", "O100003"  # the demo customer's


def _order(db: sqlite3.Connection, where: str) -> str:
    row = db.execute(f"SELECT order_id FROM orders WHERE {where} ORDER BY order_id").fetchone()
    return str(row[0])


async def test_demo_customer_history(client: httpx.AsyncClient) -> None:
    customer = (await client.get(f"/customers/{DEMO}")).json()
    assert set(customer["order_ids"]) == {IN_WINDOW, OUT_OF_WINDOW, PENDING}
    assert customer["support_issues"]
    statuses = {
        o["order_id"]: o["status"]
        for o in (await client.get("/orders", params={"customer_id": DEMO})).json()["items"]
    }
    assert statuses == {IN_WINDOW: "delivered", OUT_OF_WINDOW: "delivered", PENDING: "pending"}
    page = (await client.get("/customers", params={"limit": 10})).json()
    assert page["total"] >= 50 and len(page["items"]) == 10


async def test_refunds_cannot_exceed_refundable(client: httpx.AsyncClient) -> None:
    order = (await client.get(f"/orders/{IN_WINDOW}")).json()
    refundable = order["refundable_amount"]
    first = await post(
        client,
        f"/orders/{IN_WINDOW}/refunds",
        {"amount": 20.0, "method": "gift_card", "reason": "goodwill"},
    )
    assert first.status_code == 201 and first.json()["amount"] == 20.0
    over = await post(
        client,
        f"/orders/{IN_WINDOW}/refunds",
        {"amount": round(refundable - 20 + 0.01, 2), "method": "original", "reason": "too much"},
    )
    assert over.status_code == 422 and error_code(over) == "validation_error"
    assert "amount" in over.json()["error"]["message"]
    rest = await post(
        client,
        f"/orders/{IN_WINDOW}/refunds",
        {"amount": round(refundable - 20, 2), "method": "original", "reason": "rest"},
    )
    assert rest.status_code == 201
    after = (await client.get(f"/orders/{IN_WINDOW}")).json()
    assert after["refunded_total"] == refundable and after["refundable_amount"] == 0


async def test_refund_invalid_states(client: httpx.AsyncClient, db: sqlite3.Connection) -> None:
    body = {"amount": 1.0, "method": "original", "reason": "test"}
    cancelled_id = _order(db, "status = 'cancelled'")
    cancelled = await post(client, f"/orders/{cancelled_id}/refunds", body)
    assert cancelled.status_code == 409 and error_code(cancelled) == "invalid_state"
    unpaid = await post(client, f"/orders/{_order(db, 'paid_cents = 0')}/refunds", body)
    assert unpaid.status_code == 409 and error_code(unpaid) == "invalid_state"
    partial = _order(db, "status = 'delivered' AND order_id IN (SELECT order_id FROM refunds)")
    order = (await client.get(f"/orders/{partial}")).json()
    assert 0 < order["refunded_total"] < order["paid"]
    assert order["refundable_amount"] == round(order["paid"] - order["refunded_total"], 2)


async def test_returns_only_inside_the_window(client: httpx.AsyncClient) -> None:
    order = (await client.get(f"/orders/{IN_WINDOW}")).json()
    sku = order["lines"][0]["sku"]
    authorized = await post(
        client, f"/orders/{IN_WINDOW}/returns", {"skus": [sku], "reason": "fit"}
    )
    assert authorized.status_code == 201, authorized.text
    assert authorized.json()["status"] == "authorized" and authorized.json()["label_url"]
    twice = await post(client, f"/orders/{IN_WINDOW}/returns", {"skus": [sku], "reason": "fit"})
    assert twice.status_code == 409
    not_in_order = await post(
        client, f"/orders/{IN_WINDOW}/returns", {"skus": ["LAP-00001"], "reason": "fit"}
    )
    assert not_in_order.status_code == 422
    old = (await client.get(f"/orders/{OUT_OF_WINDOW}")).json()
    late = await post(
        client,
        f"/orders/{OUT_OF_WINDOW}/returns",
        {"skus": [old["lines"][0]["sku"]], "reason": "fit"},
    )
    assert late.status_code == 409 and "window" in late.json()["error"]["message"]
    pending = await post(
        client, f"/orders/{PENDING}/returns", {"skus": ["RAC-00001"], "reason": "x"}
    )
    assert pending.status_code == 409 and error_code(pending) == "invalid_state"


async def test_cancel_only_pending_or_processing(client: httpx.AsyncClient) -> None:
    cancelled = await post(client, f"/orders/{PENDING}/cancel", {"reason": "changed my mind"})
    assert cancelled.status_code == 200
    order = cancelled.json()
    assert order["status"] == "cancelled" and order["refundable_amount"] == 0
    assert order["refunded_total"] == order["paid"]
    again = await post(client, f"/orders/{PENDING}/cancel", {"reason": "again"})
    assert again.status_code == 409 and error_code(again) == "invalid_state"
    delivered = await post(client, f"/orders/{IN_WINDOW}/cancel", {"reason": "late"})
    assert delivered.status_code == 409


async def test_support_tickets(client: httpx.AsyncClient) -> None:
    created = await post(
        client,
        "/support/tickets",
        {
            "customer_id": DEMO,
            "summary": "Where is my refund?",
            "order_id": IN_WINDOW,
            "priority": "normal",
        },
    )
    assert created.status_code == 201
    ticket = created.json()
    assert set(ticket) == {"ticket_id", "status", "queue", "created_at"}
    assert ticket["status"] == "open" and ticket["queue"] == "billing"
    fetched = (await client.get(f"/support/tickets/{ticket['ticket_id']}")).json()
    assert fetched["customer_id"] == DEMO and fetched["order_id"] == IN_WINDOW
    urgent = (
        await post(
            client,
            "/support/tickets",
            {"customer_id": DEMO, "summary": "Package stolen", "priority": "urgent"},
        )
    ).json()
    assert urgent["queue"] == "escalations"
    missing = await client.get("/support/tickets/T000000")
    assert missing.status_code == 404 and error_code(missing) == "not_found"
