"""Order tools: the customer's orders, and proposals to refund, return or cancel one.

Every tool that names an order reads it first and refuses (``OutOfScopeError``) when it
belongs to another customer, so a guessed or injected order id reaches nothing.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from arbiter.errors import OutOfScopeError
from tools import facts
from tools.fields import Identifier, Money, Reason
from tools.spec import ToolArgs, ToolContext, ToolResult, ToolSpec


class ListOrdersArgs(ToolArgs):
    """No arguments: the orders are always the current customer's."""


class GetOrderArgs(ToolArgs):
    """Arguments of get_order."""

    order_id: Identifier = Field(description="The order id, e.g. 'O100123'.")


class RequestRefundArgs(ToolArgs):
    """Arguments of request_refund."""

    order_id: Identifier = Field(description="The order to refund.")
    amount: Money | None = Field(
        default=None, description="Amount in USD; null for the order's full refundable amount."
    )
    reason: Reason = Field(description="Why the customer is owed the refund.")
    method: Literal["original", "gift_card"] = Field(
        default="original", description="Refund to the original payment method or a gift card."
    )


class RequestReturnArgs(ToolArgs):
    """Arguments of request_return."""

    order_id: Identifier = Field(description="The order the items came from.")
    skus: list[Identifier] = Field(
        min_length=1, max_length=20, description="SKUs of the order's lines being returned."
    )
    reason: Reason = Field(description="Why the items are returned.")


class CancelOrderArgs(ToolArgs):
    """Arguments of cancel_order."""

    order_id: Identifier = Field(description="The order to cancel.")
    reason: Reason = Field(description="Why the customer cancels.")


async def owned_order(ctx: ToolContext, order_id: str) -> dict[str, Any]:
    """The order if it belongs to the session's customer; else OutOfScopeError."""
    order = await facts.read_order(ctx.client, order_id)
    if order["customer_id"] != ctx.customer_id:
        raise OutOfScopeError("order", order_id)
    return order


async def list_orders(args: ListOrdersArgs, ctx: ToolContext) -> ToolResult:
    """GET /orders?customer_id=; the body unchanged."""
    params = {"customer_id": ctx.customer_id}
    body = await ctx.client.get("/orders", params=params)
    return facts.expect(body, "orders", "items")


async def get_order(args: GetOrderArgs, ctx: ToolContext) -> ToolResult:
    """GET /orders/{id}, refused unless it is the session customer's order."""
    return await owned_order(ctx, args.order_id)


async def request_refund(args: RequestRefundArgs, ctx: ToolContext) -> ToolResult:
    """POST /orders/{id}/refunds; a null amount refunds what is still refundable."""
    key = ctx.require_idempotency_key()
    order = await owned_order(ctx, args.order_id)
    amount = args.amount if args.amount is not None else float(order["refundable_amount"])
    body = {"amount": round(amount, 2), "method": args.method, "reason": args.reason}
    return await _post(ctx, f"/orders/{args.order_id}/refunds", body, key, "refund_id")


async def request_return(args: RequestReturnArgs, ctx: ToolContext) -> ToolResult:
    """POST /orders/{id}/returns for the session customer's order."""
    key = ctx.require_idempotency_key()
    await owned_order(ctx, args.order_id)
    body = {"skus": args.skus, "reason": args.reason}
    return await _post(ctx, f"/orders/{args.order_id}/returns", body, key, "return_id")


async def cancel_order(args: CancelOrderArgs, ctx: ToolContext) -> ToolResult:
    """POST /orders/{id}/cancel for the session customer's order."""
    key = ctx.require_idempotency_key()
    await owned_order(ctx, args.order_id)
    body = {"reason": args.reason}
    return await _post(ctx, f"/orders/{args.order_id}/cancel", body, key, "order_id", "status")


async def _post(
    ctx: ToolContext, path: str, body: dict[str, Any], key: str, *expected: str
) -> ToolResult:
    result = await ctx.client.post(path, json=body, idempotency_key=key)
    return facts.expect(result, "orders", *expected)


_PROPOSAL = "A proposal: policy checks it against the order before it runs, and may deny it."

LIST_ORDERS = ToolSpec(
    name="list_orders",
    description="List the current customer's orders: id, status, date placed and total.",
    args_model=ListOrdersArgs,
    kind="read",
    service="orders",
    run=list_orders,
)

GET_ORDER = ToolSpec(
    name="get_order",
    description=(
        "Read one of the current customer's orders: status, lines, payment, refunds so far "
        "and refundable amount, return-window end and tracking."
    ),
    args_model=GetOrderArgs,
    kind="read",
    service="orders",
    run=get_order,
)

REQUEST_REFUND = ToolSpec(
    name="request_refund",
    description=(
        "Propose refunding an order, in full (amount null) or in part, to the original "
        f"payment method or a gift card. {_PROPOSAL}"
    ),
    args_model=RequestRefundArgs,
    kind="action",
    service="orders",
    run=request_refund,
)

REQUEST_RETURN = ToolSpec(
    name="request_return",
    description=(
        "Propose authorizing the return of some of a delivered order's items; the order must "
        f"be inside its return window. Returns a return label when it runs. {_PROPOSAL}"
    ),
    args_model=RequestReturnArgs,
    kind="action",
    service="orders",
    run=request_return,
)

CANCEL_ORDER = ToolSpec(
    name="cancel_order",
    description=(
        f"Propose cancelling an order that has not shipped (pending or processing). {_PROPOSAL}"
    ),
    args_model=CancelOrderArgs,
    kind="action",
    service="orders",
    run=cancel_order,
)
