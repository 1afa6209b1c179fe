"""Inventory service: locations, stock per location and reservations.

``available = on_hand - active reservations``; a reservation whose ``expires_at``
has passed on the sandbox clock counts as expired without a background job.
"""

from __future__ import annotations

import secrets
import sqlite3
from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Response

from sandbox import clock
from sandbox.db import get_db
from sandbox.errors import ApiError, invalid_state, not_found
from sandbox.idempotency import Idempotent, idempotency
from sandbox.schemas import Location, LocationStock, Reservation, ReservationRequest, Stock

router = APIRouter(prefix="/inventory", tags=["inventory"])
Db = Annotated[sqlite3.Connection, Depends(get_db)]
Idem = Annotated[Idempotent, Depends(idempotency)]


def locations(conn: sqlite3.Connection) -> list[Location]:
    """Every location, fulfillment centers first."""
    rows = conn.execute("SELECT * FROM locations ORDER BY kind, location_id").fetchall()
    return [
        Location(
            location_id=r["location_id"],
            name=r["name"],
            kind=r["kind"],
            region=r["region"],
            city=r["city"],
            postcode=r["postcode"],
            pickup=bool(r["pickup"]),
            pickup_cutoff_local=r["pickup_cutoff_local"],
            timezone=r["timezone"],
        )
        for r in rows
    ]


def require_sku(conn: sqlite3.Connection, sku: str) -> None:
    """404 unless the SKU exists."""
    if conn.execute("SELECT 1 FROM products WHERE sku = ?", (sku,)).fetchone() is None:
        raise not_found("SKU", sku)


def stock_levels(conn: sqlite3.Connection, sku: str, now: datetime) -> list[LocationStock]:
    """Stock of one SKU at every location."""
    rows = conn.execute(
        "SELECT l.location_id, l.kind, l.region, COALESCE(s.on_hand, 0) AS on_hand, "
        "  (SELECT COALESCE(SUM(r.quantity), 0) FROM reservations r "
        "   WHERE r.sku = ? AND r.location_id = l.location_id AND r.status = 'active' "
        "   AND r.expires_at > ?) AS reserved "
        "FROM locations l LEFT JOIN stock s ON s.location_id = l.location_id AND s.sku = ? "
        "ORDER BY l.kind, l.location_id",
        (sku, clock.iso(now), sku),
    ).fetchall()
    return [
        LocationStock(
            location_id=r["location_id"],
            kind=r["kind"],
            region=r["region"],
            on_hand=r["on_hand"],
            reserved=r["reserved"],
            available=max(0, r["on_hand"] - r["reserved"]),
        )
        for r in rows
    ]


def available_by_location(conn: sqlite3.Connection, sku: str, now: datetime) -> dict[str, int]:
    """location_id -> units available now."""
    return {level.location_id: level.available for level in stock_levels(conn, sku, now)}


def reservation_model(row: sqlite3.Row, now: datetime) -> Reservation:
    """A reservation row, reporting ``expired`` once its hold has lapsed."""
    status = row["status"]
    if status == "active" and row["expires_at"] <= clock.iso(now):
        status = "expired"
    return Reservation(
        reservation_id=row["reservation_id"],
        sku=row["sku"],
        location_id=row["location_id"],
        quantity=row["quantity"],
        customer_id=row["customer_id"],
        status=status,
        expires_at=row["expires_at"],
    )


def _reservation_row(conn: sqlite3.Connection, reservation_id: str) -> sqlite3.Row:
    row: sqlite3.Row | None = conn.execute(
        "SELECT * FROM reservations WHERE reservation_id = ?", (reservation_id,)
    ).fetchone()
    if row is None:
        raise not_found("reservation", reservation_id)
    return row


@router.get("/locations")
async def list_locations(conn: Db) -> list[Location]:
    """All fulfillment centers and stores."""
    return locations(conn)


@router.get("/stock/{sku}")
async def get_stock(sku: str, conn: Db) -> Stock:
    """Stock of one SKU at every location."""
    require_sku(conn, sku)
    now = clock.now(conn)
    levels = stock_levels(conn, sku, now)
    return Stock(
        sku=sku,
        as_of=clock.iso(now),
        total_available=sum(x.available for x in levels),
        locations=levels,
    )


@router.post("/reservations", status_code=201, response_model=Reservation)
async def create_reservation(body: ReservationRequest, idem: Idem) -> Response:
    """Hold units at one location for ``ttl_seconds``."""

    def work(conn: sqlite3.Connection) -> Reservation:
        require_sku(conn, body.sku)
        if (
            conn.execute(
                "SELECT 1 FROM customers WHERE customer_id = ?", (body.customer_id,)
            ).fetchone()
            is None
        ):
            raise not_found("customer", body.customer_id)
        now = clock.now(conn)
        available = available_by_location(conn, body.sku, now)
        if body.location_id not in available:
            raise not_found("location", body.location_id)
        if body.quantity > available[body.location_id]:
            raise ApiError(
                409,
                "insufficient_stock",
                f"{body.quantity} x {body.sku} requested at {body.location_id}, "
                f"{available[body.location_id]} available",
            )
        reservation_id = f"RSV-{secrets.token_hex(6)}"
        conn.execute(
            "INSERT INTO reservations VALUES (?, ?, ?, ?, ?, 'active', ?, ?)",
            (
                reservation_id,
                body.sku,
                body.location_id,
                body.quantity,
                body.customer_id,
                clock.iso(now),
                clock.iso(now + timedelta(seconds=body.ttl_seconds)),
            ),
        )
        return reservation_model(_reservation_row(conn, reservation_id), now)

    return idem.run(work, status_code=201)


@router.get("/reservations/{reservation_id}")
async def get_reservation(reservation_id: str, conn: Db) -> Reservation:
    """One reservation."""
    return reservation_model(_reservation_row(conn, reservation_id), clock.now(conn))


@router.post("/reservations/{reservation_id}/release", response_model=Reservation)
async def release_reservation(reservation_id: str, idem: Idem) -> Response:
    """Give the held units back; releasing twice (or after expiry) is a no-op."""

    def work(conn: sqlite3.Connection) -> Reservation:
        now = clock.now(conn)
        current = reservation_model(_reservation_row(conn, reservation_id), now)
        if current.status == "consumed":
            raise invalid_state(f"reservation {reservation_id} was consumed by an order")
        if current.status == "active":
            conn.execute(
                "UPDATE reservations SET status = 'released' WHERE reservation_id = ?",
                (reservation_id,),
            )
        return reservation_model(_reservation_row(conn, reservation_id), now)

    return idem.run(work)


def consume_stock(
    conn: sqlite3.Connection, sku: str, quantity: int, customer_id: str, now: datetime
) -> None:
    """Take ``quantity`` units out of stock for an order (caller owns the transaction).

    The customer's own active reservations of the SKU are used first (marked
    ``consumed``); the rest comes from the locations with the most available,
    fulfillment centers before stores. 409 ``insufficient_stock`` if short.
    """
    needed = quantity
    held = conn.execute(
        "SELECT reservation_id, location_id, quantity FROM reservations WHERE sku = ? "
        "AND customer_id = ? AND status = 'active' AND expires_at > ? ORDER BY created_at",
        (sku, customer_id, clock.iso(now)),
    ).fetchall()
    for r in held:
        if needed <= 0:
            break
        take = min(needed, r["quantity"])
        conn.execute(
            "UPDATE reservations SET status = 'consumed' WHERE reservation_id = ?",
            (r["reservation_id"],),
        )
        conn.execute(
            "UPDATE stock SET on_hand = on_hand - ? WHERE sku = ? AND location_id = ?",
            (take, sku, r["location_id"]),
        )
        needed -= take
    levels = sorted(
        stock_levels(conn, sku, now),
        key=lambda x: (x.kind != "fulfillment_center", -x.available, x.location_id),
    )
    if needed > sum(x.available for x in levels):
        raise ApiError(
            409, "insufficient_stock", f"{quantity} x {sku} ordered, not enough available stock"
        )
    for level in levels:
        take = min(needed, level.available)
        if take > 0:
            conn.execute(
                "UPDATE stock SET on_hand = on_hand - ? WHERE sku = ? AND location_id = ?",
                (take, sku, level.location_id),
            )
            needed -= take
