"""Fulfillment service: delivery and pickup options computed from stock, and promises.

Options are computed on every request from available stock per location, the
location's local time and cut-offs, and the remaining daily capacity:

- ``store_pickup`` from each pickup store in the region: ready about two hours
  after now (on the hour) before the store's cut-off, else 10:00 the next day;
- ``same_day`` from the region's fulfillment center and stores: delivered by 21:00
  local if ordered before the location's same-day cut-off;
- ``next_day`` from the region's fulfillment center (order by 18:00 local);
- ``standard`` from the region's fulfillment center, else another that has stock
  (3 days in region, 5 from elsewhere; order by 17:00 local).

Capacity is counted per (kind, location, local day of ``ready_by``); a promise uses
one unit. ``option_id`` hashes (kind, location, ready_by), so it is stable while
the window is.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import sqlite3
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Query, Response

from sandbox import clock
from sandbox.db import get_db
from sandbox.errors import invalid_state, not_found, validation_error
from sandbox.idempotency import Idempotent, idempotency
from sandbox.inventory import available_by_location, require_sku
from sandbox.schemas import (
    DeliveryOption,
    FulfillmentKind,
    FulfillmentOptions,
    Promise,
    PromiseRequest,
)

router = APIRouter(prefix="/fulfillment", tags=["fulfillment"])
Db = Annotated[sqlite3.Connection, Depends(get_db)]
Idem = Annotated[Idempotent, Depends(idempotency)]

REGIONS = ("west", "central", "east")
PRICES = {"same_day": 12.99, "next_day": 7.99, "standard": 4.99, "store_pickup": 0.0}
NEXT_DAY_CUTOFF = time(18, 0)
STANDARD_CUTOFF = time(17, 0)
DELIVERY_BY = time(21, 0)
PICKUP_NEXT_DAY = time(10, 0)


def region_for_postcode(postcode: str) -> str:
    """Region of a US ZIP code by its first digit (0-3 east, 4-7 central, 8-9 west)."""
    first = postcode.strip()[:1]
    if not first.isdigit():
        raise validation_error("postcode", f"not a US ZIP code: {postcode!r}")
    return "east" if first in "0123" else "central" if first in "4567" else "west"


@dataclass(frozen=True)
class _Loc:
    location_id: str
    name: str
    kind: str
    region: str
    pickup: bool
    pickup_cutoff: str | None
    same_day_cutoff: str | None
    tz: ZoneInfo
    postcode: str


def _at(day: date, hhmm: time | str, tz: ZoneInfo) -> datetime:
    moment = hhmm if isinstance(hhmm, time) else time.fromisoformat(hhmm)
    return datetime.combine(day, moment, tzinfo=tz)


def _local_iso(moment: datetime, loc: _Loc) -> str:
    """Times a shopper is told are in the location's own time zone (offset included)."""
    return moment.astimezone(loc.tz).replace(microsecond=0).isoformat()


def option_id(kind: str, location_id: str, ready_by: str) -> str:
    """Stable id of a window."""
    digest = hashlib.sha256(f"{kind}|{location_id}|{ready_by}".encode()).hexdigest()
    return f"OPT-{digest[:12]}"


class _Planner:
    def __init__(self, conn: sqlite3.Connection, sku: str, quantity: int, now: datetime) -> None:
        self.conn = conn
        self.sku = sku
        self.quantity = quantity
        self.now = now
        self.available = available_by_location(conn, sku, now)
        self.limits: dict[tuple[str, str], int] = {
            (r[0], r[1]): r[2] for r in conn.execute("SELECT * FROM capacity")
        }
        self.locations = [
            _Loc(
                r["location_id"],
                r["name"],
                r["kind"],
                r["region"],
                bool(r["pickup"]),
                r["pickup_cutoff_local"],
                r["same_day_cutoff_local"],
                ZoneInfo(r["timezone"]),
                r["postcode"],
            )
            for r in conn.execute("SELECT * FROM locations ORDER BY kind, location_id")
        ]

    def remaining(self, kind: str, loc: _Loc, ready: datetime) -> int:
        day = ready.astimezone(loc.tz).date().isoformat()
        row = self.conn.execute(
            "SELECT used FROM capacity_used WHERE kind = ? AND location_id = ? AND day = ?",
            (kind, loc.location_id, day),
        ).fetchone()
        used: int = row[0] if row else 0
        return max(0, self.limits.get((kind, loc.location_id), 0) - used)

    def option(
        self,
        kind: FulfillmentKind,
        loc: _Loc,
        ready: datetime,
        cutoff: datetime,
        blocker: str | None,
    ) -> DeliveryOption:
        capacity = self.remaining(kind, loc, ready)
        have = self.available.get(loc.location_id, 0)
        reason = blocker
        if reason is None and have < self.quantity:
            reason = (
                f"out of stock at {loc.location_id}"
                if have == 0
                else f"only {have} available at {loc.location_id}"
            )
        if reason is None and capacity == 0:
            reason = f"no {kind} capacity left at {loc.location_id} for that day"
        ready_iso = clock.iso(ready)
        return DeliveryOption(
            option_id=option_id(kind, loc.location_id, ready_iso),
            kind=kind,
            location_id=loc.location_id,
            location_name=loc.name,
            available=reason is None,
            reason=reason,
            ready_by=_local_iso(ready, loc),
            cutoff=_local_iso(cutoff, loc),
            price=PRICES[kind],
            capacity_remaining=capacity,
            ready_today=ready.astimezone(loc.tz).date() == self.now.astimezone(loc.tz).date(),
        )

    def pickup(self, loc: _Loc) -> DeliveryOption:
        local = self.now.astimezone(loc.tz)
        cutoff = _at(local.date(), loc.pickup_cutoff or "20:00", loc.tz)
        if local < cutoff:
            soon = local + timedelta(hours=2)
            on_the_hour = soon.replace(minute=0, second=0, microsecond=0)
            if on_the_hour < soon:
                on_the_hour += timedelta(hours=1)
            ready = min(on_the_hour, cutoff + timedelta(hours=1))
        else:
            tomorrow = local.date() + timedelta(days=1)
            ready = _at(tomorrow, PICKUP_NEXT_DAY, loc.tz)
            cutoff = _at(tomorrow, "08:00", loc.tz)
        return self.option("store_pickup", loc, ready, cutoff, None)

    def same_day(self, loc: _Loc) -> DeliveryOption:
        local = self.now.astimezone(loc.tz)
        cutoff = _at(local.date(), loc.same_day_cutoff or "12:00", loc.tz)
        blocker = None
        if local >= cutoff:
            blocker = f"past the {loc.same_day_cutoff} same-day cut-off at {loc.location_id}"
        return self.option("same_day", loc, _at(local.date(), DELIVERY_BY, loc.tz), cutoff, blocker)

    def dated(self, kind: FulfillmentKind, loc: _Loc, order_by: time, days: int) -> DeliveryOption:
        local = self.now.astimezone(loc.tz)
        cutoff = _at(local.date(), order_by, loc.tz)
        if local >= cutoff:
            cutoff += timedelta(days=1)
        ready = _at(cutoff.date() + timedelta(days=days), DELIVERY_BY, loc.tz)
        return self.option(kind, loc, ready, cutoff, None)

    def plan(
        self, region: str, restricted: list[str], postcode: str | None = None
    ) -> list[DeliveryOption]:
        stores = [x for x in self.locations if x.kind == "store" and x.region == region]
        if postcode:
            # nearest first: a longer shared ZIP prefix stands in for distance
            stores.sort(key=lambda x: -len(os.path.commonprefix([x.postcode, postcode])))
        centers = [x for x in self.locations if x.kind == "fulfillment_center"]
        home = next(x for x in centers if x.region == region)
        options = [self.pickup(x) for x in stores if x.pickup]
        options += [self.same_day(x) for x in [home, *stores]]
        options.append(self.dated("next_day", home, NEXT_DAY_CUTOFF, 1))
        source = home
        if self.available.get(home.location_id, 0) < self.quantity:
            source = next(
                (x for x in centers if self.available.get(x.location_id, 0) >= self.quantity), home
            )
        days = 3 if source.region == region else 5
        options.append(self.dated("standard", source, STANDARD_CUTOFF, days))
        if region in restricted:
            note = f"{self.sku} cannot be shipped to or picked up in the {region} region"
            options = [o.model_copy(update={"available": False, "reason": note}) for o in options]
        return options


def _restricted(conn: sqlite3.Connection, sku: str) -> list[str]:
    row = conn.execute("SELECT restricted_regions FROM products WHERE sku = ?", (sku,)).fetchone()
    if row is None:
        raise not_found("SKU", sku)
    regions: list[str] = json.loads(row[0])
    return regions


def compute_options(
    conn: sqlite3.Connection,
    sku: str,
    quantity: int,
    region: str,
    now: datetime,
    postcode: str | None = None,
) -> list[DeliveryOption]:
    """Every option for ``quantity`` x ``sku`` delivered to / picked up in ``region``.

    Stores nearest the postcode come first when one is given.
    """
    restricted = _restricted(conn, sku)
    return _Planner(conn, sku, quantity, now).plan(region, restricted, postcode)


@router.get("/options")
async def get_options(
    conn: Db,
    sku: str,
    quantity: Annotated[int, Query(ge=1, le=100)] = 1,
    region: str | None = None,
    postcode: str | None = None,
) -> FulfillmentOptions:
    """Delivery and pickup options for a SKU in a region (or the region of a postcode)."""
    if region is None and postcode is None:
        raise validation_error("region", "region or postcode is required")
    resolved = region if region is not None else region_for_postcode(postcode or "")
    if resolved not in REGIONS:
        raise validation_error("region", f"unknown region {resolved!r}; one of {REGIONS}")
    require_sku(conn, sku)
    now = clock.now(conn)
    return FulfillmentOptions(
        sku=sku,
        region=resolved,
        as_of=clock.iso(now),
        options=compute_options(conn, sku, quantity, resolved, now, postcode),
    )


@router.post("/promises", status_code=201, response_model=Promise)
async def create_promise(body: PromiseRequest, idem: Idem) -> Response:
    """Commit to an option still offered now, using one unit of its capacity."""

    def work(conn: sqlite3.Connection) -> Promise:
        row = conn.execute(
            "SELECT region FROM customers WHERE customer_id = ?", (body.customer_id,)
        ).fetchone()
        if row is None:
            raise not_found("customer", body.customer_id)
        require_sku(conn, body.sku)
        now = clock.now(conn)
        options = compute_options(conn, body.sku, body.quantity, row[0], now)
        chosen = next((o for o in options if o.option_id == body.option_id), None)
        if chosen is None:
            raise invalid_state(f"option {body.option_id} is no longer offered")
        if not chosen.available:
            raise invalid_state(f"option {body.option_id} is not available: {chosen.reason}")
        tz = ZoneInfo(
            conn.execute(
                "SELECT timezone FROM locations WHERE location_id = ?", (chosen.location_id,)
            ).fetchone()[0]
        )
        day = clock.parse_iso(chosen.ready_by).astimezone(tz).date().isoformat()
        conn.execute(
            "INSERT INTO capacity_used VALUES (?, ?, ?, 1) ON CONFLICT (kind, location_id, day) "
            "DO UPDATE SET used = used + 1",
            (chosen.kind, chosen.location_id, day),
        )
        promise = Promise(
            promise_id=f"PRM-{secrets.token_hex(6)}",
            option_id=chosen.option_id,
            kind=chosen.kind,
            location_id=chosen.location_id,
            ready_by=chosen.ready_by,
            customer_id=body.customer_id,
            sku=body.sku,
            quantity=body.quantity,
        )
        conn.execute(
            "INSERT INTO promises VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                promise.promise_id,
                promise.option_id,
                promise.kind,
                promise.location_id,
                promise.ready_by,
                promise.customer_id,
                promise.sku,
                promise.quantity,
                clock.iso(now),
            ),
        )
        return promise

    return idem.run(work, status_code=201)
