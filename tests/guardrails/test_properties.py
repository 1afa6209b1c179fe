"""Property: whatever the model proposes, nothing executed breaks a cap or a floor.

The real validator runs over generated authoritative facts (list price, unit cost,
MAP, category, cart quantity); every allowed discount is "executed" the way the
execute step does it — a budget reservation against the cap, then commit.
"""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path
from typing import Any, TypeVar

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from guardrails.budget import BudgetLedger, SqliteBudgetLedger
from guardrails.facts import FactBundle
from guardrails.policy import LoadedPolicy, load_policy
from guardrails.rule_kinds import MarginFloorRule, MaxDiscountRule, SessionBudgetRule
from guardrails.validator import Validator
from guardrails.verdict import ProposedAction
from tools.client import CapabilityClient
from tools.spec import ToolContext

POLICY = load_policy()


def _rule(rule_id: str, kind: type[_R]) -> _R:
    rule = next(r for r in POLICY.policy.rules if r.id == rule_id)
    assert isinstance(rule, kind)
    return rule


_R = TypeVar("_R")
CATEGORIES = ["running-shoes", "gaming-laptops", "video-games", "apparel"]

item = st.fixed_dictionaries(
    {
        "list_price": st.floats(min_value=5, max_value=3000).map(lambda p: round(p, 2)),
        "cost_share": st.floats(min_value=0.3, max_value=0.98),
        "map_share": st.one_of(st.none(), st.floats(min_value=0.5, max_value=1.0)),
        "category": st.sampled_from(CATEGORIES),
        "quantity": st.integers(min_value=1, max_value=4),
    }
)
proposal = st.fixed_dictionaries(
    {
        "item": st.integers(min_value=0, max_value=2),
        "percent": st.floats(min_value=0.5, max_value=99.5).map(lambda p: round(p, 1)),
    }
)


def _facts_for(items: list[dict[str, Any]], ledger: BudgetLedger, session: str) -> Any:
    async def read(action: ProposedAction, ctx: ToolContext, _: BudgetLedger) -> FactBundle:
        spec = items[int(action.params["sku"].split("-")[1])]
        price = spec["list_price"]
        return FactBundle(
            product={"category": spec["category"], "brand": "B"},
            price={
                "list_price": price,
                "unit_cost": round(price * spec["cost_share"], 2),
                "map_price": round(price * spec["map_share"], 2) if spec["map_share"] else None,
                "as_of": "2026-11-24T16:30:00+00:00",
                "competitor_prices": [],
            },
            cart={
                "customer_id": "C1",
                "lines": [{"sku": action.params["sku"], "quantity": spec["quantity"]}],
            },
            session_discount_spent=ledger.spent(f"session:{session}"),
        )

    return read


def _ctx() -> ToolContext:
    return ToolContext(
        customer_id="C1",
        session_id="s1",
        channel="shopper",
        region="central",
        postcode="60614",
        loyalty_tier="gold",
        client=CapabilityClient(None),  # type: ignore[arg-type]
    )


async def _run(
    policy: LoadedPolicy,
    items: list[dict[str, Any]],
    proposals: list[dict[str, Any]],
    ledger: BudgetLedger,
) -> list[tuple[dict[str, Any], float]]:
    validator = Validator(policy, ledger, facts=_facts_for(items, ledger, "s1"))
    executed = []
    for n, p in enumerate(proposals):
        action = ProposedAction(
            id=f"a{n}",
            type="offer_discount",
            call_id=f"c{n}",
            llm_call_index=0,
            params={
                "sku": f"SKU-{p['item']}",
                "percent": p["percent"],
                "reason": "goodwill",
                "competitor": None,
            },
        )
        verdict = await validator.evaluate(action, _ctx())
        if verdict.outcome != "allow":
            continue
        assert verdict.budget is not None
        if ledger.reserve(
            verdict.budget.scope, action.id, verdict.budget.amount, verdict.budget.cap
        ):
            ledger.commit(action.id)
            executed.append((items[p["item"]], float(verdict.resolved_params["percent"])))
    return executed


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(items=st.lists(item, min_size=3, max_size=3), proposals=st.lists(proposal, max_size=8))
def test_executed_discounts_never_break_a_cap_or_a_floor(
    items: list[dict[str, Any]], proposals: list[dict[str, Any]]
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        ledger = SqliteBudgetLedger(Path(tmp) / "b.sqlite")
        executed = asyncio.run(_run(POLICY, items, proposals, ledger))
        spent = ledger.spent("session:s1")
    cap_rule = _rule("discount.max_percent", MaxDiscountRule).params
    margin = _rule("price.margin_floor", MarginFloorRule).params
    budget = _rule("budget.session_discount", SessionBudgetRule).params
    total = 0.0
    for spec, percent in executed:
        price = spec["list_price"]
        after = price * (1 - percent / 100)
        assert percent <= cap_rule.by_category.get(spec["category"], cap_rule.default_percent)
        floor = price * spec["cost_share"]
        min_margin = margin.by_category.get(spec["category"], margin.min_margin)
        assert after >= round(floor, 2) * (1 + min_margin) - 0.01
        if spec["map_share"]:
            assert after >= round(price * spec["map_share"], 2) - 0.01
        total += round(price * spec["quantity"] * percent / 100, 2)
    assert total <= budget.max_amount + 0.01
    assert abs(spent - total) < 0.01
