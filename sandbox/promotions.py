"""Promotions service and the eligibility rules carts apply.

A promotion applies to the cart lines matching its categories/brands (all lines
when neither is set). It is eligible when valid now, the customer's tier is
allowed, at least one line matches, and the matching lines reach ``min_spend``.
Two promotions combine only if both are ``stackable``.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends

from sandbox import clock
from sandbox.db import get_db
from sandbox.errors import not_found
from sandbox.money import dollars, percent_of
from sandbox.schemas import Eligibility, Promotion, PromotionList, Tier

router = APIRouter(prefix="/promotions", tags=["promotions"])
Db = Annotated[sqlite3.Connection, Depends(get_db)]


@dataclass(frozen=True)
class PricedLine:
    """What eligibility needs to know about a cart line."""

    sku: str
    category: str
    brand: str
    amount_cents: int  # after the line's own discount


@dataclass(frozen=True)
class Rule:
    """A promotion row in usable form."""

    code: str
    kind: Literal["code", "automatic"]
    description: str
    discount_type: Literal["percent", "amount"]
    value: float
    categories: list[str] | None
    brands: list[str] | None
    tiers: list[Tier] | None
    min_spend_cents: int | None
    stackable: bool
    valid_from: str
    valid_to: str

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> Rule:
        def opt(col: str) -> list[Any] | None:
            return json.loads(row[col]) if row[col] is not None else None

        return cls(
            code=row["code"],
            kind=row["kind"],
            description=row["description"],
            discount_type=row["discount_type"],
            value=row["value"],
            categories=opt("categories"),
            brands=opt("brands"),
            tiers=opt("tiers"),
            min_spend_cents=row["min_spend_cents"],
            stackable=bool(row["stackable"]),
            valid_from=row["valid_from"],
            valid_to=row["valid_to"],
        )

    def active(self, now: datetime) -> bool:
        """Inside the validity window."""
        return self.valid_from <= clock.iso(now) <= self.valid_to

    def matches(self, line: PricedLine) -> bool:
        """The line is in the promotion's categories and brands."""
        return (self.categories is None or line.category in self.categories) and (
            self.brands is None or line.brand in self.brands
        )

    def eligible_cents(self, lines: list[PricedLine]) -> int:
        """Spend on the matching lines."""
        return sum(line.amount_cents for line in lines if self.matches(line))

    def discount_cents(self, lines: list[PricedLine]) -> int:
        """The discount this promotion gives on ``lines`` (not capped by other offers)."""
        base = self.eligible_cents(lines)
        if self.discount_type == "percent":
            return percent_of(base, self.value)
        return min(round(self.value * 100), base)

    def ineligibility(self, tier: str, lines: list[PricedLine], now: datetime) -> str | None:
        """Why the promotion does not apply, or None if it does (stacking aside)."""
        stamp = clock.iso(now)
        if stamp < self.valid_from:
            return f"{self.code} is not valid until {self.valid_from}"
        if stamp > self.valid_to:
            return f"{self.code} expired on {self.valid_to}"
        if self.tiers is not None and tier not in self.tiers:
            return f"{self.code} is for {', '.join(self.tiers)} members; customer is {tier}"
        if not any(self.matches(line) for line in lines):
            scope = ", ".join((self.categories or []) + (self.brands or []))
            return f"{self.code} applies only to {scope}; no such item in the cart"
        spend = self.eligible_cents(lines)
        if self.min_spend_cents is not None and spend < self.min_spend_cents:
            return (
                f"{self.code} needs a minimum spend of {dollars(self.min_spend_cents):.2f}"
                f" on eligible items; cart has {dollars(spend):.2f}"
            )
        return None

    def model(self, now: datetime) -> Promotion:
        """As the API model."""
        return Promotion(
            code=self.code,
            kind=self.kind,
            description=self.description,
            discount_type=self.discount_type,
            value=self.value,
            eligibility=Eligibility(
                categories=self.categories,
                brands=self.brands,
                tiers=self.tiers,
                min_spend=dollars(self.min_spend_cents) if self.min_spend_cents else None,
            ),
            stackable=self.stackable,
            valid_from=self.valid_from,
            valid_to=self.valid_to,
            active=self.active(now),
        )


def all_rules(conn: sqlite3.Connection) -> list[Rule]:
    """Every promotion, by code."""
    return [Rule.from_row(r) for r in conn.execute("SELECT * FROM promotions ORDER BY code")]


def rule_for(conn: sqlite3.Connection, code: str) -> Rule:
    """One promotion; 404 if unknown."""
    row = conn.execute("SELECT * FROM promotions WHERE code = ?", (code.upper(),)).fetchone()
    if row is None:
        raise not_found("promotion", code)
    return Rule.from_row(row)


def combinable(applied: list[Rule], rule: Rule) -> bool:
    """``rule`` may join the promotions already applied."""
    return not applied or (rule.stackable and all(r.stackable for r in applied))


@router.get("")
async def list_promotions(
    conn: Db,
    category: str | None = None,
    customer_id: str | None = None,
    active_only: bool = True,
) -> PromotionList:
    """Promotions, optionally only those a category or a customer's tier can use."""
    now = clock.now(conn)
    tier = None
    if customer_id is not None:
        row = conn.execute(
            "SELECT loyalty_tier FROM customers WHERE customer_id = ?", (customer_id,)
        ).fetchone()
        if row is None:
            raise not_found("customer", customer_id)
        tier = row[0]
    items = [
        rule.model(now)
        for rule in all_rules(conn)
        if (not active_only or rule.active(now))
        and (category is None or rule.categories is None or category in rule.categories)
        and (tier is None or rule.tiers is None or tier in rule.tiers)
    ]
    return PromotionList(items=items)


@router.get("/{code}")
async def get_promotion(code: str, conn: Db) -> Promotion:
    """One promotion by code."""
    return rule_for(conn, code).model(clock.now(conn))
