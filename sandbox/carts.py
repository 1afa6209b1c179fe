"""Carts service: lines, promotion codes, line discounts and checkout.

The server computes every total from the pricing service's current list price:
``line_total = quantity x unit_price - line discount``; promotions (codes the
shopper applied, then automatic offers) discount the matching lines' totals, in
order, and only combine when all of them are stackable. Codes take precedence over
automatic offers.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from sandbox import clock
from sandbox.customers import customer_row
from sandbox.db import get_db
from sandbox.errors import ApiError, invalid_state, not_found, validation_error
from sandbox.idempotency import Idempotent, idempotency
from sandbox.inventory import available_by_location, consume_stock
from sandbox.money import dollars, percent_of
from sandbox.orders import load_order
from sandbox.promotions import PricedLine, Rule, all_rules, combinable, rule_for
from sandbox.schemas import (
    Cart,
    CartLine,
    CartRequest,
    CheckoutRequest,
    DiscountRequest,
    LineRequest,
    Order,
    PromotionCodeRequest,
)

router = APIRouter(prefix="/carts", tags=["carts"])
Db = Annotated[sqlite3.Connection, Depends(get_db)]
Idem = Annotated[Idempotent, Depends(idempotency)]
CARD_LAST4 = {"card": "4242", "gift_card": "0005", "paypal": None}


@dataclass(frozen=True)
class PricedCart:
    """A cart with every amount computed, in cents."""

    cart: Cart
    lines: list[tuple[CartLine, int, int]]  # (line, unit cents, line total cents)
    priced: list[PricedLine]
    total_cents: int


def _cart_row(conn: sqlite3.Connection, cart_id: str) -> sqlite3.Row:
    row: sqlite3.Row | None = conn.execute(
        "SELECT * FROM carts WHERE cart_id = ?", (cart_id,)
    ).fetchone()
    if row is None:
        raise not_found("cart", cart_id)
    return row


def _open_cart_row(conn: sqlite3.Connection, cart_id: str) -> sqlite3.Row:
    row = _cart_row(conn, cart_id)
    if row["status"] != "open":
        raise invalid_state(f"cart {cart_id} is {row['status']}")
    return row


def _applied_promotions(
    conn: sqlite3.Connection, cart_id: str, tier: str, lines: list[PricedLine], now: datetime
) -> list[Rule]:
    codes = [
        r[0]
        for r in conn.execute(
            "SELECT code FROM cart_promotions WHERE cart_id = ? ORDER BY seq", (cart_id,)
        )
    ]
    by_code = {rule.code: rule for rule in all_rules(conn)}
    candidates = [by_code[c] for c in codes if c in by_code]
    candidates += [r for r in by_code.values() if r.kind == "automatic"]
    applied: list[Rule] = []
    for rule in candidates:
        if rule.ineligibility(tier, lines, now) is None and combinable(applied, rule):
            applied.append(rule)
    return applied


def price_cart(conn: sqlite3.Connection, cart_id: str) -> PricedCart:
    """The cart with current prices, discounts and promotions applied."""
    row = _cart_row(conn, cart_id)
    tier = customer_row(conn, row["customer_id"])["loyalty_tier"]
    now = clock.now(conn)
    rows = conn.execute(
        "SELECT l.*, p.name, p.category, p.brand, pr.list_cents FROM cart_lines l "
        "JOIN products p ON p.sku = l.sku JOIN prices pr ON pr.sku = l.sku "
        "WHERE l.cart_id = ? ORDER BY l.seq",
        (cart_id,),
    ).fetchall()
    lines: list[tuple[CartLine, int, int]] = []
    priced: list[PricedLine] = []
    line_discounts = 0
    for r in rows:
        gross = r["list_cents"] * r["quantity"]
        off = percent_of(gross, r["discount_percent"])
        line_discounts += off
        line = CartLine(
            sku=r["sku"],
            name=r["name"],
            category=r["category"],
            quantity=r["quantity"],
            unit_price=dollars(r["list_cents"]),
            discount_percent=r["discount_percent"],
            discount_reason=r["discount_reason"],
            line_total=dollars(gross - off),
        )
        lines.append((line, r["list_cents"], gross - off))
        priced.append(PricedLine(r["sku"], r["category"], r["brand"], gross - off))
    applied = _applied_promotions(conn, cart_id, tier, priced, now)
    remaining = sum(p.amount_cents for p in priced)
    promo_off = 0
    for rule in applied:
        off = min(rule.discount_cents(priced), remaining)
        remaining -= off
        promo_off += off
    subtotal = sum(r["list_cents"] * r["quantity"] for r in rows)
    cart = Cart(
        cart_id=cart_id,
        customer_id=row["customer_id"],
        status=row["status"],
        lines=[line for line, _, _ in lines],
        promotions=[rule.code for rule in applied],
        subtotal=dollars(subtotal),
        discount_total=dollars(line_discounts + promo_off),
        total=dollars(remaining),
        updated_at=row["updated_at"],
    )
    return PricedCart(cart=cart, lines=lines, priced=priced, total_cents=remaining)


def _touch(conn: sqlite3.Connection, cart_id: str) -> Cart:
    conn.execute(
        "UPDATE carts SET updated_at = ? WHERE cart_id = ?", (clock.iso(clock.now(conn)), cart_id)
    )
    return price_cart(conn, cart_id).cart


def _open_cart_id(conn: sqlite3.Connection, customer_id: str) -> str | None:
    row = conn.execute(
        "SELECT cart_id FROM carts WHERE customer_id = ? AND status = 'open' "
        "ORDER BY created_at DESC LIMIT 1",
        (customer_id,),
    ).fetchone()
    return str(row[0]) if row else None


@router.get("")
async def get_open_cart(conn: Db, customer_id: Annotated[str, Query()]) -> Cart:
    """The customer's open cart; 404 if there is none."""
    cart_id = _open_cart_id(conn, customer_id)
    if cart_id is None:
        raise not_found("open cart for customer", customer_id)
    return price_cart(conn, cart_id).cart


@router.post("", status_code=201, response_model=Cart)
async def open_cart(body: CartRequest, idem: Idem) -> Response:
    """The customer's open cart, created if there is none."""

    def work(conn: sqlite3.Connection) -> Cart:
        customer_row(conn, body.customer_id)
        cart_id = _open_cart_id(conn, body.customer_id)
        if cart_id is None:
            cart_id = f"CART-{secrets.token_hex(6)}"
            stamp = clock.iso(clock.now(conn))
            conn.execute(
                "INSERT INTO carts VALUES (?, ?, 'open', ?, ?)",
                (cart_id, body.customer_id, stamp, stamp),
            )
        return price_cart(conn, cart_id).cart

    return idem.run(work, status_code=201)


@router.get("/{cart_id}")
async def get_cart(cart_id: str, conn: Db) -> Cart:
    """One cart with server-computed totals."""
    return price_cart(conn, cart_id).cart


def _check_sellable(conn: sqlite3.Connection, sku: str, customer: sqlite3.Row) -> None:
    product = conn.execute(
        "SELECT restricted_regions, age_restricted FROM products WHERE sku = ?", (sku,)
    ).fetchone()
    if product is None:
        raise not_found("SKU", sku)
    if customer["region"] in json.loads(product["restricted_regions"]):
        raise ApiError(
            422,
            "not_eligible",
            f"{sku} cannot be sold to customers in the {customer['region']} region",
        )
    if product["age_restricted"] and not customer["age_verified"]:
        raise ApiError(
            422, "not_eligible", f"{sku} is age-restricted and the customer is not age-verified"
        )


@router.post("/{cart_id}/lines", response_model=Cart)
async def add_line(cart_id: str, body: LineRequest, idem: Idem) -> Response:
    """Add units of a SKU (to the existing line if there is one)."""

    def work(conn: sqlite3.Connection) -> Cart:
        cart = _open_cart_row(conn, cart_id)
        _check_sellable(conn, body.sku, customer_row(conn, cart["customer_id"]))
        existing = conn.execute(
            "SELECT quantity FROM cart_lines WHERE cart_id = ? AND sku = ?", (cart_id, body.sku)
        ).fetchone()
        quantity = body.quantity + (existing[0] if existing else 0)
        available = sum(available_by_location(conn, body.sku, clock.now(conn)).values())
        if quantity > available:
            raise ApiError(
                409,
                "insufficient_stock",
                f"{quantity} x {body.sku} wanted in the cart, {available} available",
            )
        if existing:
            conn.execute(
                "UPDATE cart_lines SET quantity = ? WHERE cart_id = ? AND sku = ?",
                (quantity, cart_id, body.sku),
            )
        else:
            seq = conn.execute(
                "SELECT COALESCE(MAX(seq), 0) + 1 FROM cart_lines WHERE cart_id = ?", (cart_id,)
            ).fetchone()[0]
            conn.execute(
                "INSERT INTO cart_lines VALUES (?, ?, ?, 0, NULL, NULL, ?)",
                (cart_id, body.sku, quantity, seq),
            )
        return _touch(conn, cart_id)

    return idem.run(work)


def _require_line(conn: sqlite3.Connection, cart_id: str, sku: str) -> None:
    if (
        conn.execute(
            "SELECT 1 FROM cart_lines WHERE cart_id = ? AND sku = ?", (cart_id, sku)
        ).fetchone()
        is None
    ):
        raise not_found(f"line of cart {cart_id} for SKU", sku)


@router.delete("/{cart_id}/lines/{sku}", response_model=Cart)
async def remove_line(cart_id: str, sku: str, idem: Idem) -> Response:
    """Remove a line."""

    def work(conn: sqlite3.Connection) -> Cart:
        _open_cart_row(conn, cart_id)
        _require_line(conn, cart_id, sku)
        conn.execute("DELETE FROM cart_lines WHERE cart_id = ? AND sku = ?", (cart_id, sku))
        return _touch(conn, cart_id)

    return idem.run(work)


@router.post("/{cart_id}/promotions", response_model=Cart)
async def apply_promotion(cart_id: str, body: PromotionCodeRequest, idem: Idem) -> Response:
    """Apply a promotion code; 422 ``not_eligible`` with the reason when it cannot apply."""

    def work(conn: sqlite3.Connection) -> Cart:
        row = _open_cart_row(conn, cart_id)
        rule = rule_for(conn, body.code)
        if rule.kind == "automatic":
            raise ApiError(422, "not_eligible", f"{rule.code} is applied automatically")
        codes = [
            r[0]
            for r in conn.execute(
                "SELECT code FROM cart_promotions WHERE cart_id = ? ORDER BY seq", (cart_id,)
            )
        ]
        if rule.code in codes:
            return price_cart(conn, cart_id).cart
        tier = customer_row(conn, row["customer_id"])["loyalty_tier"]
        reason = rule.ineligibility(tier, price_cart(conn, cart_id).priced, clock.now(conn))
        if reason is None and codes:
            others = [rule_for(conn, c) for c in codes]
            if not combinable(others, rule):
                reason = f"{rule.code} cannot be combined with {', '.join(codes)}"
        if reason is not None:
            raise ApiError(422, "not_eligible", reason)
        conn.execute(
            "INSERT INTO cart_promotions VALUES (?, ?, (SELECT COALESCE(MAX(seq), 0) + 1 "
            "FROM cart_promotions WHERE cart_id = ?))",
            (cart_id, rule.code, cart_id),
        )
        return _touch(conn, cart_id)

    return idem.run(work)


@router.post("/{cart_id}/discounts", response_model=Cart)
async def set_discount(cart_id: str, body: DiscountRequest, idem: Idem) -> Response:
    """Set a line's discount percent (policy was checked by Arbiter before this call)."""

    def work(conn: sqlite3.Connection) -> Cart:
        _open_cart_row(conn, cart_id)
        _require_line(conn, cart_id, body.sku)
        if body.reason == "price_match" and not body.competitor:
            raise validation_error("competitor", "required when reason is price_match")
        conn.execute(
            "UPDATE cart_lines SET discount_percent = ?, discount_reason = ?, competitor = ? "
            "WHERE cart_id = ? AND sku = ?",
            (
                body.percent,
                body.reason if body.percent else None,
                body.competitor,
                cart_id,
                body.sku,
            ),
        )
        return _touch(conn, cart_id)

    return idem.run(work)


@router.post("/{cart_id}/checkout", status_code=201, response_model=Order)
async def checkout(cart_id: str, body: CheckoutRequest, idem: Idem) -> Response:
    """Place the order: take stock, capture payment, close the cart."""

    def work(conn: sqlite3.Connection) -> Order:
        row = _open_cart_row(conn, cart_id)
        priced = price_cart(conn, cart_id)
        if not priced.lines:
            raise invalid_state(f"cart {cart_id} is empty")
        customer = customer_row(conn, row["customer_id"])
        now = clock.now(conn)
        last = conn.execute("SELECT MAX(order_id) FROM orders").fetchone()[0]
        order_id = f"O{int(last[1:]) + 1 if last else 100001}"
        for line_no, (line, unit, total) in enumerate(priced.lines, start=1):
            _check_sellable(conn, line.sku, customer)
            consume_stock(conn, line.sku, line.quantity, customer["customer_id"], now)
            conn.execute(
                "INSERT INTO order_lines VALUES (?, ?, ?, ?, ?, ?, ?)",
                (order_id, line_no, line.sku, line.name, line.quantity, unit, total),
            )
        conn.execute(
            "INSERT INTO orders VALUES (?, ?, 'pending', ?, NULL, ?, ?, ?, ?, NULL, NULL, NULL)",
            (
                order_id,
                customer["customer_id"],
                clock.iso(now),
                priced.total_cents,
                priced.total_cents,
                body.payment_method,
                CARD_LAST4[body.payment_method],
            ),
        )
        conn.execute(
            "UPDATE customers SET lifetime_spend_cents = lifetime_spend_cents + ? "
            "WHERE customer_id = ?",
            (priced.total_cents, customer["customer_id"]),
        )
        conn.execute(
            "UPDATE carts SET status = 'checked_out', updated_at = ? WHERE cart_id = ?",
            (clock.iso(now), cart_id),
        )
        return load_order(conn, order_id)

    return idem.run(work, status_code=201)
