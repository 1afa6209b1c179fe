"""Admin controls: fault injection, clock and reset."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import httpx
import pytest

from sandbox.app import create_app
from tests.sandbox.helpers import DEMO, add, error_code, new_cart, post


async def test_error_rate_one_fails_every_request_without_writing(
    client: httpx.AsyncClient, db: sqlite3.Connection
) -> None:
    cart_id = await new_cart(client)
    fault = await client.put("/admin/faults/carts", json={"error_rate": 1.0})
    assert fault.json() == {
        "service": "carts",
        "latency_ms": 0,
        "error_rate": 1.0,
        "error_status": 503,
        "garbage_rate": 0.0,
    }
    failed = await add(client, cart_id, "RUN-00005")
    assert failed.status_code == 503 and error_code(failed) == "injected_fault"
    assert db.execute("SELECT COUNT(*) FROM cart_lines").fetchone()[0] == 0
    assert (await client.get(f"/carts/{cart_id}")).status_code == 503
    assert (await client.get("/catalog/categories")).status_code == 200  # other services fine
    listed = (await client.get("/admin/faults")).json()["items"]
    assert [f["service"] for f in listed] == ["carts"]
    assert (await client.delete("/admin/faults")).json() == {"items": []}
    assert (await add(client, cart_id, "RUN-00005")).status_code == 200


async def test_custom_error_status_and_garbage(client: httpx.AsyncClient) -> None:
    await client.put("/admin/faults/pricing", json={"error_rate": 1.0, "error_status": 500})
    assert (await client.get("/pricing/prices/RUN-00001")).status_code == 500
    await client.put("/admin/faults/pricing", json={"garbage_rate": 1.0})
    garbage = await client.get("/pricing/prices/RUN-00001")
    assert garbage.status_code == 200
    try:
        body = garbage.json()
    except ValueError:
        body = None
    assert not (isinstance(body, dict) and "list_price" in body)


async def test_latency(client: httpx.AsyncClient) -> None:
    await client.put("/admin/faults/catalog", json={"latency_ms": 150})
    started = time.perf_counter()
    assert (await client.get("/catalog/categories")).status_code == 200
    assert time.perf_counter() - started >= 0.15


async def test_admin_itself_cannot_be_faulted(client: httpx.AsyncClient) -> None:
    refused = await client.put("/admin/faults/admin", json={"error_rate": 1.0})
    assert refused.status_code == 404 and error_code(refused) == "not_found"
    invalid = await client.put("/admin/faults/catalog", json={"error_rate": 2})
    assert invalid.status_code == 422 and "error_rate" in invalid.json()["error"]["message"]


async def test_clock(client: httpx.AsyncClient) -> None:
    now = (await client.get("/admin/clock")).json()
    assert now["mode"] == "anchored" and now["local"].startswith("2026-11-24T10:3")
    moved = (await client.post("/admin/clock", json={"now": "2026-12-01T09:00:00-05:00"})).json()
    assert moved["now"].startswith("2026-12-01T14:00")
    bad = await client.post("/admin/clock", json={"now": "yesterday"})
    assert bad.status_code == 422 and error_code(bad) == "validation_error"


async def test_reset_restores_the_seed(client: httpx.AsyncClient, db: sqlite3.Connection) -> None:
    products = db.execute("SELECT * FROM products ORDER BY sku").fetchall()
    cart_id = await new_cart(client)
    await add(client, cart_id, "RUN-00005")
    await post(client, "/orders/O100003/cancel", {"reason": "test"})
    await client.put("/admin/faults/orders", json={"latency_ms": 10})
    result = await client.post("/admin/reset")
    assert result.status_code == 200 and result.json()["status"] == "reset"
    assert db.execute("SELECT COUNT(*) FROM carts").fetchone()[0] == 0
    assert db.execute("SELECT COUNT(*) FROM idempotency_keys").fetchone()[0] == 0
    assert db.execute("SELECT status FROM orders WHERE order_id = 'O100003'").fetchone()[0] == (
        "pending"
    )
    assert db.execute("SELECT * FROM products ORDER BY sku").fetchall() == products
    assert (await client.get("/admin/faults")).json()["items"] == []
    assert (await client.get("/admin/clock")).json()["local"].startswith("2026-11-24T10:3")


def test_create_app_seeds_a_missing_database(tmp_path: Path) -> None:
    path = tmp_path / "fresh" / "sandbox.db"
    create_app(path, clock="real")
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("SELECT COUNT(*) FROM products").fetchone()[0] >= 300
        assert conn.execute("SELECT value FROM meta WHERE key = 'clock_mode'").fetchone()[0] == (
            "real"
        )
    finally:
        conn.close()


async def test_clock_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ARBITER_SANDBOX_CLOCK", "2026-07-04T19:00:00-05:00")
    app = create_app(tmp_path / "env.db")
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://sandbox"
    ) as http:
        state = (await http.get("/admin/clock")).json()
        assert state["now"].startswith("2026-07-05T00:00")
        customer = (await http.get(f"/customers/{DEMO}")).json()
        assert customer["member_since"] < "2026-07-05"
