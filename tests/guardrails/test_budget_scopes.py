"""Budget caps over several scopes: customer-day, campaign, global day; reserved together."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from agent.deps import TurnContext
from agent.nodes.act import execute_one, idempotency_key
from agent.record import CustomerContext, Principal
from agent.runtime import Arbiter
from agent.state import TurnScratch
from guardrails.ledger import campaign_scope, customer_day_scope, global_day_scope
from guardrails.policy import DEFAULT_POLICY_PATH, parse_policy
from guardrails.validator import Validator
from guardrails.verdict import ProposedAction, Verdict
from tests.guardrails.sandbox_support import put_in_cart, session_context
from tools.spec import ToolContext

DEFAULT = DEFAULT_POLICY_PATH.read_text()
PRICE = 89.99  # RUN-00005's seeded list price
EIGHTEEN = round(PRICE * 0.2, 2)  # a 20% discount on one unit


def _policy(**caps: int) -> str:
    """The default policy with other customer-day, global-day and goodwill campaign caps."""
    text = DEFAULT
    for old, key in (
        ("max_amount: 150", "customer"),
        ("max_amount: 25000", "global"),
        ("goodwill: 5000", "goodwill"),
    ):
        if key in caps:
            text = text.replace(old, old.split(":")[0] + f": {caps[key]}")
    return text


def _discount(percent: float = 20, reason: str = "goodwill", n: int = 1) -> ProposedAction:
    return ProposedAction(
        id=f"act_{n}",
        type="offer_discount",
        params={"sku": "RUN-00005", "percent": percent, "reason": reason, "competitor": None},
        call_id=f"c{n}",
        llm_call_index=0,
    )


class _Spender:
    """Validates as one customer/session and, when allowed, reserves and commits every claim."""

    def __init__(self, arbiter: Arbiter, text: str) -> None:
        self.arbiter = arbiter
        self.validator = Validator(parse_policy(text.encode()), arbiter.deps.validator.ledger)
        self.entries = 0

    async def verdict(self, customer: str, session: str, **kw: Any) -> Verdict:
        ctx = await session_context(self.arbiter, customer, session)
        return await self.validator.evaluate(_discount(**kw), ctx)

    async def spend(self, customer: str, session: str, **kw: Any) -> Verdict:
        verdict = await self.verdict(customer, session, **kw)
        assert verdict.outcome == "allow", verdict.reasons
        self.entries += 1
        entry = f"entry-{self.entries}"
        claims = [(c.scope, c.amount, c.cap) for c in verdict.budget_claims]
        assert self.validator.ledger.reserve_many(claims, entry)
        self.validator.ledger.commit(entry)
        return verdict


async def test_a_verdict_claims_every_scope_that_applies(arbiter: Arbiter) -> None:
    await put_in_cart(arbiter, "RUN-00005", customer_id="C1001")
    spender = _Spender(arbiter, DEFAULT)
    verdict = await spender.verdict("C1001", "s1")
    assert verdict.outcome == "allow", verdict.reasons
    assert {c.scope: c.cap for c in verdict.budgets} == {
        "session:s1": 60,
        customer_day_scope("C1001"): 150,
        campaign_scope("goodwill"): 5000,
        global_day_scope(): 25000,
    }
    assert all(c.amount == EIGHTEEN for c in verdict.budgets)
    assert verdict.budget is not None and verdict.budget.scope == "session:s1"
    assert "budget_scopes" in {f.kind for f in verdict.facts}


async def test_the_customer_day_cap_binds_across_sessions(arbiter: Arbiter) -> None:
    await put_in_cart(arbiter, "RUN-00005", customer_id="C1001")
    spender = _Spender(arbiter, _policy(customer=30))
    await spender.spend("C1001", "morning")
    later = await spender.verdict("C1001", "afternoon")
    assert later.outcome == "deny" and later.rule_ids == ["budget.customer_daily"]
    repair = later.repair
    assert repair is not None and repair.headroom == round(30 - EIGHTEEN, 2)
    # The largest discount that fits what is left today: $12.00 of $89.99 is 13%.
    assert repair.alternative is not None and repair.alternative["percent"] == 13
    assert (await spender.verdict("C1001", "afternoon", percent=13)).outcome == "allow"


async def test_the_global_day_cap_binds_across_customers(arbiter: Arbiter) -> None:
    for customer in ("C1001", "C1007"):
        await put_in_cart(arbiter, "RUN-00005", customer_id=customer)
    spender = _Spender(arbiter, _policy(**{"global": 30}))
    await spender.spend("C1001", "s1")
    other = await spender.verdict("C1007", "s2")
    assert other.outcome == "deny" and other.rule_ids == ["budget.global_daily"]
    assert "store-wide" in other.reasons[0]


async def test_a_campaign_cap_binds_only_that_campaign(arbiter: Arbiter) -> None:
    for customer in ("C1001", "C1007"):
        await put_in_cart(arbiter, "RUN-00005", customer_id=customer)
    spender = _Spender(arbiter, _policy(goodwill=25))
    await spender.spend("C1001", "s1", reason="goodwill")
    goodwill = await spender.verdict("C1007", "s2", reason="goodwill")
    loyalty = await spender.verdict("C1007", "s2", reason="loyalty")
    assert goodwill.outcome == "deny" and goodwill.rule_ids == ["budget.campaign"]
    assert "goodwill" in goodwill.reasons[0]
    assert loyalty.outcome == "allow", loyalty.reasons


async def test_the_repair_respects_the_tightest_cap(arbiter: Arbiter) -> None:
    for customer in ("C1001", "C1007"):
        await put_in_cart(arbiter, "RUN-00005", customer_id=customer)
    spender = _Spender(arbiter, _policy(customer=40, **{"global": 27}))
    await spender.spend("C1007", "s0")  # $18 of the day's $27 gone; C1001 has $40 of its own
    verdict = await spender.verdict("C1001", "s1", percent=15)
    assert verdict.outcome == "deny" and verdict.rule_ids == ["budget.global_daily"]
    # session $60, customer $40, campaign $5000 left; global only $9.00: 10% of $89.99.
    repair = verdict.repair
    assert repair is not None and repair.alternative is not None
    assert repair.alternative["percent"] == 10
    assert (await spender.verdict("C1001", "s1", percent=10)).outcome == "allow"


def _turn(ctx: ToolContext) -> tuple[TurnContext, TurnScratch]:
    customer = CustomerContext(
        name="T", region=ctx.region, postcode=ctx.postcode, loyalty_tier=ctx.loyalty_tier
    )
    scratch = TurnScratch(
        turn_id="t1",
        session_id=ctx.session_id,
        principal=Principal(customer_id=ctx.customer_id, channel="shopper"),
        customer=customer,
        user_message="x",
        started_at=datetime.now(UTC),
    )
    return TurnContext(tools=ctx, customer=customer), scratch


async def test_execution_reserves_every_claim_or_none(arbiter: Arbiter) -> None:
    await put_in_cart(arbiter, "RUN-00005", customer_id="C1001")
    ledger = arbiter.deps.ledger
    ctx = await session_context(arbiter, "C1001", "ses_exec")
    turn, scratch = _turn(ctx)
    action = _discount(n=1)
    verdict = await arbiter.deps.validator.evaluate(action, ctx)
    assert verdict.outcome == "allow" and len(verdict.budgets) == 4
    # Between validation and execution another replica fills today's global budget.
    day = global_day_scope()
    assert ledger.reserve(day, "elsewhere", 25000 - 1, 25000)
    skipped = await execute_one(
        arbiter.deps, turn, action, verdict, idempotency_key(scratch, action)
    )
    assert skipped.status == "skipped" and skipped.error is not None
    assert skipped.error["code"] == "budget_exhausted"
    for claim in verdict.budgets:
        expected = 25000 - 1 if claim.scope == day else 0.0
        assert ledger.spent(claim.scope) == expected, claim.scope
    cart = await arbiter.client.get("/carts", params={"customer_id": "C1001"})
    assert cart["lines"][0]["discount_percent"] in (0, None)

    ledger.release("elsewhere")
    executed = await execute_one(
        arbiter.deps, turn, action, verdict, idempotency_key(scratch, action)
    )
    assert executed.status == "executed", executed.error
    assert executed.budget_entry is not None
    for claim in verdict.budgets:
        assert abs(ledger.spent(claim.scope) - EIGHTEEN) < 1e-6, claim.scope
