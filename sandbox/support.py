"""Support service: tickets, routed to a queue by priority and subject."""

from __future__ import annotations

import sqlite3
from typing import Annotated

from fastapi import APIRouter, Depends, Response

from sandbox import clock
from sandbox.customers import customer_row
from sandbox.db import get_db
from sandbox.errors import not_found
from sandbox.idempotency import Idempotent, idempotency
from sandbox.schemas import Ticket, TicketCreated, TicketRequest

router = APIRouter(prefix="/support", tags=["support"])
Db = Annotated[sqlite3.Connection, Depends(get_db)]
Idem = Annotated[Idempotent, Depends(idempotency)]

_BILLING_WORDS = ("refund", "charge", "charged", "payment", "billing", "invoice")


def queue_for(body: TicketRequest) -> str:
    """The team a ticket goes to: escalations, billing, orders or general."""
    if body.priority == "urgent":
        return "escalations"
    if any(word in body.summary.lower() for word in _BILLING_WORDS):
        return "billing"
    return "orders" if body.order_id else "general"


def _ticket(conn: sqlite3.Connection, ticket_id: str) -> Ticket:
    row = conn.execute("SELECT * FROM tickets WHERE ticket_id = ?", (ticket_id,)).fetchone()
    if row is None:
        raise not_found("ticket", ticket_id)
    return Ticket(**dict(row))


@router.post("/tickets", status_code=201, response_model=TicketCreated)
async def create_ticket(body: TicketRequest, idem: Idem) -> Response:
    """Open a ticket for a customer (optionally about one of their orders)."""

    def work(conn: sqlite3.Connection) -> TicketCreated:
        customer_row(conn, body.customer_id)
        if (
            body.order_id is not None
            and conn.execute(
                "SELECT 1 FROM orders WHERE order_id = ? AND customer_id = ?",
                (body.order_id, body.customer_id),
            ).fetchone()
            is None
        ):
            raise not_found(f"order of customer {body.customer_id}", body.order_id)
        count = conn.execute("SELECT COUNT(*) FROM tickets").fetchone()[0]
        ticket_id = f"T{500001 + count}"
        created = clock.iso(clock.now(conn))
        queue = queue_for(body)
        conn.execute(
            "INSERT INTO tickets VALUES (?, ?, ?, ?, ?, 'open', ?, ?)",
            (
                ticket_id,
                body.customer_id,
                body.summary,
                body.order_id,
                body.priority,
                queue,
                created,
            ),
        )
        return TicketCreated(ticket_id=ticket_id, status="open", queue=queue, created_at=created)

    return idem.run(work, status_code=201)


@router.get("/tickets/{ticket_id}")
async def get_ticket(ticket_id: str, conn: Db) -> Ticket:
    """One ticket."""
    return _ticket(conn, ticket_id)
