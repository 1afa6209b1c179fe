"""Facts for the retail support actions: the order, the session's user, the products.

``guardrails.facts.read_facts`` delegates here for action types whose needs are
``retail_*``. The order and the user are read concurrently; then the products of
the order lines an items change names (a new item must be a variant of the same
product). Any failure raises ``FactsUnavailable`` so the verdict fails closed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from arbiter.errors import CapabilityError, ServiceUnavailableError
from guardrails.facts import FACT_NEEDS, FactBundle, FactsUnavailable
from guardrails.verdict import Fact, ProposedAction
from tools.retail import read_retail_order, read_retail_product, read_retail_user
from tools.spec import ToolContext


@dataclass
class RetailFactBundle(FactBundle):
    """FactBundle plus the retail documents a verdict depends on."""

    retail_order: dict[str, Any] | None = None
    retail_user: dict[str, Any] | None = None
    retail_products: dict[str, dict[str, Any]] = field(default_factory=dict)

    def lines_for(self, item_ids: list[str]) -> list[dict[str, Any] | None]:
        """The order line each item id names (a repeated id takes the next one); None if absent."""
        lines = list((self.retail_order or {}).get("items", []))
        used: set[int] = set()
        found: list[dict[str, Any] | None] = []
        for item_id in item_ids:
            index = next(
                (i for i, x in enumerate(lines) if x["item_id"] == item_id and i not in used), None
            )
            if index is None:
                found.append(None)
            else:
                used.add(index)
                found.append(lines[index])
        return found


async def read_retail_facts(action: ProposedAction, ctx: ToolContext) -> RetailFactBundle:
    """Read the order, user and products ``action`` needs; FactsUnavailable on failure."""
    needs = FACT_NEEDS.get(action.type, ())
    params = action.params
    client = ctx.client
    bundle = RetailFactBundle()
    order_id = str(params.get("order_id", ""))
    first: dict[str, Awaitable[dict[str, Any]]] = {}
    if "retail_order" in needs:
        first["retail_order"] = _read("order", read_retail_order(client, order_id))
    if "retail_user" in needs:
        first["retail_user"] = _read("user", read_retail_user(client, ctx.customer_id))
    results = await asyncio.gather(*first.values(), return_exceptions=True)
    for kind, result in zip(first, results, strict=True):
        if isinstance(result, BaseException):
            raise result
        setattr(bundle, kind, result)
        key = order_id if kind == "retail_order" else ctx.customer_id
        bundle.recorded.append(_fact(kind, key, result))
    if "retail_products" in needs and bundle.retail_order is not None:
        item_ids = [str(i) for i in params.get("item_ids", [])]
        product_ids = sorted(
            {line["product_id"] for line in bundle.lines_for(item_ids) if line is not None}
        )
        products = await asyncio.gather(
            *(_read("product", read_retail_product(client, pid)) for pid in product_ids),
            return_exceptions=True,
        )
        for pid, product in zip(product_ids, products, strict=True):
            if isinstance(product, BaseException):
                raise product
            bundle.retail_products[pid] = product
            bundle.recorded.append(_fact("retail_product", pid, product))
    return bundle


async def _read(kind: str, call: Awaitable[dict[str, Any]]) -> dict[str, Any]:
    try:
        return await call
    except ServiceUnavailableError as exc:
        raise FactsUnavailable(kind, exc.detail) from exc
    except CapabilityError as exc:
        raise FactsUnavailable(kind, exc.detail, not_found=exc.status == 404) from exc


def _fact(kind: str, key: str, value: dict[str, Any]) -> Fact:
    return Fact(kind=kind, key=key, value=value, source="retail", read_at=datetime.now(UTC))
