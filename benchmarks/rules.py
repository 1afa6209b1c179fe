"""Rule evaluation alone: verdicts per second and latency for a 200-rule policy, one core.

    .venv/bin/python -m benchmarks.rules [--verdicts 20000] [--warmup 2000]

Facts are pre-read (built in memory, shaped like the services' answers), so this
measures ``guardrails.validator.decide`` — the exact function the live validator
calls after reading facts: scope-filtered rule lookup, parameter resolution, every
applicable check, the verdict model, the discount repair and budget claim. The
policy has 200 rules over six action types, most of them scoped (categories,
brands, regions, tiers, channels), so the scope filter is exercised too. A reference
row runs the same checks as a plain scan over all 200 rules (no index, no scope
cache). Goal: >= 50,000 verdicts/s on the mixed load, p99 < 100 µs on every row.
"""

from __future__ import annotations

import argparse
import functools
import gc
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, cast

import yaml
from rich.console import Console
from rich.table import Table

from guardrails.facts import FactBundle
from guardrails.policy import LoadedPolicy, parse_policy
from guardrails.policy_store import RuleSet, in_scope
from guardrails.rules import RULE_CHECKS
from guardrails.validator import decide, resolve_params
from guardrails.verdict import Fact, ProposedAction, Verdict
from tools.client import CapabilityClient
from tools.spec import ToolContext

CATEGORIES = [f"cat-{i:02d}" for i in range(30)] + ["running-shoes"]
BRANDS = [f"brand-{i:02d}" for i in range(12)] + ["Stride"]
REGIONS = ["midwest", "northeast", "west", "south"]
TIERS = ["none", "silver", "gold", "platinum"]


def policy_document(n_rules: int = 200) -> dict[str, Any]:
    """A policy of ``n_rules`` rules, deterministic, most of them scoped."""
    rules: list[dict[str, Any]] = [
        {"id": "scope.customer", "kind": "customer_scope", "actions": ["*"]},
        {
            "id": "discount.default",
            "kind": "max_discount_percent",
            "actions": ["offer_discount"],
            "params": {"default_percent": 15},
        },
        {
            "id": "budget.session",
            "kind": "session_discount_budget",
            "actions": ["offer_discount"],
            "params": {"max_amount": 60},
        },
        {"id": "price.map", "kind": "map_floor", "actions": ["offer_discount"]},
        {
            "id": "price.match",
            "kind": "price_match",
            "actions": ["offer_discount"],
            "params": {"max_age_hours": 48},
        },
    ]
    makers: list[Callable[[int], dict[str, Any]]] = [
        lambda i: {
            "kind": "max_discount_percent",
            "actions": ["offer_discount"],
            "params": {"default_percent": 10 + i % 15},
            "scope": {"categories": [CATEGORIES[i % len(CATEGORIES)]]},
        },
        lambda i: {
            "kind": "margin_floor",
            "actions": ["offer_discount"],
            "params": {"min_margin": 0.05 + (i % 5) / 100},
            "scope": {"brands": [BRANDS[i % len(BRANDS)]], "regions": [REGIONS[i % 4]]},
        },
        lambda i: {
            "kind": "stock_available",
            "actions": ["add_to_cart", "reserve_inventory"],
            "scope": {"categories": [CATEGORIES[i % len(CATEGORIES)]]},
        },
        lambda i: {
            "kind": "delivery_confirmed",
            "actions": ["promise_delivery"],
            "scope": {"regions": [REGIONS[i % 4]], "channels": ["shopper"]},
        },
        lambda i: {
            "kind": "refund_within_paid",
            "actions": ["request_refund"],
            "effect": "require_approval" if i % 3 else "deny",
            "scope": {"loyalty_tiers": [TIERS[i % 4]], "regions": [REGIONS[i // 20 % 4]]},
        },
    ]
    i = 0
    while len(rules) < n_rules:
        rule = makers[i % len(makers)](i)
        rules.append({"id": f"r{i:03d}.{rule['kind']}", **rule})
        i += 1
    return {"name": "bench-200", "rules": rules}


def load_bench_policy(n_rules: int = 200) -> LoadedPolicy:
    """The benchmark policy, through the same loader as a policy file."""
    raw = yaml.safe_dump(policy_document(n_rules), sort_keys=False).encode()
    return parse_policy(raw, source="<bench>")


def context() -> ToolContext:
    """A trusted session context (rules never touch the HTTP client)."""
    return ToolContext(
        customer_id="C1001",
        session_id="s-bench",
        channel="shopper",
        region="midwest",
        postcode="60601",
        loyalty_tier="gold",
        client=cast(CapabilityClient, None),
    )


def _fact(kind: str, key: str, value: dict[str, Any]) -> Fact:
    return Fact(kind=kind, key=key, value=value, source="bench", read_at=datetime.now(UTC))


def discount_facts() -> FactBundle:
    """Facts of an offer_discount on a running shoe in the customer's cart."""
    product = {"sku": "RUN-00005", "category": "running-shoes", "brand": "Stride"}
    price = {
        "sku": "RUN-00005",
        "list_price": 89.99,
        "unit_cost": 50.03,
        "map_price": None,
        "as_of": "2026-11-24T16:30:00+00:00",
        "competitor_prices": [
            {
                "competitor": "RunnerDepot",
                "price": 76.99,
                "observed_at": "2026-11-22T13:26:09+00:00",
            }
        ],
    }
    cart = {"customer_id": "C1001", "lines": [{"sku": "RUN-00005", "quantity": 1}]}
    return FactBundle(
        recorded=[
            _fact("product", "RUN-00005", product),
            _fact("price", "RUN-00005", price),
            _fact("cart", "C1001", cart),
            _fact("budget", "session:s-bench", {"spent": 12.0}),
        ],
        product=product,
        price=price,
        cart=cart,
        session_discount_spent=12.0,
    )


def cart_facts() -> FactBundle:
    """Facts of an add_to_cart."""
    product = {"sku": "CAT-00001", "category": "cat-07", "brand": "brand-03"}
    stock = {"sku": "CAT-00001", "total_available": 4, "locations": []}
    cart = {"customer_id": "C1001", "lines": []}
    return FactBundle(
        recorded=[_fact("product", "CAT-00001", product), _fact("stock", "CAT-00001", stock)],
        product=product,
        stock=stock,
        cart=cart,
    )


def delivery_facts() -> FactBundle:
    """Facts of a promise_delivery (no product fact: category-scoped rules do not apply)."""
    options = {"options": [{"option_id": "std", "available": True, "capacity_remaining": 9}]}
    return FactBundle(
        recorded=[_fact("delivery_options", "RUN-00005", options)], delivery_options=options
    )


def refund_facts() -> FactBundle:
    """Facts of a request_refund."""
    order = {"order_id": "O-1", "customer_id": "C1001", "refundable_amount": 40.0}
    return FactBundle(recorded=[_fact("order", "O-1", order)], order=order)


def action(kind: str, **params: Any) -> ProposedAction:
    """A proposal as the planner would make it."""
    return ProposedAction(id="act_1", type=kind, params=params, call_id="c1", llm_call_index=0)


Scenario = tuple[str, ProposedAction, FactBundle]

FACTS: dict[str, Callable[[], FactBundle]] = {
    "offer_discount": discount_facts,
    "add_to_cart": cart_facts,
    "promise_delivery": delivery_facts,
    "request_refund": refund_facts,
}


def scenarios() -> list[Scenario]:
    """Each proposal with the facts its action type reads."""
    return [(name, act, FACTS[act.type]()) for name, act in proposals()]


def proposals() -> list[tuple[str, ProposedAction]]:
    """Proposals covering allow, deny (with repair) and require_approval."""
    discount = {"sku": "RUN-00005", "reason": "goodwill", "competitor": None}
    delivery = {"sku": "RUN-00005", "quantity": 1, "option_id": "std"}
    return [
        ("offer_discount 10% (allow)", action("offer_discount", percent=10, **discount)),
        ("offer_discount 40% (deny + repair)", action("offer_discount", percent=40, **discount)),
        ("add_to_cart qty 2 (allow)", action("add_to_cart", sku="CAT-00001", quantity=2)),
        ("add_to_cart qty 9 (deny + repair)", action("add_to_cart", sku="CAT-00001", quantity=9)),
        ("promise_delivery (allow)", action("promise_delivery", **delivery)),
        ("request_refund $80 (deny)", action("request_refund", order_id="O-1", amount=80.0)),
    ]


def scan_all(
    loaded: LoadedPolicy, act: ProposedAction, facts: FactBundle, ctx: ToolContext
) -> Verdict:
    """Reference: every rule of the file checked in turn (no index, no scope cache)."""
    params = resolve_params(act, facts)
    hits = [
        hit
        for rule in loaded.policy.rules
        if rule.covers(act.type)
        and in_scope(rule, facts.product, ctx)
        and (hit := RULE_CHECKS[rule.kind](rule, params, facts, ctx)) is not None
    ]
    return Verdict(
        action_id=act.id,
        outcome="deny" if hits else "allow",
        hits=hits,
        facts=facts.recorded,
        policy_version=loaded.version,
        resolved_params=params,
    )


def measure(fn: Callable[[], object], verdicts: int, warmup: int) -> tuple[float, float, float]:
    """(p50 µs, p99 µs, verdicts/s) of ``fn`` called ``verdicts`` times after a warm-up."""
    for _ in range(warmup):
        fn()
    gc.collect()
    clock = time.perf_counter
    samples = [0.0] * verdicts
    started = clock()
    for i in range(verdicts):
        t0 = clock()
        fn()
        samples[i] = clock() - t0
    elapsed = clock() - started
    samples.sort()
    p99 = samples[min(verdicts - 1, int(0.99 * verdicts))]
    return statistics.median(samples) * 1e6, p99 * 1e6, verdicts / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--verdicts", type=int, default=20000)
    parser.add_argument("--warmup", type=int, default=2000)
    args = parser.parse_args()
    loaded = load_bench_policy()
    rules = RuleSet(loaded)
    ctx = context()
    table = Table(
        title=f"rule evaluation, {len(loaded.policy.rules)} rules, facts pre-read, one core, "
        f"{args.verdicts} verdicts after {args.warmup} warm-up"
    )
    for column in ("scenario", "outcome", "covering", "applicable", "verdicts/s", "p50 µs"):
        table.add_column(column, justify="left" if column in ("scenario", "outcome") else "right")
    table.add_column("p99 µs", justify="right")
    rates: list[float] = []
    worst_p99 = 0.0
    for name, act, facts in scenarios():
        verdict = decide(rules, act, facts, ctx)
        covering = len(loaded.policy.rules_for(act.type))
        applicable = len(rules.applicable(act.type, facts.product, ctx)[0])
        p50, p99, rate = measure(
            functools.partial(decide, rules, act, facts, ctx), args.verdicts, args.warmup
        )
        rates.append(rate)
        worst_p99 = max(worst_p99, p99)
        table.add_row(
            name, verdict.outcome, str(covering), str(applicable),
            f"{rate:,.0f}", f"{p50:.1f}", f"{p99:.1f}",
        )  # fmt: skip
    mix = scenarios()
    state = {"i": 0}

    def mixed() -> Verdict:
        _, a, f = mix[state["i"] % len(mix)]
        state["i"] += 1
        return decide(rules, a, f, ctx)

    p50, p99, rate_mixed = measure(mixed, args.verdicts, args.warmup)
    worst_p99 = max(worst_p99, p99)
    table.add_row(
        "mixed (round robin)", "-", "-", "-", f"{rate_mixed:,.0f}", f"{p50:.1f}", f"{p99:.1f}"
    )
    _, act, facts = mix[0]
    p50, p99, rate = measure(lambda: scan_all(loaded, act, facts, ctx), args.verdicts, args.warmup)
    table.add_row(
        "reference: scan all 200 (no index)", "allow", str(len(loaded.policy.rules)), "-",
        f"{rate:,.0f}", f"{p50:.1f}", f"{p99:.1f}", style="dim",
    )  # fmt: skip
    console = Console(width=max(Console().width, 110))
    console.print(table)
    ok = rate_mixed >= 50_000 and worst_p99 < 100
    console.print(
        f"goal >= 50,000 verdicts/s (mixed) and p99 < 100 µs (every row): "
        f"{'met' if ok else 'NOT met'} — mixed {rate_mixed:,.0f}/s, slowest scenario "
        f"{min(rates):,.0f}/s, worst p99 {worst_p99:.1f} µs"
    )


if __name__ == "__main__":
    main()
