"""Orders service: order status, refunds, returns and cancellation.

``refundable_amount = paid - refunded_total`` (0 for cancelled orders). Returns are
authorized only for delivered orders inside the 30-day window; cancelling is
allowed while pending or processing and refunds whatever was paid.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
from datetime import datetime, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Response

from sandbox import clock
from sandbox.db import get_db
from sandbox.errors import invalid_state, not_found, validation_error
from sandbox.idempotency import Idempotent, idempotency
from sandbox.money import cents, dollars
from sandbox.schemas import (
    CancelRequest,
    Order,
    OrderLine,
    OrderSummary,
    OrderSummaryList,
    PaymentMethod,
    Refund,
    RefundRequest,
    ReturnAuthorization,
    ReturnRequest,
    Tracking,
)

router = APIRouter(prefix="/orders", tags=["orders"])
Db = Annotated[sqlite3.Connection, Depends(get_db)]
Idem = Annotated[Idempotent, Depends(idempotency)]
RETURN_WINDOW = timedelta(days=30)


def _order_row(conn: sqlite3.Connection, order_id: str) -> sqlite3.Row:
    row: sqlite3.Row | None = conn.execute(
        "SELECT * FROM orders WHERE order_id = ?", (order_id,)
    ).fetchone()
    if row is None:
        raise not_found("order", order_id)
    return row


def _refunded_cents(conn: sqlite3.Connection, order_id: str) -> int:
    row = conn.execute(
        "SELECT COALESCE(SUM(amount_cents), 0) FROM refunds WHERE order_id = ?", (order_id,)
    ).fetchone()
    refunded: int = row[0]
    return refunded


def _refundable_cents(conn: sqlite3.Connection, row: sqlite3.Row) -> int:
    if row["status"] == "cancelled":
        return 0
    paid: int = row["paid_cents"]
    return max(0, paid - _refunded_cents(conn, row["order_id"]))


def load_order(conn: sqlite3.Connection, order_id: str) -> Order:
    """The full order."""
    row = _order_row(conn, order_id)
    lines = conn.execute(
        "SELECT * FROM order_lines WHERE order_id = ? ORDER BY line_no", (order_id,)
    ).fetchall()
    refunds = conn.execute(
        "SELECT * FROM refunds WHERE order_id = ? ORDER BY created_at, refund_id", (order_id,)
    ).fetchall()
    delivered = row["delivered_at"]
    window_ends = (
        clock.iso(clock.parse_iso(delivered) + RETURN_WINDOW) if delivered is not None else None
    )
    tracking = None
    if row["tracking_carrier"] is not None:
        tracking = Tracking(
            carrier=row["tracking_carrier"], number=row["tracking_number"], eta=row["tracking_eta"]
        )
    return Order(
        order_id=order_id,
        customer_id=row["customer_id"],
        status=row["status"],
        placed_at=row["placed_at"],
        delivered_at=delivered,
        lines=[
            OrderLine(
                sku=x["sku"],
                name=x["name"],
                quantity=x["quantity"],
                unit_price=dollars(x["unit_cents"]),
                line_total=dollars(x["line_total_cents"]),
            )
            for x in lines
        ],
        total=dollars(row["total_cents"]),
        paid=dollars(row["paid_cents"]),
        payment_method=PaymentMethod(kind=row["payment_kind"], last4=row["payment_last4"]),
        refunds=[
            Refund(
                refund_id=x["refund_id"],
                amount=dollars(x["amount_cents"]),
                method=x["method"],
                reason=x["reason"],
                created_at=x["created_at"],
            )
            for x in refunds
        ],
        refunded_total=dollars(sum(x["amount_cents"] for x in refunds)),
        refundable_amount=dollars(_refundable_cents(conn, row)),
        return_window_ends=window_ends,
        returned_skus=returned_skus(conn, order_id),
        tracking=tracking,
        as_of=clock.iso(clock.now(conn)),
    )


def returned_skus(conn: sqlite3.Connection, order_id: str) -> list[str]:
    """SKUs of the order that already have an authorized return."""
    already: set[str] = set()
    for row in conn.execute("SELECT skus FROM returns WHERE order_id = ?", (order_id,)):
        already.update(json.loads(row[0]))
    return sorted(already)


def add_refund(
    conn: sqlite3.Connection,
    order_id: str,
    amount_cents: int,
    method: Literal["original", "gift_card"],
    reason: str,
    now: datetime,
) -> Refund:
    """Record a refund (caller owns the transaction and has checked the amount)."""
    refund = Refund(
        refund_id=f"RF-{secrets.token_hex(6)}",
        amount=dollars(amount_cents),
        method=method,
        reason=reason,
        created_at=clock.iso(now),
    )
    conn.execute(
        "INSERT INTO refunds VALUES (?, ?, ?, ?, ?, ?)",
        (refund.refund_id, order_id, amount_cents, method, reason, refund.created_at),
    )
    return refund


@router.get("")
async def list_orders(conn: Db, customer_id: str) -> OrderSummaryList:
    """A customer's orders, newest first."""
    rows = conn.execute(
        "SELECT order_id, status, placed_at, total_cents FROM orders WHERE customer_id = ? "
        "ORDER BY placed_at DESC",
        (customer_id,),
    )
    return OrderSummaryList(
        items=[
            OrderSummary(order_id=r[0], status=r[1], placed_at=r[2], total=dollars(r[3]))
            for r in rows
        ]
    )


@router.get("/{order_id}")
async def get_order(order_id: str, conn: Db) -> Order:
    """One order with lines, payment, refunds and tracking."""
    return load_order(conn, order_id)


@router.post("/{order_id}/refunds", status_code=201, response_model=Refund)
async def create_refund(order_id: str, body: RefundRequest, idem: Idem) -> Response:
    """Refund part or all of what was paid."""

    def work(conn: sqlite3.Connection) -> Refund:
        row = _order_row(conn, order_id)
        if row["status"] == "cancelled":
            raise invalid_state(f"order {order_id} is cancelled")
        if row["paid_cents"] == 0:
            raise invalid_state(f"order {order_id} has not been paid")
        amount = cents(body.amount)
        refundable = _refundable_cents(conn, row)
        if amount > refundable:
            raise validation_error(
                "amount",
                f"{body.amount:.2f} exceeds the refundable amount "
                f"{dollars(refundable):.2f} of order {order_id}",
            )
        return add_refund(conn, order_id, amount, body.method, body.reason, clock.now(conn))

    return idem.run(work, status_code=201)


@router.post("/{order_id}/returns", status_code=201, response_model=ReturnAuthorization)
async def create_return(order_id: str, body: ReturnRequest, idem: Idem) -> Response:
    """Authorize a return of some of the order's SKUs and issue a label."""

    def work(conn: sqlite3.Connection) -> ReturnAuthorization:
        order = load_order(conn, order_id)
        now = clock.now(conn)
        if order.status != "delivered" or order.return_window_ends is None:
            raise invalid_state(
                f"order {order_id} is {order.status}; only delivered orders can be returned"
            )
        if clock.iso(now) > order.return_window_ends:
            raise invalid_state(
                f"the return window of order {order_id} ended on {order.return_window_ends}"
            )
        ordered = {line.sku for line in order.lines}
        unknown = sorted(set(body.skus) - ordered)
        if unknown:
            raise validation_error("skus", f"not in order {order_id}: {', '.join(unknown)}")
        repeated = sorted(set(body.skus) & set(returned_skus(conn, order_id)))
        if repeated:
            raise invalid_state(f"a return is already authorized for {', '.join(repeated)}")
        return_id = f"RMA-{secrets.token_hex(6)}"
        skus = sorted(set(body.skus))
        auth = ReturnAuthorization(
            return_id=return_id,
            order_id=order_id,
            skus=skus,
            status="authorized",
            label_url=f"https://returns.sandbox.example/labels/{return_id}.pdf",
        )
        conn.execute(
            "INSERT INTO returns VALUES (?, ?, ?, ?, 'authorized', ?, ?)",
            (return_id, order_id, json.dumps(skus), body.reason, auth.label_url, clock.iso(now)),
        )
        return auth

    return idem.run(work, status_code=201)


@router.post("/{order_id}/cancel", response_model=Order)
async def cancel_order(order_id: str, body: CancelRequest, idem: Idem) -> Response:
    """Cancel a pending or processing order, refunding what was paid."""

    def work(conn: sqlite3.Connection) -> Order:
        row = _order_row(conn, order_id)
        if row["status"] not in ("pending", "processing"):
            raise invalid_state(
                f"order {order_id} is {row['status']}; only pending or "
                "processing orders can be cancelled"
            )
        refundable = _refundable_cents(conn, row)
        if refundable > 0:
            add_refund(
                conn,
                order_id,
                refundable,
                "original",
                f"order cancelled: {body.reason}",
                clock.now(conn),
            )
        conn.execute("UPDATE orders SET status = 'cancelled' WHERE order_id = ?", (order_id,))
        return load_order(conn, order_id)

    return idem.run(work)
