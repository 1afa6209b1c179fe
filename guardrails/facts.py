"""Authoritative facts a verdict depends on, re-read from the services at validation time.

Which facts an action needs is data (``FACT_NEEDS``); they are read concurrently. If
any cannot be read the caller gets ``FactsUnavailable`` and must deny (fail closed):
a rule that cannot be evaluated never lets an action through.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from arbiter.errors import CapabilityError, ServiceUnavailableError
from guardrails.budget import BudgetLedger
from guardrails.ledger import campaign_scope, customer_day_scope, global_day_scope
from guardrails.rate_limit import rate_limiter_for, rate_scope
from guardrails.verdict import Fact, ProposedAction
from tools import facts as reader
from tools.spec import ToolContext

FACT_NEEDS: dict[str, tuple[str, ...]] = {
    "add_to_cart": ("product", "stock", "cart", "customer", "rate"),
    "remove_from_cart": ("cart", "rate"),
    "offer_discount": ("product", "price", "cart", "customer", "budget", "rate"),
    "apply_promotion": ("promotion", "cart", "customer", "cart_promotions", "rate"),
    "reserve_inventory": ("product", "stock", "customer", "rate"),
    "promise_delivery": ("delivery_options", "product", "customer", "rate"),
    "request_refund": ("order", "rate"),
    "request_return": ("order", "rate"),
    "cancel_order": ("order", "rate"),
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
    customer: dict[str, Any] | None = None
    """The session customer's profile from the customer service (tier, region, age flag)."""
    promotion: dict[str, Any] | None = None
    """The promotion an apply_promotion names, from the promotions service."""
    cart_promotions: dict[str, Any] | None = None
    """``{"items": [Promotion]}``: the promotions already on the cart."""
    budget_scopes: dict[str, Any] | None = None
    """Per budget kind (session, customer_day, campaign, global_day): its scope and spent."""
    rate_window: dict[str, Any] | None = None
    """The session's recent executions: ``{"scope", "as_of", "events": [[at, type]]}``."""

    def budget_scope(self, kind: str) -> tuple[str, float] | None:
        """(scope name, money spent there) of one budget kind, when it was read."""
        entry = (self.budget_scopes or {}).get(kind)
        if not isinstance(entry, dict):
            return None
        return str(entry["scope"]), float(entry["spent"])

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
        "customer": lambda: reader.read_customer(client, ctx.customer_id),
        "promotion": lambda: reader.read_promotion(client, str(params.get("code", ""))),
    }
    keys = {"order": str(params.get("order_id")), "customer": ctx.customer_id}
    keys["promotion"] = str(params.get("code"))
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
            key = keys.get(kind) or sku or ctx.customer_id
            bundle.recorded.append(
                Fact(kind=kind, key=key, value=result, source=_SOURCES[kind], read_at=_now())
            )
    if "cart_promotions" in needs:
        await _read_cart_promotions(bundle, ctx, str(params.get("code", "")))
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
        _read_budget_scopes(bundle, action, ctx, ledger)
    if "rate" in needs:
        _read_rate_window(bundle, ctx, ledger)
    return bundle


def campaign_of(action_type: str, params: dict[str, Any]) -> str | None:
    """A discount's campaign is its reason; a promotion's is its code."""
    if action_type == "apply_promotion":
        code = params.get("code")
        return str(code).upper() if code else None
    reason = params.get("reason")
    return str(reason) if reason else None


def budget_scope_names(
    action_type: str, params: dict[str, Any], ctx: ToolContext
) -> dict[str, str]:
    """Ledger scope of each budget kind an action can take money from (today, in UTC)."""
    names = {
        "session": session_scope(ctx.session_id),
        "customer_day": customer_day_scope(ctx.customer_id),
        "global_day": global_day_scope(),
    }
    campaign = campaign_of(action_type, params)
    if campaign is not None:
        names["campaign"] = campaign_scope(campaign)
    return names


def _read_budget_scopes(
    bundle: FactBundle, action: ProposedAction, ctx: ToolContext, ledger: BudgetLedger
) -> None:
    scopes = {
        kind: {"scope": name, "spent": ledger.spent(name)}
        for kind, name in budget_scope_names(action.type, action.params, ctx).items()
    }
    bundle.budget_scopes = scopes
    bundle.recorded.append(
        Fact(
            kind="budget_scopes",
            key=ctx.session_id,
            value=scopes,
            source="budget_ledger",
            read_at=_now(),
        )
    )


def _read_rate_window(bundle: FactBundle, ctx: ToolContext, ledger: BudgetLedger) -> None:
    limiter = rate_limiter_for(ledger)
    scope = rate_scope(ctx.session_id)
    as_of = limiter.clock()
    events = [[at, kind] for at, kind in limiter.recent(scope)]
    bundle.rate_window = {"scope": scope, "as_of": as_of, "events": events}
    bundle.recorded.append(
        Fact(
            kind="rate_window",
            key=scope,
            value=bundle.rate_window,
            source="rate_limiter",
            read_at=_now(),
        )
    )


async def _read_cart_promotions(bundle: FactBundle, ctx: ToolContext, code: str) -> None:
    """The promotions already on the cart (read after the cart, which names them)."""
    codes = [c for c in (bundle.cart or {}).get("promotions", []) if str(c) != code.upper()]
    found = await asyncio.gather(
        *(
            _read("promotion", functools.partial(reader.read_promotion, ctx.client, str(c)))
            for c in codes
        )
    )
    bundle.cart_promotions = {"items": [p for p in found if p is not None]}
    bundle.recorded.append(
        Fact(
            kind="cart_promotions",
            key=str((bundle.cart or {}).get("cart_id") or ctx.customer_id),
            value=bundle.cart_promotions,
            source="promotions",
            read_at=_now(),
        )
    )


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
    "customer": "customers",
    "promotion": "promotions",
}
