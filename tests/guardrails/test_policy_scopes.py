"""Rule scopes: rules limited to categories, brands, regions, tiers or channels fire only there."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, cast

import pytest
import yaml

from guardrails.facts import FactBundle
from guardrails.policy import PolicyError, parse_policy
from guardrails.policy_store import RuleSet
from guardrails.validator import decide
from guardrails.verdict import Fact, ProposedAction
from tools.client import CapabilityClient
from tools.spec import Channel, ToolContext

BASE = {"id": "cap.default", "kind": "max_discount_percent", "actions": ["offer_discount"]}


def _rules(*rules: dict[str, Any]) -> RuleSet:
    raw = yaml.safe_dump({"name": "scoped", "rules": list(rules)}).encode()
    return RuleSet(parse_policy(raw, source="<test>"))


def _cap(rule_id: str, percent: float, scope: dict[str, Any] | None = None) -> dict[str, Any]:
    rule: dict[str, Any] = {**BASE, "id": rule_id, "params": {"default_percent": percent}}
    if scope is not None:
        rule["scope"] = scope
    return rule


def _ctx(region: str = "midwest", tier: str = "gold", channel: Channel = "shopper") -> ToolContext:
    return ToolContext(
        customer_id="C1",
        session_id="s1",
        channel=channel,
        region=region,
        postcode="60601",
        loyalty_tier=tier,
        client=cast(CapabilityClient, None),
    )


def _facts(category: str = "running-shoes", brand: str = "Stride") -> FactBundle:
    product = {"sku": "SKU-1", "category": category, "brand": brand}
    price = {"sku": "SKU-1", "list_price": 100.0, "unit_cost": 10.0, "map_price": None}
    cart = {"customer_id": "C1", "lines": [{"sku": "SKU-1", "quantity": 1}]}
    now = datetime.now(UTC)
    return FactBundle(
        recorded=[Fact(kind="product", key="SKU-1", value=product, source="t", read_at=now)],
        product=product,
        price=price,
        cart=cart,
    )


def _discount(percent: float) -> ProposedAction:
    return ProposedAction(
        id="a1",
        type="offer_discount",
        params={"sku": "SKU-1", "percent": percent, "reason": "goodwill", "competitor": None},
        call_id="c1",
        llm_call_index=0,
    )


def _fired(rules: RuleSet, facts: FactBundle, ctx: ToolContext, percent: float = 12) -> list[str]:
    return decide(rules, _discount(percent), facts, ctx).rule_ids


@pytest.mark.parametrize(
    ("scope", "inside", "outside"),
    [
        ({"categories": ["running-shoes"]}, {}, {"category": "apparel"}),
        ({"brands": ["Stride"]}, {}, {"brand": "Other"}),
        ({"regions": ["midwest"]}, {}, {"region": "west"}),
        ({"loyalty_tiers": ["gold", "platinum"]}, {}, {"tier": "silver"}),
        ({"channels": ["copilot"]}, {"channel": "copilot"}, {"channel": "shopper"}),
    ],
)
def test_a_scoped_rule_fires_only_inside_its_scope(
    scope: dict[str, Any], inside: dict[str, Any], outside: dict[str, Any]
) -> None:
    rules = _rules(_cap("cap.everywhere", 50), _cap("cap.scoped", 10, scope))

    def where(change: dict[str, Any]) -> tuple[FactBundle, ToolContext]:
        facts = {k: v for k, v in change.items() if k in ("category", "brand")}
        ctx = {k: v for k, v in change.items() if k in ("region", "tier", "channel")}
        return _facts(**facts), _ctx(**ctx)

    assert _fired(rules, *where(inside)) == ["cap.scoped"]
    assert _fired(rules, *where(outside)) == []


def test_every_listed_dimension_must_match() -> None:
    rules = _rules(_cap("cap.scoped", 10, {"categories": ["running-shoes"], "regions": ["west"]}))
    assert _fired(rules, _facts(), _ctx(region="west")) == ["cap.scoped"]
    assert _fired(rules, _facts(), _ctx(region="midwest")) == []
    assert _fired(rules, _facts(category="apparel"), _ctx(region="west")) == []


def test_unscoped_rules_apply_everywhere_and_the_repair_uses_only_rules_in_scope() -> None:
    rules = _rules(_cap("cap.everywhere", 20), _cap("cap.apparel", 5, {"categories": ["apparel"]}))
    verdict = decide(rules, _discount(30), _facts(), _ctx())
    assert verdict.rule_ids == ["cap.everywhere"]
    assert verdict.repair is not None and verdict.repair.alternative is not None
    assert verdict.repair.alternative["percent"] == 20  # the apparel cap is out of scope here


def test_an_action_without_a_product_fact_is_outside_category_and_brand_scopes() -> None:
    rules = _rules(
        {"id": "refund.any", "kind": "refund_within_paid", "actions": ["request_refund"]},
        {
            "id": "refund.shoes",
            "kind": "refund_within_paid",
            "actions": ["request_refund"],
            "scope": {"categories": ["running-shoes"]},
        },
        {
            "id": "refund.midwest",
            "kind": "refund_within_paid",
            "actions": ["request_refund"],
            "scope": {"regions": ["midwest"]},
        },
    )
    order = {"order_id": "O1", "customer_id": "C1", "refundable_amount": 10.0}
    facts = FactBundle(order=order)
    action = ProposedAction(
        id="a1",
        type="request_refund",
        params={"order_id": "O1", "amount": 50.0},
        call_id="c1",
        llm_call_index=0,
    )
    assert decide(rules, action, facts, _ctx()).rule_ids == ["refund.any", "refund.midwest"]


def test_the_scope_filter_is_cached_per_context_and_keeps_file_order() -> None:
    rules = _rules(
        _cap("a", 50, {"regions": ["midwest"]}), _cap("b", 50), _cap("c", 50, {"regions": ["west"]})
    )
    first = rules.applicable("offer_discount", _facts().product, _ctx())
    assert [r.id for r in first[0]] == ["a", "b"]
    assert rules.applicable("offer_discount", _facts().product, _ctx()) is first
    assert [r.id for r in rules.applicable("offer_discount", None, _ctx("west"))[0]] == ["b", "c"]


@pytest.mark.parametrize(
    ("scope", "problem"),
    [
        ({"colour": ["red"]}, "rules[0].scope.colour: Extra inputs are not permitted"),
        ({"channels": ["kiosk"]}, "rules[0].scope.channels[0]: Input should be 'shopper' or"),
        ({"regions": []}, "rules[0].scope.regions: List should have at least 1 item"),
        (
            {"categories": "running-shoes"},
            "rules[0].scope.categories: Input should be a valid list",
        ),
        ({"brands": [""]}, "rules[0].scope.brands[0]: String should have at least 1 character"),
    ],
)
def test_a_bad_scope_is_reported_with_its_path(scope: dict[str, Any], problem: str) -> None:
    raw = yaml.safe_dump({"name": "bad", "rules": [_cap("cap", 10, scope)]}).encode()
    with pytest.raises(PolicyError) as caught:
        parse_policy(raw)
    assert any(p.startswith(problem) for p in caught.value.problems), caught.value.problems


def test_every_scope_error_is_reported_at_once() -> None:
    raw = yaml.safe_dump(
        {
            "name": "bad",
            "rules": [_cap("a", 10, {"colour": ["red"]}), _cap("b", 10, {"tiers": ["gold"]})],
        }
    ).encode()
    with pytest.raises(PolicyError) as caught:
        parse_policy(raw)
    assert [p.split(":")[0] for p in caught.value.problems] == [
        "rules[0].scope.colour",
        "rules[1].scope.tiers",
    ]
