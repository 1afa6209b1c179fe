"""Admin controls for tests and evals: faults, stock, prices, clock and reset.

Admin endpoints are not idempotency-keyed and are never faulted.
"""

from __future__ import annotations

import sqlite3
from typing import Annotated

from fastapi import APIRouter, Depends, Request

from sandbox import clock
from sandbox.db import get_db, transaction
from sandbox.errors import ApiError, not_found, validation_error
from sandbox.faults import SERVICES, FaultRegistry
from sandbox.inventory import get_stock, require_sku
from sandbox.money import cents
from sandbox.pricing import price_of
from sandbox.schemas import (
    ClockRequest,
    ClockState,
    CompetitorPriceRequest,
    Fault,
    FaultList,
    FaultSpec,
    Price,
    PriceUpdate,
    ResetResult,
    Stock,
    StockUpdate,
)
from sandbox.seed import reseed

router = APIRouter(prefix="/admin", tags=["admin"])
Db = Annotated[sqlite3.Connection, Depends(get_db)]


def _faults(request: Request) -> FaultRegistry:
    registry: FaultRegistry = request.app.state.faults
    return registry


@router.get("/faults")
async def list_faults(request: Request) -> FaultList:
    """Faults currently injected."""
    return FaultList(items=_faults(request).all())


@router.put("/faults/{service}")
async def set_fault(service: str, spec: FaultSpec, request: Request) -> Fault:
    """Inject latency, errors or garbage into one service."""
    if service not in SERVICES:
        raise not_found("service", service)
    return _faults(request).set(service, spec)


@router.delete("/faults")
async def clear_faults(request: Request) -> FaultList:
    """Remove every fault."""
    _faults(request).clear()
    return FaultList(items=[])


@router.put("/stock")
async def set_stock(body: StockUpdate, conn: Db) -> Stock:
    """Set on-hand units of a SKU at one location."""
    require_sku(conn, body.sku)
    if (
        conn.execute(
            "SELECT 1 FROM locations WHERE location_id = ?", (body.location_id,)
        ).fetchone()
        is None
    ):
        raise not_found("location", body.location_id)
    with transaction(conn):
        conn.execute(
            "INSERT INTO stock VALUES (?, ?, ?) ON CONFLICT (sku, location_id) "
            "DO UPDATE SET on_hand = excluded.on_hand",
            (body.sku, body.location_id, body.on_hand),
        )
    return await get_stock(body.sku, conn)


@router.put("/prices/{sku}")
async def set_price(sku: str, body: PriceUpdate, conn: Db) -> Price:
    """Change list price, unit cost or MAP (``map_price: null`` removes the MAP)."""
    price_of(conn, sku)
    columns = {"list_price": "list_cents", "unit_cost": "cost_cents", "map_price": "map_cents"}
    changes = {
        columns[name]: (cents(value) if value is not None else None)
        for name, value in body.model_dump().items()
        if name in body.model_fields_set
    }
    if changes.get("list_cents", 0) is None or changes.get("cost_cents", 0) is None:
        raise validation_error("list_price", "list_price and unit_cost cannot be null")
    with transaction(conn):
        for column, value in sorted(changes.items()):
            conn.execute(f"UPDATE prices SET {column} = ? WHERE sku = ?", (value, sku))
        conn.execute("UPDATE prices SET as_of = ? WHERE sku = ?", (clock.iso(clock.now(conn)), sku))
    return price_of(conn, sku)


@router.post("/competitor-prices", status_code=201)
async def add_competitor_price(body: CompetitorPriceRequest, conn: Db) -> Price:
    """Record a competitor price observation."""
    require_sku(conn, body.sku)
    try:
        observed = clock.iso(
            clock.parse_iso(body.observed_at) if body.observed_at else clock.now(conn)
        )
    except ValueError as exc:
        raise validation_error("observed_at", str(exc)) from exc
    slug = body.competitor.lower().replace(" ", "")
    with transaction(conn):
        conn.execute(
            "INSERT INTO competitor_prices (sku, competitor, price_cents, observed_at, url) "
            "VALUES (?, ?, ?, ?, ?)",
            (
                body.sku,
                body.competitor,
                cents(body.price),
                observed,
                f"https://{slug}.example/p/{body.sku.lower()}",
            ),
        )
    return price_of(conn, body.sku)


def _clock_state(conn: sqlite3.Connection) -> ClockState:
    now = clock.now(conn)
    mode = "real" if clock.clock_mode(conn) == "real" else "anchored"
    return ClockState(
        now=clock.iso(now),
        mode=mode,
        local=now.astimezone(clock.RETAILER_TZ).replace(microsecond=0).isoformat(),
    )


@router.get("/clock")
async def get_clock(conn: Db) -> ClockState:
    """The sandbox's current time."""
    return _clock_state(conn)


@router.post("/clock")
async def set_clock(body: ClockRequest, conn: Db) -> ClockState:
    """Set the sandbox's current time; it advances in real time from there."""
    try:
        moment = clock.parse_iso(body.now)
    except ValueError as exc:
        raise validation_error("now", str(exc)) from exc
    with transaction(conn):
        clock.write_clock(conn, real=False, anchor=moment)
    return _clock_state(conn)


@router.post("/reset")
async def reset(request: Request, conn: Db) -> ResetResult:
    """Regenerate the seeded data; clears carts, new orders, keys and faults."""
    spec: clock.ClockSpec = request.app.state.clock_spec
    try:
        with transaction(conn):
            reseed(conn, clock.seed_moment(spec))
            clock.apply_spec(conn, spec)
    except sqlite3.Error as exc:  # pragma: no cover - a locked database
        raise ApiError(503, "reset_failed", str(exc)) from exc
    _faults(request).clear()
    return ResetResult(status="reset", now=clock.iso(clock.now(conn)))
