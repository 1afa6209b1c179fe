"""The validator: one proposal in, one verdict out, under exactly one policy version.

Order of work: the kill switch, the scope pre-check on raw arguments, then the
authoritative facts the action type needs (read now, concurrently), then ``decide``:
parameter resolution from those facts (a price match's percent, a refund's amount)
and every covering, in-scope rule. Any rule that cannot be evaluated denies (fail
closed).

``decide`` is pure (facts in, verdict out, no I/O), so the facts read once serve
both the enforced policy and a shadow candidate (``evaluate_both``), and the rules
benchmark measures exactly the code the live path runs.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from guardrails.budget import BudgetLedger
from guardrails.facts import FactBundle, FactsUnavailable, read_facts, session_scope
from guardrails.kill_switch import KillSwitch, KillSwitchUnavailable, NoKillSwitch, Switch
from guardrails.policy import LoadedPolicy, Rule
from guardrails.policy_store import PolicyPin, PolicyStore, RuleSet
from guardrails.rules.budgets import budget_claims
from guardrails.rules.compliance import rate_claims
from guardrails.rules.discounts import allowed_percent, resolve_price_match
from guardrails.verdict import (
    BudgetClaim,
    Fact,
    Outcome,
    ProposedAction,
    RepairHint,
    RuleHit,
    Verdict,
)
from tools.spec import ToolContext

FAIL_CLOSED_RULE = "system.fail_closed"
UNKNOWN_RESOURCE_RULE = "system.unknown_resource"
SCOPE_RULE = "system.customer_scope"
KILL_SWITCH_RULE = "system.kill_switch"
NO_DISCOUNT_RULE = "system.no_discount_to_apply"
NOT_IN_CART_RULE = "system.discount_needs_cart_line"

logger = logging.getLogger("arbiter.guardrails")


def names_other_customer(raw_args: dict[str, Any], ctx: ToolContext) -> bool:
    """True when a tool call's arguments name a customer other than the session's."""
    named = raw_args.get("customer_id")
    return named is not None and str(named) != ctx.customer_id


FactReader = Callable[[ProposedAction, ToolContext, BudgetLedger], Awaitable[FactBundle]]
"""Where facts come from: the live services (``read_facts``) or a recording (replay)."""


class Validator:
    """Evaluates proposals against the store's policies and authoritative facts."""

    def __init__(
        self,
        policy: LoadedPolicy | PolicyStore,
        ledger: BudgetLedger,
        facts: FactReader = read_facts,
        *,
        kill_switch: KillSwitch | None = None,
    ) -> None:
        self.policies = policy if isinstance(policy, PolicyStore) else PolicyStore(policy)
        self.ledger = ledger
        self.kill_switch: KillSwitch = kill_switch or NoKillSwitch()
        self._read_facts = facts

    @property
    def policy(self) -> LoadedPolicy:
        """The policy in force for new turns (a turn in flight keeps its pin)."""
        return self.policies.active

    async def evaluate(
        self, action: ProposedAction, ctx: ToolContext, *, pin: PolicyPin | None = None
    ) -> Verdict:
        """Decide one proposal. Never raises for a service failure: it denies instead."""
        pin = pin or self.policies.pin()
        active, _ = await self.evaluate_both(action, ctx, PolicyPin(pin.active))
        return active

    async def evaluate_both(
        self, action: ProposedAction, ctx: ToolContext, pin: PolicyPin
    ) -> tuple[Verdict, Verdict | None]:
        """The enforced verdict and, when the pin has one, the shadow policy's verdict.

        Facts are read once and both policies decide on them. The shadow verdict is
        for the record only; a failure computing it is logged, never raised.
        """
        started = time.perf_counter()
        stop, facts = await self._precheck_and_read(action, ctx)
        if stop is not None:
            active = _verdict(pin.active.version, action, [stop], facts, action.params, started)
            if pin.shadow is None:
                return active, None
            return active, active.model_copy(update={"policy_version": pin.shadow.version})
        active = decide(pin.active, action, facts, ctx, started=started)
        shadow: Verdict | None = None
        if pin.shadow is not None:
            try:
                shadow = decide(pin.shadow, action, facts, ctx)
            except Exception:  # the candidate must never break the enforced path
                logger.exception(
                    "shadow policy %s failed on %s", pin.shadow.version[:12], action.type
                )
        return active, shadow

    async def _precheck_and_read(
        self, action: ProposedAction, ctx: ToolContext
    ) -> tuple[RuleHit | None, FactBundle]:
        """A system hit that stops the proposal before any rule, or the facts it needs."""
        # Read afresh on every verdict: a switch set by any replica stops the next proposal.
        try:
            switch = self.kill_switch.blocks(action.type, ctx.channel)
        except KillSwitchUnavailable:
            return _switch_unread_hit(), FactBundle()
        if switch is not None:
            return _kill_switch_hit(switch), FactBundle(recorded=[_switch_fact(switch)])
        if names_other_customer(action.params, ctx):
            return _scope_hit(), FactBundle()
        try:
            return None, await self._read_facts(action, ctx, self.ledger)
        except FactsUnavailable as exc:
            return _facts_hit(exc), FactBundle()


def decide(
    rules: RuleSet,
    action: ProposedAction,
    facts: FactBundle,
    ctx: ToolContext,
    *,
    started: float | None = None,
) -> Verdict:
    """The pure part of a verdict: resolve parameters, run the applicable rules, decide.

    No I/O: ``facts`` were read beforehand. The live validator, the shadow policy and
    the rules benchmark all call this.
    """
    if started is None:
        started = time.perf_counter()
    applicable, checks = rules.applicable(action.type, facts.product, ctx)
    params = resolve_params(action, facts)
    hits = [hit for fn, rule in checks if (hit := fn(rule, params, facts, ctx)) is not None]
    discount = action.type == "offer_discount"
    if discount:
        hits.extend(_discount_preconditions(params, facts))
    verdict = _verdict(rules.version, action, hits, facts, params, started)
    if discount and facts.price is not None:
        _attach_discount_alternative(hits, applicable, params, facts)
        verdict.budgets = budget_claims(applicable, params, facts, ctx)
        verdict.budget = _budget_claim(verdict.budgets, ctx)
    verdict.rate_limits = rate_claims(applicable, ctx)
    return verdict


def _verdict(
    version: str,
    action: ProposedAction,
    hits: list[RuleHit],
    facts: FactBundle,
    params: dict[str, Any],
    started: float,
) -> Verdict:
    outcome: Outcome = "allow"
    if hits:
        outcome = "deny" if any(hit.effect == "deny" for hit in hits) else "require_approval"
    return Verdict(
        action_id=action.id,
        outcome=outcome,
        hits=hits,
        facts=facts.recorded,
        policy_version=version,
        resolved_params=params,
        duration_ms=(time.perf_counter() - started) * 1000,
    )


def resolve_params(action: ProposedAction, facts: FactBundle) -> dict[str, Any]:
    """Parameters to execute with, computed from facts where the model must not decide."""
    params = dict(action.params)
    if action.type == "offer_discount":
        params = resolve_price_match(params, facts)
    if action.type == "request_refund" and params.get("amount") is None and facts.order:
        params["amount"] = float(facts.order.get("refundable_amount", 0.0))
    return params


def _budget_claim(claims: list[BudgetClaim], ctx: ToolContext) -> BudgetClaim | None:
    """The session's claim, kept as ``Verdict.budget`` for readers of older records."""
    scope = session_scope(ctx.session_id)
    return next((claim for claim in claims if claim.scope == scope), None)


def _attach_discount_alternative(
    hits: list[RuleHit], rules: list[Rule], params: dict[str, Any], facts: FactBundle
) -> None:
    if not hits or facts.price is None or any(h.rule_id == NOT_IN_CART_RULE for h in hits):
        return
    best = allowed_percent(rules, params, facts)
    alternative = (
        {"sku": params["sku"], "percent": best, "reason": params.get("reason", "goodwill")}
        if best >= 1 and params.get("reason") != "price_match"
        else None
    )
    for hit in hits:
        if hit.rule_id.startswith("system."):
            continue
        if hit.repair is None:
            hit.repair = RepairHint(rule_id=hit.rule_id)
        hit.repair.alternative = alternative


def _discount_preconditions(params: dict[str, Any], facts: FactBundle) -> list[RuleHit]:
    """A discount must have an amount and a cart line to apply to, whatever the policy."""
    hits = []
    if not float(params.get("percent") or 0) > 0:
        reason = (
            "There is no lower competitor price on record to match."
            if params.get("reason") == "price_match"
            else "A discount needs a percentage."
        )
        hits.append(
            RuleHit(rule_id=NO_DISCOUNT_RULE, kind="discount", effect="deny", reason=reason)
        )
    if facts.cart_quantity(str(params.get("sku"))) == 0:
        hits.append(
            RuleHit(
                rule_id=NOT_IN_CART_RULE,
                kind="discount",
                effect="deny",
                reason=f"{params.get('sku')} is not in the cart; add it first, then ask again.",
                repair=RepairHint(
                    rule_id=NOT_IN_CART_RULE,
                    alternative={"action": "add_to_cart", "sku": params.get("sku"), "quantity": 1},
                ),
            )
        )
    return hits


def _scope_hit() -> RuleHit:
    return RuleHit(
        rule_id=SCOPE_RULE,
        kind="customer_scope",
        effect="deny",
        reason="Actions can only be taken for the customer signed in to this session.",
    )


def _kill_switch_hit(switch: Switch) -> RuleHit:
    # The operator's own words stay in the verdict's facts: shoppers read the reason.
    what = {"all": "All actions are", "channel": "Actions in this channel are"}.get(
        switch.scope.partition(":")[0], "This action is"
    )
    return RuleHit(
        rule_id=KILL_SWITCH_RULE,
        kind="kill_switch",
        effect="deny",
        reason=f"{what} paused by our team right now, so nothing was changed.",
    )


def _switch_fact(switch: Switch) -> Fact:
    return Fact(
        kind="kill_switch",
        key=switch.scope,
        value={
            "scope": switch.scope,
            "reason": switch.reason,
            "set_by": switch.set_by,
            "set_at": switch.set_at.isoformat(),
        },
        source="kill_switch",
        read_at=datetime.now(UTC),
    )


def _switch_unread_hit() -> RuleHit:
    return RuleHit(
        rule_id=FAIL_CLOSED_RULE,
        kind="kill_switch",
        effect="deny",
        reason="Whether actions are switched off could not be confirmed, so nothing was changed.",
    )


def _facts_hit(exc: FactsUnavailable) -> RuleHit:
    if exc.not_found:
        return RuleHit(
            rule_id=UNKNOWN_RESOURCE_RULE,
            kind="facts",
            effect="deny",
            reason=f"The {exc.kind} it refers to does not exist: {exc.detail}",
        )
    return RuleHit(
        rule_id=FAIL_CLOSED_RULE,
        kind="facts",
        effect="deny",
        reason=f"The {exc.kind} could not be confirmed right now, so nothing was changed.",
    )
