"""Customers service: profiles with loyalty tier, order ids and past support issues."""

from __future__ import annotations

import sqlite3
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from sandbox.db import get_db
from sandbox.errors import not_found
from sandbox.money import dollars
from sandbox.schemas import Customer, CustomerPage, CustomerSummary, SupportIssue

router = APIRouter(prefix="/customers", tags=["customers"])
Db = Annotated[sqlite3.Connection, Depends(get_db)]


def customer_row(conn: sqlite3.Connection, customer_id: str) -> sqlite3.Row:
    """The customers row; 404 if unknown."""
    row: sqlite3.Row | None = conn.execute(
        "SELECT * FROM customers WHERE customer_id = ?", (customer_id,)
    ).fetchone()
    if row is None:
        raise not_found("customer", customer_id)
    return row


@router.get("")
async def list_customers(
    conn: Db,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> CustomerPage:
    """Customers by id."""
    total = conn.execute("SELECT COUNT(*) FROM customers").fetchone()[0]
    rows = conn.execute(
        "SELECT customer_id, name, region, loyalty_tier FROM customers "
        "ORDER BY customer_id LIMIT ? OFFSET ?",
        (limit, offset),
    )
    return CustomerPage(
        items=[
            CustomerSummary(customer_id=r[0], name=r[1], region=r[2], loyalty_tier=r[3])
            for r in rows
        ],
        total=total,
    )


@router.get("/{customer_id}")
async def get_customer(customer_id: str, conn: Db) -> Customer:
    """One customer with order ids (newest first) and support history."""
    r = customer_row(conn, customer_id)
    orders = conn.execute(
        "SELECT order_id FROM orders WHERE customer_id = ? ORDER BY placed_at DESC",
        (customer_id,),
    )
    issues = conn.execute(
        "SELECT * FROM support_issues WHERE customer_id = ? ORDER BY opened_at DESC",
        (customer_id,),
    )
    return Customer(
        customer_id=r["customer_id"],
        name=r["name"],
        email=r["email"],
        region=r["region"],
        postcode=r["postcode"],
        city=r["city"],
        loyalty_tier=r["loyalty_tier"],
        price_sensitivity=r["price_sensitivity"],
        age_verified=bool(r["age_verified"]),
        member_since=r["member_since"],
        lifetime_spend=dollars(r["lifetime_spend_cents"]),
        order_ids=[o[0] for o in orders],
        support_issues=[
            SupportIssue(
                issue_id=i["issue_id"],
                opened_at=i["opened_at"],
                kind=i["kind"],
                summary=i["summary"],
                resolved=bool(i["resolved"]),
            )
            for i in issues
        ],
    )
