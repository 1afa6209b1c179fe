"""Spec and registry: strict generated schemas, unique names, stable hash, validation."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from tools.registry import (
    ACTION_TOOLS,
    ALL_TOOLS,
    READ_TOOLS,
    TOOL_SCHEMA_HASH,
    get_tool,
    openai_tools,
)
from tools.spec import ToolSpec, schema_hash

READS = [
    "search_products",
    "get_product",
    "get_price",
    "check_inventory",
    "get_delivery_options",
    "list_promotions",
    "get_customer_profile",
    "get_cart",
    "list_orders",
    "get_order",
]
ACTIONS = [
    "add_to_cart",
    "remove_from_cart",
    "apply_promotion",
    "offer_discount",
    "reserve_inventory",
    "promise_delivery",
    "request_refund",
    "request_return",
    "cancel_order",
    "escalate_to_human",
]
# Argument names are a contract the agent and guardrails code against.
ARGUMENTS = {
    "search_products": [
        "query", "category", "brand", "min_price", "max_price", "attributes",
        "in_stock_only", "limit",
    ],
    "get_product": ["sku"],
    "get_price": ["sku"],
    "check_inventory": ["sku"],
    "get_delivery_options": ["sku", "quantity"],
    "list_promotions": ["category"],
    "get_customer_profile": ["customer_id"],
    "get_cart": [],
    "list_orders": [],
    "get_order": ["order_id"],
    "add_to_cart": ["sku", "quantity"],
    "remove_from_cart": ["sku"],
    "apply_promotion": ["code"],
    "offer_discount": ["sku", "percent", "reason", "competitor"],
    "reserve_inventory": ["sku", "quantity", "location_id"],
    "promise_delivery": ["sku", "quantity", "option_id"],
    "request_refund": ["order_id", "amount", "reason", "method"],
    "request_return": ["order_id", "skus", "reason"],
    "cancel_order": ["order_id", "reason"],
    "escalate_to_human": ["summary", "order_id", "priority"],
}  # fmt: skip
# Keywords OpenAI strict mode rejects in a tool's parameters.
UNSUPPORTED = {"default", "minLength", "maxLength", "uniqueItems", "title"}


def _objects(node: Any) -> list[dict[str, Any]]:
    """Every object schema anywhere in a JSON schema."""
    found: list[dict[str, Any]] = []
    if isinstance(node, dict):
        if node.get("type") == "object" or "properties" in node:
            found.append(node)
        for value in node.values():
            found.extend(_objects(value))
    elif isinstance(node, list):
        for value in node:
            found.extend(_objects(value))
    return found


def _keys(node: Any, inside_properties: bool = False) -> set[str]:
    """Every schema keyword used (names under 'properties' are not keywords)."""
    keys: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if not inside_properties:
                keys.add(key)
            keys |= _keys(value, inside_properties=(key == "properties" and not inside_properties))
    elif isinstance(node, list):
        for value in node:
            keys |= _keys(value)
    return keys


def test_names_kinds_and_order_are_the_contract() -> None:
    assert [s.name for s in ALL_TOOLS] == READS + ACTIONS
    assert [s.name for s in READ_TOOLS] == READS
    assert [s.name for s in ACTION_TOOLS] == ACTIONS
    assert all(s.kind == "action" for s in ACTION_TOOLS)
    assert len({s.name for s in ALL_TOOLS}) == len(ALL_TOOLS)


@pytest.mark.parametrize("spec", ALL_TOOLS, ids=lambda s: s.name)
def test_argument_names(spec: ToolSpec[Any]) -> None:
    assert list(spec.args_model.model_fields) == ARGUMENTS[spec.name]


@pytest.mark.parametrize("spec", ALL_TOOLS, ids=lambda s: s.name)
def test_schema_is_strict_at_every_level(spec: ToolSpec[Any]) -> None:
    definition = spec.openai_schema()
    function = definition["function"]
    assert definition["type"] == "function"
    assert function["strict"] is True
    assert function["name"] == spec.name
    params = function["parameters"]
    objects = _objects(params)
    assert params in objects
    for obj in objects:
        assert obj["additionalProperties"] is False
        assert obj["required"] == list(obj["properties"])
    assert not _keys(params) & UNSUPPORTED


def test_nested_attribute_filter_is_strict() -> None:
    spec = get_tool("search_products")
    assert spec is not None
    params = spec.openai_schema()["function"]["parameters"]
    attribute_filter = params["$defs"]["AttributeFilter"]
    assert attribute_filter["additionalProperties"] is False
    assert attribute_filter["required"] == ["name", "value"]


@pytest.mark.parametrize("spec", ALL_TOOLS, ids=lambda s: s.name)
def test_every_field_is_described(spec: ToolSpec[Any]) -> None:
    for name, field in spec.args_model.model_fields.items():
        assert field.description, f"{spec.name}.{name} has no description"
    assert 40 <= len(spec.description) <= 500


@pytest.mark.parametrize("spec", ACTION_TOOLS, ids=lambda s: s.name)
def test_action_descriptions_say_they_are_proposals(spec: ToolSpec[Any]) -> None:
    assert "propos" in spec.description.lower()
    assert "policy" in spec.description.lower()
    assert "customer_id" not in spec.args_model.model_fields


def test_get_tool_and_openai_tools() -> None:
    assert get_tool("get_price") is ALL_TOOLS[2]
    assert get_tool("drop_tables") is None
    assert [t["function"]["name"] for t in openai_tools()] == READS + ACTIONS
    assert [t["function"]["name"] for t in openai_tools(READ_TOOLS)] == READS


def test_schema_hash_is_stable_and_tracks_descriptions() -> None:
    assert schema_hash(ALL_TOOLS) == schema_hash(ALL_TOOLS) == TOOL_SCHEMA_HASH
    assert len(TOOL_SCHEMA_HASH) == 64
    changed = dataclasses.replace(ALL_TOOLS[0], description=ALL_TOOLS[0].description + " ")
    assert schema_hash((changed, *ALL_TOOLS[1:])) != TOOL_SCHEMA_HASH
    assert schema_hash(tuple(reversed(ALL_TOOLS))) != TOOL_SCHEMA_HASH


@pytest.mark.parametrize(
    ("name", "raw"),
    [
        ("get_price", {"sku": "RUN-00042", "unit_cost": 1}),
        ("get_cart", {"customer_id": "C1002"}),
        ("add_to_cart", {"sku": "RUN-00042", "customer_id": "C1002"}),
        (
            "search_products",
            {"query": "x", "attributes": [{"name": "size", "value": "10", "op": "gt"}]},
        ),
    ],
)
def test_parse_args_rejects_unknown_fields(name: str, raw: dict[str, Any]) -> None:
    spec = get_tool(name)
    assert spec is not None
    with pytest.raises(ValidationError, match="Extra inputs"):
        spec.parse_args(raw)


@pytest.mark.parametrize(
    ("name", "raw"),
    [
        ("search_products", {"query": "x", "limit": 0}),
        ("search_products", {"query": "x", "limit": 21}),
        ("search_products", {"query": "x", "min_price": 50, "max_price": 10}),
        ("search_products", {"query": "x" * 201}),
        ("add_to_cart", {"sku": "RUN-00042", "quantity": 0}),
        ("add_to_cart", {"sku": "RUN-00042", "quantity": 10_000}),
        ("offer_discount", {"sku": "RUN-00042", "percent": 100, "reason": "goodwill"}),
        ("offer_discount", {"sku": "RUN-00042", "percent": 0, "reason": "goodwill"}),
        ("offer_discount", {"sku": "RUN-00042", "percent": 5, "reason": "because"}),
        ("request_refund", {"order_id": "O100123", "amount": -5, "reason": "late"}),
        ("request_refund", {"order_id": "O100123", "reason": "late", "method": "cash"}),
        ("request_return", {"order_id": "O100123", "skus": [], "reason": "fit"}),
        ("escalate_to_human", {"summary": "s" * 1001}),
        ("get_product", {"sku": "../customers/C1002"}),
        ("get_order", {"order_id": "O1/refunds"}),
        ("get_product", {"sku": ""}),
    ],
)
def test_parse_args_rejects_out_of_range_values(name: str, raw: dict[str, Any]) -> None:
    spec = get_tool(name)
    assert spec is not None
    with pytest.raises(ValidationError):
        spec.parse_args(raw)


def test_parse_args_applies_defaults() -> None:
    spec = get_tool("search_products")
    assert spec is not None
    args = spec.parse_args({"query": "trail shoes"})
    assert (args.limit, args.attributes, args.in_stock_only, args.category) == (5, [], False, None)


@given(st.text(min_size=1, max_size=80))
def test_path_identifiers_never_carry_url_syntax(sku: str) -> None:
    spec = get_tool("get_product")
    assert spec is not None
    try:
        args = spec.parse_args({"sku": sku})
    except ValidationError:
        return
    assert not set(args.sku) & set("/?#%.:\\ \n")
