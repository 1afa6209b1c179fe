"""Authoritative facts a verdict depends on, re-read from the services at validation time.

Which facts an action needs is data (``FACT_NEEDS``); they are read concurrently. If
any cannot be read the caller gets ``FactsUnavailable`` and must deny (fail closed):
a rule that cannot be evaluated never lets an action through.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from arbiter.errors import CapabilityError, ServiceUnavailableError
from guardrails.budget import BudgetLedger
from guardrails.verdict import Fact, ProposedAction
from tools import facts as reader
from tools.spec import ToolContext

FACT_NEEDS: dict[str, tuple[str, ...]] = {
    "add_to_cart": ("product", "stock", "cart"),
    "remove_from_cart": ("cart",),
    "offer_discount": ("product", "price", "cart", "budget"),
    "reserve_inventory": ("product", "stock"),
    "promise_delivery": ("delivery_options",),
    "request_refund": ("order",),
    "request_return": ("order",),
    "cancel_order": ("order",),
    # Retail support dataset: read by guardrails.retail_facts.
    "cancel_pending_order": ("retail_order",),
    "modify_pending_order_items": ("retail_order", "retail_user", "retail_products"),
    "modify_pending_order_payment": ("retail_order", "retail_user"),
    "modify_pending_order_address": ("retail_order",),
    "return_delivered_order_items": ("retail_order", "retail_user"),
    "exchange_delivered_order_items": ("retail_order", "retail_user", "retail_products"),
    "modify_user_address": ("retail_user",),
}


class FactsUnavailable(Exception):  # noqa: N818 - reads as a condition, not a bug
    """A needed fact could not be read; ``missing`` names it and why."""

    def __init__(self, kind: str, detail: str, *, not_found: bool = False) -> None:
        super().__init__(f"{kind}: {detail}")
        self.kind = kind
        self.detail = detail
        self.not_found = not_found


@dataclass
class FactBundle:
    """The facts read for one proposal, typed access plus the list recorded in the verdict."""

    recorded: list[Fact] = field(default_factory=list)
    product: dict[str, Any] | None = None
    price: dict[str, Any] | None = None
    stock: dict[str, Any] | None = None
    cart: dict[str, Any] | None = None
    order: dict[str, Any] | None = None
    delivery_options: dict[str, Any] | None = None
    session_discount_spent: float = 0.0

    def cart_quantity(self, sku: str) -> int:
        """Quantity of a SKU already in the customer's open cart."""
        lines = (self.cart or {}).get("lines", [])
        return sum(int(line["quantity"]) for line in lines if line["sku"] == sku)


async def read_facts(action: ProposedAction, ctx: ToolContext, ledger: BudgetLedger) -> FactBundle:
    """Read every fact the action type needs, concurrently; raise FactsUnavailable on failure."""
    if any(kind.startswith("retail_") for kind in FACT_NEEDS.get(action.type, ())):
        from guardrails.retail_facts import read_retail_facts  # imports this module

        return await read_retail_facts(action, ctx)
    bundle = FactBundle()
    params = action.params
    client = ctx.client
    sku = str(params.get("sku", ""))
    readers: dict[str, Callable[[], Awaitable[dict[str, Any] | None]]] = {
        "product": lambda: reader.read_product(client, sku),
        "price": lambda: reader.read_price(client, sku),
        "stock": lambda: reader.read_stock(client, sku),
        "cart": lambda: reader.read_cart(client, ctx.customer_id),
        "order": lambda: reader.read_order(client, str(params.get("order_id", ""))),
        "delivery_options": lambda: reader.read_delivery_options(
            client, sku, int(params.get("quantity", 1)), ctx.region, ctx.postcode
        ),
    }
    needs = FACT_NEEDS.get(action.type, ())
    remote = [kind for kind in needs if kind in readers]
    results = await asyncio.gather(
        *(_read(kind, readers[kind]) for kind in remote), return_exceptions=True
    )
    for kind, result in zip(remote, results, strict=True):
        if isinstance(result, BaseException):
            raise result
        setattr(bundle, kind, result)
        if result is not None:
            key = str(params.get("order_id") if kind == "order" else sku or ctx.customer_id)
            bundle.recorded.append(
                Fact(kind=kind, key=key, value=result, source=_SOURCES[kind], read_at=_now())
            )
    if "budget" in needs:
        bundle.session_discount_spent = ledger.spent(session_scope(ctx.session_id))
        bundle.recorded.append(
            Fact(
                kind="budget",
                key=session_scope(ctx.session_id),
                value={"spent": bundle.session_discount_spent},
                source="budget_ledger",
                read_at=_now(),
            )
        )
    return bundle


def session_scope(session_id: str) -> str:
    """Ledger scope name of one session's discount budget."""
    return f"session:{session_id}"


async def _read(
    kind: str, fn: Callable[[], Awaitable[dict[str, Any] | None]]
) -> dict[str, Any] | None:
    try:
        return await fn()
    except ServiceUnavailableError as exc:
        raise FactsUnavailable(kind, exc.detail) from exc
    except CapabilityError as exc:
        raise FactsUnavailable(kind, exc.detail, not_found=exc.status == 404) from exc


def _now() -> datetime:
    return datetime.now(UTC)


_SOURCES = {
    "product": "catalog",
    "price": "pricing",
    "stock": "inventory",
    "cart": "carts",
    "order": "orders",
    "delivery_options": "fulfillment",
}
