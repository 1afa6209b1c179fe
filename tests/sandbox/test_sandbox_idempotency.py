"""The idempotency contract on mutating endpoints."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from pydantic import BaseModel

from sandbox import carts
from sandbox.idempotency import Idempotent, request_hash
from tests.sandbox.helpers import DEMO, error_code

URL = "/inventory/reservations"


def _body(db: sqlite3.Connection, quantity: int = 1) -> dict[str, object]:
    sku, location = db.execute(
        "SELECT sku, location_id FROM stock WHERE on_hand >= 5 ORDER BY sku, location_id"
    ).fetchone()
    return {"sku": sku, "location_id": location, "quantity": quantity, "customer_id": DEMO}


def _count(db: sqlite3.Connection) -> int:
    value: int = db.execute("SELECT COUNT(*) FROM reservations").fetchone()[0]
    return value


async def test_same_key_and_body_replays_the_stored_response(
    client: httpx.AsyncClient, db: sqlite3.Connection
) -> None:
    body = _body(db)
    headers = {"Idempotency-Key": "reserve-1"}
    first = await client.post(URL, json=body, headers=headers)
    assert first.status_code == 201 and "Idempotent-Replayed" not in first.headers
    # same JSON, different key order and spacing: the canonical hash matches
    raw = json.dumps(dict(reversed(list(body.items()))), indent=2)
    second = await client.post(
        URL, content=raw, headers={**headers, "content-type": "application/json"}
    )
    assert second.status_code == 201
    assert second.content == first.content
    assert second.headers["Idempotent-Replayed"] == "true"
    assert _count(db) == 1


async def test_same_key_different_body_or_path_is_rejected(
    client: httpx.AsyncClient, db: sqlite3.Connection
) -> None:
    headers = {"Idempotency-Key": "reserve-2"}
    assert (await client.post(URL, json=_body(db), headers=headers)).status_code == 201
    other_body = await client.post(URL, json=_body(db, quantity=2), headers=headers)
    assert other_body.status_code == 422 and error_code(other_body) == "idempotency_key_reused"
    other_path = await client.post("/carts", json={"customer_id": DEMO}, headers=headers)
    assert other_path.status_code == 422 and error_code(other_path) == "idempotency_key_reused"
    assert _count(db) == 1


async def test_in_flight_key_is_409_until_abandoned(
    client: httpx.AsyncClient, db: sqlite3.Connection
) -> None:
    body = _body(db)
    digest = request_hash("POST", URL, json.dumps(body).encode())
    db.execute(
        "INSERT INTO idempotency_keys (key, request_hash, state, started_at) "
        "VALUES ('busy', ?, 'in_flight', ?)",
        (digest, time.time()),
    )
    busy = await client.post(URL, json=body, headers={"Idempotency-Key": "busy"})
    assert busy.status_code == 409 and error_code(busy) == "idempotency_in_flight"
    assert _count(db) == 0
    db.execute("UPDATE idempotency_keys SET started_at = ? WHERE key = 'busy'", (time.time() - 61,))
    taken_over = await client.post(URL, json=body, headers={"Idempotency-Key": "busy"})
    assert taken_over.status_code == 201
    assert _count(db) == 1


async def test_concurrent_duplicates_write_once(
    client: httpx.AsyncClient, db: sqlite3.Connection
) -> None:
    body = _body(db)
    responses = await asyncio.gather(
        *[client.post(URL, json=body, headers={"Idempotency-Key": "race"}) for _ in range(4)]
    )
    assert {r.status_code for r in responses} <= {201, 409}
    assert _count(db) == 1


async def test_client_errors_are_stored(client: httpx.AsyncClient, db: sqlite3.Connection) -> None:
    body = _body(db, quantity=100)
    headers = {"Idempotency-Key": "too-many"}
    first = await client.post(URL, json=body, headers=headers)
    assert first.status_code == 409 and error_code(first) == "insufficient_stock"
    await client.put(
        "/admin/stock",
        json={"sku": body["sku"], "location_id": body["location_id"], "on_hand": 500},
    )
    replay = await client.post(URL, json=body, headers=headers)
    assert replay.status_code == 409 and replay.content == first.content
    assert replay.headers["Idempotent-Replayed"] == "true"


async def test_server_errors_are_not_stored(
    client: httpx.AsyncClient, db: sqlite3.Connection
) -> None:
    body = _body(db)
    headers = {"Idempotency-Key": "after-outage"}
    await client.put("/admin/faults/inventory", json={"error_rate": 1.0})
    failed = await client.post(URL, json=body, headers=headers)
    assert failed.status_code == 503 and error_code(failed) == "injected_fault"
    await client.delete("/admin/faults")
    retried = await client.post(URL, json=body, headers=headers)
    assert retried.status_code == 201 and "Idempotent-Replayed" not in retried.headers
    assert _count(db) == 1


class _Done(BaseModel):
    ok: bool


def test_a_crash_inside_the_handler_releases_the_key(db_path: Path) -> None:
    idem = Idempotent(key="crash", request_hash="h", db_path=db_path)

    def crash(conn: sqlite3.Connection) -> _Done:
        conn.execute("INSERT INTO meta VALUES ('half-written', 'x')")
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        idem.run(crash)
    conn = sqlite3.connect(db_path)
    try:
        assert conn.execute("SELECT COUNT(*) FROM idempotency_keys").fetchone()[0] == 0
        assert (
            conn.execute("SELECT COUNT(*) FROM meta WHERE key = 'half-written'").fetchone()[0] == 0
        )
    finally:
        conn.close()
    retried = idem.run(lambda conn: _Done(ok=True), status_code=201)
    assert retried.status_code == 201 and retried.body == b'{"ok":true}'


async def test_missing_or_oversized_key(client: httpx.AsyncClient, db: sqlite3.Connection) -> None:
    missing = await client.post(URL, json=_body(db))
    assert missing.status_code == 400 and error_code(missing) == "idempotency_key_required"
    too_long = await client.post(URL, json=_body(db), headers={"Idempotency-Key": "k" * 256})
    assert too_long.status_code == 400
    deleted = await client.delete("/carts/CART-000000000000/lines/RUN-00001")
    assert deleted.status_code == 400
    assert _count(db) == 0


async def test_unexpected_crash_is_500_and_the_key_can_be_retried(
    app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    headers = {"Idempotency-Key": "crash-then-retry"}
    async with httpx.AsyncClient(transport=transport, base_url="http://sandbox") as http:
        with monkeypatch.context() as patch:
            patch.setattr(carts, "price_cart", _explode)
            crashed = await http.post("/carts", json={"customer_id": DEMO}, headers=headers)
        assert crashed.status_code == 500 and error_code(crashed) == "internal_error"
        retried = await http.post("/carts", json={"customer_id": DEMO}, headers=headers)
        assert retried.status_code == 201 and "Idempotent-Replayed" not in retried.headers


def _explode(*_: object) -> None:
    raise RuntimeError("database on fire")


async def test_body_validation_names_the_field(client: httpx.AsyncClient) -> None:
    response = await client.post("/carts", json={}, headers={"Idempotency-Key": "no-customer"})
    assert response.status_code == 422 and error_code(response) == "validation_error"
    assert response.json()["error"]["message"].startswith("customer_id:")
