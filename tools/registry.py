"""The one ordered list of tools the agent offers, and the schema hash computed from it.

Order is part of the contract: ``openai_tools()`` sends the tools in this order and
``TOOL_SCHEMA_HASH`` (recorded with every turn as prompt lineage) covers names,
descriptions and argument schemas in this order, so any change to what the model reads
changes the hash.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tools.carts import ADD_TO_CART, APPLY_PROMOTION, GET_CART, OFFER_DISCOUNT, REMOVE_FROM_CART
from tools.catalog import GET_PRODUCT, SEARCH_PRODUCTS
from tools.customers import GET_CUSTOMER_PROFILE
from tools.fulfillment import GET_DELIVERY_OPTIONS, PROMISE_DELIVERY
from tools.inventory import CHECK_INVENTORY, RESERVE_INVENTORY
from tools.orders import CANCEL_ORDER, GET_ORDER, LIST_ORDERS, REQUEST_REFUND, REQUEST_RETURN
from tools.pricing import GET_PRICE
from tools.promotions import LIST_PROMOTIONS
from tools.spec import ToolSpec, schema_hash
from tools.support import ESCALATE_TO_HUMAN

ALL_TOOLS: tuple[ToolSpec[Any], ...] = (
    SEARCH_PRODUCTS,
    GET_PRODUCT,
    GET_PRICE,
    CHECK_INVENTORY,
    GET_DELIVERY_OPTIONS,
    LIST_PROMOTIONS,
    GET_CUSTOMER_PROFILE,
    GET_CART,
    LIST_ORDERS,
    GET_ORDER,
    ADD_TO_CART,
    REMOVE_FROM_CART,
    APPLY_PROMOTION,
    OFFER_DISCOUNT,
    RESERVE_INVENTORY,
    PROMISE_DELIVERY,
    REQUEST_REFUND,
    REQUEST_RETURN,
    CANCEL_ORDER,
    ESCALATE_TO_HUMAN,
)
"""Every tool, reads first, in the order the model sees them."""

READ_TOOLS: tuple[ToolSpec[Any], ...] = tuple(s for s in ALL_TOOLS if s.kind == "read")
"""Tools that never change state: the agent runs them directly."""

ACTION_TOOLS: tuple[ToolSpec[Any], ...] = tuple(s for s in ALL_TOOLS if s.kind == "action")
"""Proposals: run only from the execute step, after policy allows them."""

_BY_NAME: dict[str, ToolSpec[Any]] = {spec.name: spec for spec in ALL_TOOLS}
if len(_BY_NAME) != len(ALL_TOOLS):  # pragma: no cover - guarded by a test as well
    raise RuntimeError("duplicate tool name in ALL_TOOLS")

TOOL_SCHEMA_HASH: str = schema_hash(ALL_TOOLS)
"""sha256 of the tool definitions the model reads, in registry order."""


def get_tool(name: str) -> ToolSpec[Any] | None:
    """The tool called ``name``, or None for a name the model made up."""
    return _BY_NAME.get(name)


def openai_tools(specs: Sequence[ToolSpec[Any]] = ALL_TOOLS) -> list[dict[str, Any]]:
    """Function-tool definitions (strict mode) for an OpenAI-compatible endpoint."""
    return [spec.openai_schema() for spec in specs]
