"""What the turn's nodes depend on: built once per process (deps) or per turn (context)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from agent.approvals import ApprovalDecision, ApprovalRequest
from agent.audit_store import AuditLog
from agent.models.base import ChatModel, ModelParams
from agent.record import CustomerContext, DecisionRecord
from guardrails.budget import BudgetLedger
from guardrails.policy_store import PolicyPin
from guardrails.validator import Validator
from guardrails.verdict import Verdict
from prompts.registry import PromptTemplate, get_template
from tools.registry import ALL_TOOLS, openai_tools
from tools.spec import ToolContext, ToolSpec, schema_hash


@dataclass
class TurnLimits:
    """Bounds that keep every turn finite."""

    max_plan_steps: int = 6
    max_revisions: int = 2


Approver = Callable[[ApprovalRequest], Awaitable[ApprovalDecision]]
"""Decides approvals in-line (replay, tests); without one the graph pauses for a person."""


@dataclass
class TurnDeps:
    """Process-wide collaborators of the graph."""

    model: ChatModel
    validator: Validator
    ledger: BudgetLedger
    audit: AuditLog
    params: ModelParams = field(default_factory=ModelParams)
    limits: TurnLimits = field(default_factory=TurnLimits)
    tools: tuple[ToolSpec[Any], ...] = ALL_TOOLS
    system_template: PromptTemplate = field(default_factory=lambda: get_template("shopper.system"))
    copilot_template: PromptTemplate | None = field(
        default_factory=lambda: get_template("copilot.system")
    )
    """The copilot channel's system prompt (None: the shopper's serves both)."""
    final_template: PromptTemplate = field(default_factory=lambda: get_template("respond.final"))
    approver: Approver | None = None
    approval_ttl: timedelta = timedelta(hours=24)
    pause_for_approval: bool = True
    """False when nothing can pause the turn (no checkpointer, no approver): a proposal
    needing approval is then answered as pending and the turn carries on without it."""

    def system_for(self, channel: str) -> PromptTemplate:
        """The system prompt template of a channel."""
        if channel == "copilot" and self.copilot_template is not None:
            return self.copilot_template
        return self.system_template

    def __post_init__(self) -> None:
        self.tool_schemas = openai_tools(self.tools)
        self.tool_schema_sha256 = schema_hash(self.tools)
        self.tools_by_name = {spec.name: spec for spec in self.tools}


@dataclass
class TurnContext:
    """Per-turn, never persisted: the trusted tool context and where the result goes.

    ``pin`` is the policy (and shadow candidate) the whole turn is evaluated under,
    taken once at its start: a reload during the turn does not change it.
    """

    tools: ToolContext
    customer: CustomerContext
    result: list[DecisionRecord] = field(default_factory=list)
    pin: PolicyPin | None = None
    shadow_verdicts: list[Verdict] = field(default_factory=list)

    def pinned(self, validator: Validator) -> PolicyPin:
        """This turn's policies: the pin taken at its start, or the store's now (then kept)."""
        if self.pin is None:
            self.pin = validator.policies.pin()
        return self.pin
