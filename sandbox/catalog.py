"""Catalog service: product search with filters, product detail and categories.

Search filters in SQL (category, brand, price range, stock) and in Python (``attr``
and the free-text ``q``), then ranks by a small relevance score: every query word
must appear in the product's name, brand, category, description or attribute
values (plural ``s`` ignored); name and brand hits weigh more. When no product
matches every word, products matching any word are returned instead.
"""

from __future__ import annotations

import json
import re
import sqlite3
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from sandbox import clock
from sandbox.db import get_db
from sandbox.errors import not_found, validation_error
from sandbox.money import cents, dollars
from sandbox.schemas import CategoryCount, Product, ProductPage, ProductSummary

router = APIRouter(prefix="/catalog", tags=["catalog"])
Db = Annotated[sqlite3.Connection, Depends(get_db)]

_STOPWORDS = frozenset(
    {
        "a",
        "an",
        "and",
        "the",
        "for",
        "with",
        "of",
        "in",
        "on",
        "to",
        "or",
        "i",
        "me",
        "my",
        "need",
        "want",
        "under",
        "over",
        "below",
        "above",
        "some",
        "that",
        "can",
        "pick",
        "up",
        "today",
        "size",
    }
)
_WORD = re.compile(r"[a-z0-9]+(?:\.[0-9]+)?")


def _norm(word: str) -> str:
    return word[:-1] if len(word) > 3 and word.endswith("s") else word


def _words(text: str) -> set[str]:
    return {_norm(w) for w in _WORD.findall(text.lower())}


def _score(terms: list[str], row: sqlite3.Row) -> tuple[int, int]:
    """(terms matched, weighted score) of one product."""
    strong = _words(row["name"]) | _words(row["brand"])
    category, everything = _words(row["category"]), _words(row["search_text"])
    found = [t for t in terms if t in everything]  # search_text holds name, brand, category
    score = sum(3 if t in strong else 2 if t in category else 1 for t in found)
    return len(found), score


def summary(row: sqlite3.Row) -> ProductSummary:
    """A products row joined with its list price, as a ProductSummary."""
    return ProductSummary(
        sku=row["sku"],
        product_id=row["product_id"],
        name=row["name"],
        brand=row["brand"],
        category=row["category"],
        list_price=dollars(row["list_cents"]),
        attributes=json.loads(row["attributes"]),
        rating=row["rating"],
    )


def _parse_attrs(attr: list[str]) -> list[tuple[str, str]]:
    pairs = []
    for item in attr:
        key, sep, value = item.partition(":")
        if not sep or not key.strip() or not value.strip():
            raise validation_error("attr", f"expected key:value, got {item!r}")
        pairs.append((key.strip().lower(), value.strip().lower()))
    return pairs


def _attrs_match(attributes: dict[str, str], pairs: list[tuple[str, str]]) -> bool:
    for key, value in pairs:
        have = attributes.get(key)
        if have is None or value not in {v.strip().lower() for v in have.split(",")}:
            return False
    return True


@router.get("/products")
async def search_products(
    conn: Db,
    q: Annotated[str | None, Query(max_length=200, description="Free text.")] = None,
    category: str | None = None,
    brand: str | None = None,
    min_price: Annotated[float | None, Query(ge=0)] = None,
    max_price: Annotated[float | None, Query(ge=0)] = None,
    attr: Annotated[list[str] | None, Query(description="Repeatable key:value.")] = None,
    in_stock: bool | None = None,
    limit: Annotated[int, Query(ge=1, le=50)] = 10,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> ProductPage:
    """Search the catalog; ordered by relevance, then SKU."""
    pairs = _parse_attrs(attr or [])
    where: list[str] = ["1 = 1"]
    params: list[str | int] = []
    if category:
        where.append("p.category = ?")
        params.append(category)
    if brand:
        where.append("lower(p.brand) = lower(?)")
        params.append(brand)
    if min_price is not None:
        where.append("pr.list_cents >= ?")
        params.append(cents(min_price))
    if max_price is not None:
        where.append("pr.list_cents <= ?")
        params.append(cents(max_price))
    if in_stock is not None:
        # Correlated per candidate row: only the SKUs the other filters kept are summed.
        where.append(
            f"{'' if in_stock else 'NOT '}("
            "(SELECT COALESCE(SUM(s.on_hand), 0) FROM stock s WHERE s.sku = p.sku) - "
            "(SELECT COALESCE(SUM(r.quantity), 0) FROM reservations r WHERE "
            "r.sku = p.sku AND r.status = 'active' AND r.expires_at > ?) > 0)"
        )
        params.append(clock.iso(clock.now(conn)))
    rows = conn.execute(
        "SELECT p.*, pr.list_cents FROM products p JOIN prices pr ON pr.sku = p.sku "
        f"WHERE {' AND '.join(where)} ORDER BY p.sku",
        params,
    ).fetchall()
    rows = [r for r in rows if _attrs_match(json.loads(r["attributes"]), pairs)]
    terms = [t for t in (_norm(w) for w in _WORD.findall((q or "").lower())) if t not in _STOPWORDS]
    if terms:
        scored = [(_score(terms, r), r) for r in rows]
        hits = [(s, r) for (m, s), r in scored if m == len(terms)]
        if not hits:
            hits = [(s, r) for (m, s), r in scored if m > 0]
        hits.sort(key=lambda hit: (-hit[0], hit[1]["sku"]))
        rows = [r for _, r in hits]
    return ProductPage(items=[summary(r) for r in rows[offset : offset + limit]], total=len(rows))


@router.get("/products/{sku}")
async def get_product(sku: str, conn: Db) -> Product:
    """One SKU with description, restrictions and related SKUs."""
    row = conn.execute(
        "SELECT p.*, pr.list_cents FROM products p JOIN prices pr ON pr.sku = p.sku "
        "WHERE p.sku = ?",
        (sku,),
    ).fetchone()
    if row is None:
        raise not_found("SKU", sku)
    return Product(
        **summary(row).model_dump(),
        description=row["description"],
        restricted_regions=json.loads(row["restricted_regions"]),
        age_restricted=bool(row["age_restricted"]),
        related_skus=json.loads(row["related_skus"]),
    )


@router.get("/categories")
async def list_categories(conn: Db) -> list[CategoryCount]:
    """Categories with their SKU counts."""
    rows = conn.execute(
        "SELECT category, COUNT(*) AS n FROM products GROUP BY category ORDER BY category"
    )
    return [CategoryCount(category=r["category"], count=r["n"]) for r in rows]
