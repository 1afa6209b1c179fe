"""Shared helpers for verdict tests over the in-process sandbox."""

from __future__ import annotations

from typing import Any

from agent.runtime import Arbiter
from guardrails.verdict import ProposedAction
from sandbox.seed import SAMPLE_CUSTOMER_ID
from tools.spec import Channel, ToolContext


def proposal(kind: str, n: int = 1, **params: Any) -> ProposedAction:
    """A proposal as the plan step would make it."""
    return ProposedAction(
        id=f"act_{n}", type=kind, params=params, call_id=f"c{n}", llm_call_index=0
    )


async def session_context(
    arbiter: Arbiter,
    customer_id: str = SAMPLE_CUSTOMER_ID,
    session_id: str = "ses_test",
    channel: Channel = "shopper",
) -> ToolContext:
    """The trusted context a session of this customer runs with."""
    customer = await arbiter.client.get(f"/customers/{customer_id}")
    return ToolContext(
        customer_id=customer_id,
        session_id=session_id,
        channel=channel,
        region=customer["region"],
        postcode=customer["postcode"],
        loyalty_tier=customer["loyalty_tier"],
        client=arbiter.client,
    )


async def put_in_cart(
    arbiter: Arbiter, sku: str, quantity: int = 1, customer_id: str = SAMPLE_CUSTOMER_ID
) -> str:
    """Add a line to the customer's open cart straight through the service; the cart id."""
    cart = await arbiter.client.post(
        "/carts", json={"customer_id": customer_id}, idempotency_key=f"c-{customer_id}"
    )
    await arbiter.client.post(
        f"/carts/{cart['cart_id']}/lines",
        json={"sku": sku, "quantity": quantity},
        idempotency_key=f"l-{customer_id}-{sku}-{quantity}",
    )
    return str(cart["cart_id"])
