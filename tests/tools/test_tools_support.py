from __future__ import annotations

import json

import respx

from tools.spec import ToolContext
from tools.support import ESCALATE_TO_HUMAN


async def test_escalate_opens_a_ticket_for_the_session_customer(
    sandbox: respx.MockRouter, action_ctx: ToolContext
) -> None:
    ticket = {"ticket_id": "T1", "status": "open", "queue": "orders", "created_at": "x"}
    route = sandbox.post("/support/tickets").respond(201, json=ticket)
    args = ESCALATE_TO_HUMAN.parse_args(
        {"summary": "Package lost, wants a person", "order_id": "O100123", "priority": "urgent"}
    )

    assert await ESCALATE_TO_HUMAN.run(args, action_ctx) == ticket
    assert json.loads(route.calls.last.request.content) == {
        "customer_id": "C1001",
        "summary": "Package lost, wants a person",
        "order_id": "O100123",
        "priority": "urgent",
    }
    assert route.calls.last.request.headers["Idempotency-Key"] == "K1"
