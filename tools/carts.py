"""Cart tools: read the customer's open cart, and propose changes to it.

Every write goes to the session customer's own open cart: an action first ensures it
(``POST /carts``, idempotent under ``{key}:cart``) and then writes under
``{key}:<step>``, so re-running an execution with the same key replays both writes
instead of repeating them. A cart the services return for another customer is refused.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from arbiter.errors import CapabilityError, OutOfScopeError
from tools import facts
from tools.fields import Identifier, Label, Quantity
from tools.spec import ToolArgs, ToolContext, ToolResult, ToolSpec


class GetCartArgs(ToolArgs):
    """No arguments: the cart is always the current customer's."""


class AddToCartArgs(ToolArgs):
    """Arguments of add_to_cart."""

    sku: Identifier = Field(description="The SKU to add, e.g. 'RUN-00042'.")
    quantity: Quantity = Field(default=1, description="Units to add (1-20).")


class RemoveFromCartArgs(ToolArgs):
    """Arguments of remove_from_cart."""

    sku: Identifier = Field(description="The SKU whose cart line is removed.")


class ApplyPromotionArgs(ToolArgs):
    """Arguments of apply_promotion."""

    code: Identifier = Field(description="Promotion code, e.g. 'RUNNER10'.")


class OfferDiscountArgs(ToolArgs):
    """Arguments of offer_discount."""

    sku: Identifier = Field(description="SKU of the cart line to discount.")
    percent: float | None = Field(
        default=None,
        gt=0,
        lt=100,
        description="Percent off the line's list price; null for a price match (policy "
        "computes it from the competitor's verified price).",
    )
    reason: Literal["goodwill", "price_match", "loyalty"] = Field(
        description="Why the discount is offered."
    )
    competitor: Label | None = Field(
        default=None, description="Competitor whose price is matched; null unless price_match."
    )


def empty_cart(customer_id: str) -> ToolResult:
    """What get_cart returns when the customer has no open cart."""
    return {
        "cart_id": None,
        "customer_id": customer_id,
        "lines": [],
        "promotions": [],
        "subtotal": 0.0,
        "discount_total": 0.0,
        "total": 0.0,
        "currency": "USD",
    }


async def get_cart(args: GetCartArgs, ctx: ToolContext) -> ToolResult:
    """GET /carts?customer_id=; an empty cart when there is none."""
    cart = await facts.read_cart(ctx.client, ctx.customer_id)
    return empty_cart(ctx.customer_id) if cart is None else _owned(cart, ctx)


async def add_to_cart(args: AddToCartArgs, ctx: ToolContext) -> ToolResult:
    """Ensure the open cart, then POST /carts/{id}/lines."""
    key = ctx.require_idempotency_key()
    cart_id = await _ensure_cart(ctx, key)
    body = {"sku": args.sku, "quantity": args.quantity}
    return await _write(ctx, f"/carts/{cart_id}/lines", body, f"{key}:line")


async def remove_from_cart(args: RemoveFromCartArgs, ctx: ToolContext) -> ToolResult:
    """Find the open cart, then DELETE /carts/{id}/lines/{sku}."""
    key = ctx.require_idempotency_key()
    cart = await facts.read_cart(ctx.client, ctx.customer_id)
    if cart is None:
        raise CapabilityError("carts", 404, "not_found", "the customer has no open cart")
    cart_id = facts.segment("carts", "cart_id", str(_owned(cart, ctx)["cart_id"]))
    path = f"/carts/{cart_id}/lines/{args.sku}"
    result = await ctx.client.delete(path, idempotency_key=key)
    return _owned(facts.expect(result, "carts", "cart_id", "customer_id", "lines"), ctx)


async def apply_promotion(args: ApplyPromotionArgs, ctx: ToolContext) -> ToolResult:
    """Ensure the open cart, then POST /carts/{id}/promotions."""
    key = ctx.require_idempotency_key()
    cart_id = await _ensure_cart(ctx, key)
    body = {"code": args.code}
    return await _write(ctx, f"/carts/{cart_id}/promotions", body, f"{key}:promotion")


async def offer_discount(args: OfferDiscountArgs, ctx: ToolContext) -> ToolResult:
    """Ensure the open cart, then POST /carts/{id}/discounts with the percent as executed.

    The policy layer may have filled in ``percent`` (a price match is computed from
    authoritative prices) before execution; still None here is a programming error.
    """
    if args.percent is None:
        raise ValueError("offer_discount executed without a resolved percent")
    key = ctx.require_idempotency_key()
    cart_id = await _ensure_cart(ctx, key)
    body = {
        "sku": args.sku,
        "percent": args.percent,
        "reason": args.reason,
        "competitor": args.competitor,
    }
    return await _write(ctx, f"/carts/{cart_id}/discounts", body, f"{key}:discount")


async def _ensure_cart(ctx: ToolContext, key: str) -> str:
    created = await ctx.client.post(
        "/carts",
        json={"customer_id": ctx.customer_id},
        idempotency_key=f"{key}:cart",
    )
    cart = _owned(facts.expect(created, "carts", "cart_id", "customer_id"), ctx)
    return facts.segment("carts", "cart_id", str(cart["cart_id"]))


async def _write(ctx: ToolContext, path: str, body: dict[str, Any], key: str) -> ToolResult:
    result = await ctx.client.post(path, json=body, idempotency_key=key)
    return _owned(facts.expect(result, "carts", "cart_id", "customer_id", "lines"), ctx)


def _owned(cart: dict[str, Any], ctx: ToolContext) -> dict[str, Any]:
    if cart.get("customer_id") != ctx.customer_id:
        raise OutOfScopeError("cart", str(cart.get("cart_id")))
    return cart


_PROPOSAL = "A proposal: policy checks it before it runs, and it may be denied."

GET_CART = ToolSpec(
    name="get_cart",
    description=(
        "Read the current customer's open cart: lines with quantity, unit price, discount "
        "and line total, applied promotion codes, subtotal, discount total and total. An "
        "empty cart has cart_id null."
    ),
    args_model=GetCartArgs,
    kind="read",
    service="carts",
    run=get_cart,
)

ADD_TO_CART = ToolSpec(
    name="add_to_cart",
    description=(
        "Propose adding units of a SKU to the customer's cart (creating the cart if "
        f"needed). {_PROPOSAL} Returns the updated cart."
    ),
    args_model=AddToCartArgs,
    kind="action",
    service="carts",
    run=add_to_cart,
)

REMOVE_FROM_CART = ToolSpec(
    name="remove_from_cart",
    description=f"Propose removing a SKU's line from the customer's cart. {_PROPOSAL}",
    args_model=RemoveFromCartArgs,
    kind="action",
    service="carts",
    run=remove_from_cart,
)

APPLY_PROMOTION = ToolSpec(
    name="apply_promotion",
    description=(
        "Propose applying a promotion code to the customer's cart; the promotions service "
        f"rejects codes the cart or customer is not eligible for. {_PROPOSAL}"
    ),
    args_model=ApplyPromotionArgs,
    kind="action",
    service="carts",
    run=apply_promotion,
)

OFFER_DISCOUNT = ToolSpec(
    name="offer_discount",
    description=(
        "Propose a percent discount on one cart line, for goodwill, loyalty or to match a "
        "competitor's price (reason price_match, name the competitor, percent null: policy "
        "computes it from the verified competitor price). Policy enforces margin, minimum "
        "advertised price and discount budgets; a denial says the largest percent allowed."
    ),
    args_model=OfferDiscountArgs,
    kind="action",
    service="carts",
    run=offer_discount,
)
