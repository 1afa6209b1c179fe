"""Support tool: hand the conversation to a human agent with a ticket."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from tools import facts
from tools.fields import Identifier
from tools.spec import ToolArgs, ToolContext, ToolResult, ToolSpec


class EscalateToHumanArgs(ToolArgs):
    """Arguments of escalate_to_human."""

    summary: str = Field(
        min_length=1,
        max_length=1000,
        description="What the customer needs and what has been tried, for the human agent.",
    )
    order_id: Identifier | None = Field(
        default=None, description="The order concerned, if any; null otherwise."
    )
    priority: Literal["normal", "urgent"] = Field(
        default="normal", description="'urgent' only for safety, fraud or a blocked purchase."
    )


async def escalate_to_human(args: EscalateToHumanArgs, ctx: ToolContext) -> ToolResult:
    """POST /support/tickets for the session's customer; returns the Ticket."""
    key = ctx.require_idempotency_key()
    body = {
        "customer_id": ctx.customer_id,
        "summary": args.summary,
        "order_id": args.order_id,
        "priority": args.priority,
    }
    result = await ctx.client.post("/support/tickets", json=body, idempotency_key=key)
    return facts.expect(result, "support", "ticket_id")


ESCALATE_TO_HUMAN = ToolSpec(
    name="escalate_to_human",
    description=(
        "Propose opening a support ticket so a human agent takes over: use it when the "
        "customer asks for a person, or when what they need is outside what the other tools "
        "and policy allow. A proposal: policy checks it before it runs."
    ),
    args_model=EscalateToHumanArgs,
    kind="action",
    service="support",
    run=escalate_to_human,
)
