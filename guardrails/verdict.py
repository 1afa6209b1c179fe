"""What validation produces: proposals in, verdicts (with facts and repair hints) out."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

Outcome = Literal["allow", "deny", "require_approval"]
Effect = Literal["deny", "require_approval"]


class ProposedAction(BaseModel):
    """An action tool call the model emitted; it runs only after an ``allow`` verdict."""

    id: str = Field(description="Stable id within the turn (also the idempotency key seed).")
    type: str = Field(description="The action tool name, e.g. offer_discount.")
    params: dict[str, Any] = Field(description="Arguments as validated by the tool's model.")
    call_id: str = Field(description="The model's tool-call id that produced it.")
    llm_call_index: int = Field(description="Which model call of the turn proposed it.")


class Fact(BaseModel):
    """One authoritative fact read for a verdict."""

    kind: str = Field(description="price, stock, delivery_options, cart, order, product, ...")
    key: str = Field(description="What it is about (a SKU, an order id, a session).")
    value: dict[str, Any]
    source: str = Field(description="Capability service it came from.")
    read_at: datetime


class RepairHint(BaseModel):
    """Machine-readable help for the planner to propose something that passes."""

    rule_id: str
    limit: float | None = Field(default=None, description="The bound the rule enforces.")
    actual: float | None = Field(default=None, description="The value the proposal had.")
    headroom: float | None = Field(default=None, description="How much is still allowed.")
    alternative: dict[str, Any] | None = Field(
        default=None, description="Arguments of a proposal that would pass, when one exists."
    )


class RuleHit(BaseModel):
    """A rule that fired against a proposal."""

    rule_id: str
    kind: str
    effect: Effect
    reason: str = Field(description="One sentence for humans (and the shopper).")
    repair: RepairHint | None = None


class BudgetClaim(BaseModel):
    """What executing an action costs a budget scope."""

    scope: str
    amount: float
    cap: float


class RateClaim(BaseModel):
    """A rate limit an execution must fit in: at most ``max_actions`` per window in a scope."""

    rule_id: str = Field(description="The rate_limit rule the claim comes from.")
    scope: str = Field(description="What is counted, e.g. session:<id>.")
    window_seconds: float
    max_actions: int
    counted_types: list[str] = Field(description="Action types that count; '*' for all.")


class Verdict(BaseModel):
    """The validator's decision on one proposal."""

    action_id: str
    outcome: Outcome
    hits: list[RuleHit] = Field(default_factory=list)
    facts: list[Fact] = Field(default_factory=list)
    policy_version: str = Field(description="sha256 of the policy file the rules came from.")
    resolved_params: dict[str, Any] = Field(
        default_factory=dict,
        description="Parameters to execute with, computed from authoritative facts.",
    )
    budget: BudgetClaim | None = Field(
        default=None, description="The session budget's claim (also in ``budgets``)."
    )
    budgets: list[BudgetClaim] = Field(
        default_factory=list,
        description="Every budget scope this action takes money from, reserved together.",
    )
    rate_limits: list[RateClaim] = Field(
        default_factory=list, description="Rate limits the execution must fit in, taken on execute."
    )
    duration_ms: float = 0.0
    stage: Literal["proposal", "after_approval"] = Field(
        default="proposal",
        description="proposal: before any person saw it; after_approval: the rules run "
        "again on fresh facts once a person approved.",
    )

    @property
    def rule_ids(self) -> list[str]:
        """Ids of every rule that fired."""
        return [hit.rule_id for hit in self.hits]

    @property
    def reasons(self) -> list[str]:
        """Human-readable reasons, one per fired rule."""
        return [hit.reason for hit in self.hits]

    @property
    def budget_claims(self) -> list[BudgetClaim]:
        """Every claim to reserve (records from before ``budgets`` carry only ``budget``)."""
        if self.budgets:
            return list(self.budgets)
        return [self.budget] if self.budget is not None else []

    @property
    def repair(self) -> RepairHint | None:
        """The first repair hint, the one the planner is shown."""
        return next((hit.repair for hit in self.hits if hit.repair), None)
