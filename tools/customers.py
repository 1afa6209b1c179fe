"""Customer read tool: the session customer's own profile, and nobody else's."""

from __future__ import annotations

from pydantic import Field

from arbiter.errors import OutOfScopeError
from tools import facts
from tools.spec import ToolArgs, ToolContext, ToolResult, ToolSpec


class GetCustomerProfileArgs(ToolArgs):
    """Arguments of get_customer_profile."""

    customer_id: str | None = Field(
        default=None,
        max_length=64,
        description="Null for the current customer (the only profile this tool can read).",
    )


async def get_customer_profile(args: GetCustomerProfileArgs, ctx: ToolContext) -> ToolResult:
    """GET /customers/{ctx.customer_id}; naming another customer is refused without a call."""
    if args.customer_id is not None and args.customer_id != ctx.customer_id:
        raise OutOfScopeError("customer", args.customer_id)
    return await facts.read_customer(ctx.client, ctx.customer_id)


GET_CUSTOMER_PROFILE = ToolSpec(
    name="get_customer_profile",
    description=(
        "Read the current customer's profile: name, region, loyalty tier, price "
        "sensitivity, age verification, lifetime spend, order ids and past support issues. "
        "Only the signed-in customer's profile can be read."
    ),
    args_model=GetCustomerProfileArgs,
    kind="read",
    service="customers",
    run=get_customer_profile,
)
