"""Pricing service: list price, unit cost, MAP and observed competitor prices."""

from __future__ import annotations

import sqlite3
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from sandbox import clock
from sandbox.db import get_db
from sandbox.errors import not_found
from sandbox.money import dollars
from sandbox.schemas import CompetitorPrice, Price, PriceList

router = APIRouter(prefix="/pricing", tags=["pricing"])
Db = Annotated[sqlite3.Connection, Depends(get_db)]


def prices_for(conn: sqlite3.Connection, skus: list[str]) -> list[Price]:
    """Prices of the known SKUs among ``skus``, in the order asked."""
    marks = ",".join("?" * len(skus))
    rows = {r["sku"]: r for r in conn.execute(f"SELECT * FROM prices WHERE sku IN ({marks})", skus)}
    observed: dict[str, list[CompetitorPrice]] = {}
    for r in conn.execute(
        f"SELECT * FROM competitor_prices WHERE sku IN ({marks}) "
        "ORDER BY observed_at DESC, competitor",
        skus,
    ):
        observed.setdefault(r["sku"], []).append(
            CompetitorPrice(
                competitor=r["competitor"],
                price=dollars(r["price_cents"]),
                observed_at=r["observed_at"],
                url=r["url"],
            )
        )
    now = clock.iso(clock.now(conn))
    result = []
    for sku in dict.fromkeys(skus):
        row = rows.get(sku)
        if row is None:
            continue
        result.append(
            Price(
                sku=sku,
                list_price=dollars(row["list_cents"]),
                unit_cost=dollars(row["cost_cents"]),
                map_price=dollars(row["map_cents"]) if row["map_cents"] is not None else None,
                as_of=now,
                updated_at=row["as_of"],
                competitor_prices=observed.get(sku, []),
            )
        )
    return result


def price_of(conn: sqlite3.Connection, sku: str) -> Price:
    """The price of one SKU; 404 if unknown."""
    found = prices_for(conn, [sku])
    if not found:
        raise not_found("SKU", sku)
    return found[0]


@router.get("/prices/{sku}")
async def get_price(sku: str, conn: Db) -> Price:
    """Price of one SKU."""
    return price_of(conn, sku)


@router.get("/prices")
async def get_prices(
    conn: Db,
    skus: Annotated[str, Query(min_length=1, description="Comma-separated SKUs.")],
) -> PriceList:
    """Prices of several SKUs; unknown SKUs are omitted."""
    wanted = [s.strip() for s in skus.split(",") if s.strip()][:200]
    return PriceList(items=prices_for(conn, wanted) if wanted else [])
