"""Retail support tools (the tau-bench retail domain): the copilot's toolset for that dataset.

Reads look up users, orders and products of the ``/retail`` service; actions are the
equivalents of tau-bench's write tools and, like every action tool, are proposals:
the guardrails check them against the retail policy (``guardrails/policies/retail.yaml``)
before the execute step runs them with an idempotency key. Every tool that names an
order or a user refuses (``OutOfScopeError``) one that is not the session's customer's.

``RETAIL_TOOLS`` is deliberately not part of ``tools.registry.ALL_TOOLS``: the shopping
chat's tool list does not change.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from pydantic import Field

from arbiter.errors import OutOfScopeError
from tools import facts
from tools.client import CapabilityClient
from tools.fields import Identifier
from tools.spec import ToolArgs, ToolContext, ToolKind, ToolResult, ToolSpec

SERVICE = "retail"
OrderId = Annotated[
    str,
    Field(pattern=r"^#?[A-Za-z0-9][A-Za-z0-9_-]{0,63}$", description="Order id, e.g. '#W0000000'."),
]
ItemIds = Annotated[list[Identifier], Field(min_length=1, max_length=20)]
Text = Annotated[str, Field(min_length=1, max_length=120)]
Zip = Annotated[str, Field(pattern=r"^[0-9A-Za-z -]{3,10}$")]


async def read_retail_order(client: CapabilityClient, order_id: str) -> dict[str, Any]:
    """A retail order with its user, status, items and payment history."""
    path = f"/retail/orders/{quote(order_id, safe='')}"
    body = await client.get(path)
    return facts.expect(body, SERVICE, "order_id", "user_id", "status", "items")


async def read_retail_user(client: CapabilityClient, user_id: str) -> dict[str, Any]:
    """A retail user with payment methods (gift card balances) and order ids."""
    path = f"/retail/users/{facts.segment(SERVICE, 'user_id', user_id)}"
    body = await client.get(path)
    return facts.expect(body, SERVICE, "user_id", "payment_methods")


async def read_retail_product(client: CapabilityClient, product_id: str) -> dict[str, Any]:
    """A product with its variant items: options, availability, price."""
    path = f"/retail/products/{facts.segment(SERVICE, 'product_id', product_id)}"
    body = await client.get(path)
    return facts.expect(body, SERVICE, "product_id", "variants")


async def owned_retail_order(ctx: ToolContext, order_id: str) -> dict[str, Any]:
    """The order if it is the session customer's; else OutOfScopeError."""
    order = await read_retail_order(ctx.client, order_id)
    if order["user_id"] != ctx.customer_id:
        raise OutOfScopeError("order", order_id)
    return order


class UserIdArgs(ToolArgs):
    """Arguments of get_user_details."""

    user_id: Identifier = Field(description="The user id, e.g. 'sara_doe_496'.")


class OrderIdArgs(ToolArgs):
    """Arguments of get_order_details."""

    order_id: OrderId


class ProductIdArgs(ToolArgs):
    """Arguments of get_product_details."""

    product_id: Identifier = Field(description="The product id (not an item id).")


class EmailArgs(ToolArgs):
    """Arguments of find_user_id_by_email."""

    email: Annotated[str, Field(min_length=3, max_length=254)] = Field(
        description="The user's email."
    )


class NameZipArgs(ToolArgs):
    """Arguments of find_user_id_by_name_zip."""

    first_name: Text = Field(description="First name.")
    last_name: Text = Field(description="Last name.")
    zip: Zip = Field(description="Zip code of the user's address.")


class CancelArgs(ToolArgs):
    """Arguments of cancel_pending_order."""

    order_id: OrderId
    reason: Text = Field(description="'no longer needed' or 'ordered by mistake'.")


class ItemsChangeArgs(ToolArgs):
    """Arguments of modify_pending_order_items and exchange_delivered_order_items."""

    order_id: OrderId
    item_ids: ItemIds = Field(description="Item ids in the order to change; repeat for two units.")
    new_item_ids: ItemIds = Field(
        description="New item ids, position by position: a variant of the same product."
    )
    payment_method_id: Identifier = Field(
        description="Payment method of the user that pays or receives the price difference."
    )


class ReturnArgs(ToolArgs):
    """Arguments of return_delivered_order_items."""

    order_id: OrderId
    item_ids: ItemIds = Field(description="Item ids in the order to return.")
    payment_method_id: Identifier = Field(
        description="Refund destination: the original payment method or a gift card of the user."
    )


class PaymentArgs(ToolArgs):
    """Arguments of modify_pending_order_payment."""

    order_id: OrderId
    payment_method_id: Identifier = Field(description="The user's payment method to pay with.")


class _Address(ToolArgs):
    address1: Text = Field(description="First line, e.g. '123 Main St'.")
    address2: Annotated[str, Field(max_length=120)] = Field(description="Second line or ''.")
    city: Text = Field(description="City.")
    state: Text = Field(description="State, e.g. 'CA'.")
    country: Text = Field(description="Country, e.g. 'USA'.")
    zip: Zip = Field(description="Zip code.")


class OrderAddressArgs(_Address):
    """Arguments of modify_pending_order_address."""

    order_id: OrderId


class UserAddressArgs(_Address):
    """Arguments of modify_user_address."""

    user_id: Identifier = Field(description="The user id (the session's user).")


_ADDRESS_FIELDS = ("address1", "address2", "city", "state", "country", "zip")


async def get_user_details(args: UserIdArgs, ctx: ToolContext) -> ToolResult:
    """The session user's profile, payment methods and order ids."""
    if args.user_id != ctx.customer_id:
        raise OutOfScopeError("user", args.user_id)
    return await read_retail_user(ctx.client, args.user_id)


async def get_order_details(args: OrderIdArgs, ctx: ToolContext) -> ToolResult:
    """One of the session user's orders."""
    return await owned_retail_order(ctx, args.order_id)


async def get_product_details(args: ProductIdArgs, ctx: ToolContext) -> ToolResult:
    """A product and its variants."""
    return await read_retail_product(ctx.client, args.product_id)


async def find_user_id_by_email(args: EmailArgs, ctx: ToolContext) -> ToolResult:
    """GET /retail/users?email=."""
    body = await ctx.client.get("/retail/users", params={"email": args.email})
    return facts.expect(body, SERVICE, "user_id")


async def find_user_id_by_name_zip(args: NameZipArgs, ctx: ToolContext) -> ToolResult:
    """GET /retail/users?first_name=&last_name=&zip=."""
    body = await ctx.client.get("/retail/users", params=args.model_dump())
    return facts.expect(body, SERVICE, "user_id")


async def _order_write(
    ctx: ToolContext, order_id: str, verb: str, body: dict[str, Any]
) -> ToolResult:
    key = ctx.require_idempotency_key()
    await owned_retail_order(ctx, order_id)
    path = f"/retail/orders/{quote(order_id, safe='')}/{verb}"
    result = await ctx.client.post(path, json=body, idempotency_key=key)
    return facts.expect(result, SERVICE, "order_id", "status")


async def cancel_pending_order(args: CancelArgs, ctx: ToolContext) -> ToolResult:
    """POST /retail/orders/{id}/cancel."""
    return await _order_write(ctx, args.order_id, "cancel", {"reason": args.reason})


async def modify_pending_order_items(args: ItemsChangeArgs, ctx: ToolContext) -> ToolResult:
    """POST /retail/orders/{id}/modify-items."""
    body = args.model_dump(exclude={"order_id"})
    return await _order_write(ctx, args.order_id, "modify-items", body)


async def modify_pending_order_payment(args: PaymentArgs, ctx: ToolContext) -> ToolResult:
    """POST /retail/orders/{id}/modify-payment."""
    body = {"payment_method_id": args.payment_method_id}
    return await _order_write(ctx, args.order_id, "modify-payment", body)


async def modify_pending_order_address(args: OrderAddressArgs, ctx: ToolContext) -> ToolResult:
    """POST /retail/orders/{id}/modify-address."""
    body = args.model_dump(include=set(_ADDRESS_FIELDS))
    return await _order_write(ctx, args.order_id, "modify-address", body)


async def return_delivered_order_items(args: ReturnArgs, ctx: ToolContext) -> ToolResult:
    """POST /retail/orders/{id}/return."""
    body = args.model_dump(exclude={"order_id"})
    return await _order_write(ctx, args.order_id, "return", body)


async def exchange_delivered_order_items(args: ItemsChangeArgs, ctx: ToolContext) -> ToolResult:
    """POST /retail/orders/{id}/exchange."""
    body = args.model_dump(exclude={"order_id"})
    return await _order_write(ctx, args.order_id, "exchange", body)


async def modify_user_address(args: UserAddressArgs, ctx: ToolContext) -> ToolResult:
    """POST /retail/users/{id}/address for the session's user."""
    key = ctx.require_idempotency_key()
    if args.user_id != ctx.customer_id:
        raise OutOfScopeError("user", args.user_id)
    path = f"/retail/users/{facts.segment(SERVICE, 'user_id', args.user_id)}/address"
    body = args.model_dump(include=set(_ADDRESS_FIELDS))
    result = await ctx.client.post(path, json=body, idempotency_key=key)
    return facts.expect(result, SERVICE, "user_id", "address")


_PROPOSAL = "A proposal: the retail policy checks it against the data before it runs."


def _spec(name: str, description: str, args: type[Any], kind: ToolKind, run: Any) -> ToolSpec[Any]:
    return ToolSpec(
        name=name, description=description, args_model=args, kind=kind, service=SERVICE, run=run
    )


RETAIL_TOOLS: tuple[ToolSpec[Any], ...] = (
    _spec(
        "find_user_id_by_email",
        "Find a user id by email.",
        EmailArgs,
        "read",
        find_user_id_by_email,
    ),
    _spec(
        "find_user_id_by_name_zip",
        "Find a user id by first name, last name and zip code.",
        NameZipArgs,
        "read",
        find_user_id_by_name_zip,
    ),
    _spec(
        "get_user_details",
        "The session user's profile, payment methods and order ids.",
        UserIdArgs,
        "read",
        get_user_details,
    ),
    _spec(
        "get_order_details",
        "Status, items, payment history and fulfillments of an order.",
        OrderIdArgs,
        "read",
        get_order_details,
    ),
    _spec(
        "get_product_details",
        "A product type and its variant items (options, availability, price).",
        ProductIdArgs,
        "read",
        get_product_details,
    ),
    _spec(
        "cancel_pending_order",
        f"Cancel a pending order and refund it. {_PROPOSAL}",
        CancelArgs,
        "action",
        cancel_pending_order,
    ),
    _spec(
        "modify_pending_order_items",
        "Change items of a pending order to other variants of "
        f"the same products (once per order). {_PROPOSAL}",
        ItemsChangeArgs,
        "action",
        modify_pending_order_items,
    ),
    _spec(
        "modify_pending_order_payment",
        f"Pay a pending order with another payment method. {_PROPOSAL}",
        PaymentArgs,
        "action",
        modify_pending_order_payment,
    ),
    _spec(
        "modify_pending_order_address",
        f"Change the shipping address of a pending order. {_PROPOSAL}",
        OrderAddressArgs,
        "action",
        modify_pending_order_address,
    ),
    _spec(
        "return_delivered_order_items",
        f"Request the return of items of a delivered order. {_PROPOSAL}",
        ReturnArgs,
        "action",
        return_delivered_order_items,
    ),
    _spec(
        "exchange_delivered_order_items",
        f"Exchange items of a delivered order for other variants of the same products. {_PROPOSAL}",
        ItemsChangeArgs,
        "action",
        exchange_delivered_order_items,
    ),
    _spec(
        "modify_user_address",
        f"Change the session user's default address. {_PROPOSAL}",
        UserAddressArgs,
        "action",
        modify_user_address,
    ),
)
"""The copilot's support toolset for the retail dataset, reads first."""

RETAIL_ACTION_TYPES: frozenset[str] = frozenset(s.name for s in RETAIL_TOOLS if s.kind == "action")
"""Action types the retail policy and fact reader cover."""

_BY_NAME = {spec.name: spec for spec in RETAIL_TOOLS}


def get_retail_tool(name: str) -> ToolSpec[Any] | None:
    """The retail tool called ``name``, or None."""
    return _BY_NAME.get(name)
