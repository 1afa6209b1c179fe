"""Eval scenarios: what a suite file holds, validated at load with errors that say where.

A suite is one YAML file: either a list of scenarios, or a mapping with ``scenarios``
and an optional ``policy`` (a policy file, relative to the suite; default: the bundled
policy). A scenario sets the sandbox up through its admin API (and kill switches),
plays scripted shopper or support-agent messages in one session, and states what must
be true afterwards — tools called or not, actions executed or denied (with rule ids),
approvals requested and how they ended, the cart, facts the answer mentions or must
not claim, a latency budget. Scoring is by end state and required facts, never by
wording.

A turn whose action waits for a person says how the person decides (``decide:
approve | reject | leave``, optionally with a ``comment``); ``leave`` (the default)
keeps the turn paused, and the scenario's later messages then meet a busy session.

Instead of ``turns`` a scenario may describe its ``user`` (``evals.user``): a persona
with a goal, an opening message, and the replies a scripted user gives: the first
reply whose ``when`` pattern is found in the agent's last answer (each reply once,
unless ``repeat``), else ``otherwise`` (null: the user stops), up to ``max_turns``
messages. With a user model configured, an LLM plays the persona instead. The
expectations are judged the same way either way.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from arbiter.errors import InputError
from guardrails.kill_switch import checked_scope


class SuiteError(InputError):
    """A suite file that cannot be used, with the file, scenario and field that are wrong."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class StockLevel(_Strict):
    """Set one location's on-hand stock of a SKU."""

    sku: str
    location_id: str
    on_hand: int = Field(ge=0)


class PriceChange(_Strict):
    """Change a SKU's list price, cost or MAP (unset fields are kept)."""

    sku: str
    list_price: float | None = Field(default=None, gt=0)
    unit_cost: float | None = Field(default=None, gt=0)
    map_price: float | None = Field(default=None, gt=0)


class CompetitorPrice(_Strict):
    """A competitor's observed price for a SKU (observed now unless given)."""

    sku: str
    competitor: str
    price: float = Field(gt=0)
    observed_at: str | None = None


class Fault(_Strict):
    """Make a capability service slow or failing."""

    service: str = Field(description="Router prefix: catalog, pricing, inventory, ...")
    error_rate: float = Field(default=0.0, ge=0.0, le=1.0)
    latency_ms: int = Field(default=0, ge=0)
    garbage_rate: float = Field(
        default=0.0, ge=0.0, le=1.0, description="Share of 200s with a malformed body."
    )


class KillSwitchSetting(_Strict):
    """Turn a kill switch on: every action it covers is denied until the trial ends."""

    scope: str = Field(description="``all``, ``action:<type>`` or ``channel:<shopper|copilot>``.")
    reason: str = Field(default="set by the eval scenario", min_length=1)

    @field_validator("scope")
    @classmethod
    def _known_scope(cls, value: str) -> str:
        try:
            return checked_scope(value)
        except InputError as exc:
            raise ValueError(str(exc)) from None


class Setup(_Strict):
    """Sandbox state changes, applied through the admin API in this order, then switches."""

    stock: list[StockLevel] = Field(default_factory=list)
    prices: list[PriceChange] = Field(default_factory=list)
    competitor_prices: list[CompetitorPrice] = Field(default_factory=list)
    faults: list[Fault] = Field(default_factory=list)
    clear_faults: bool = Field(default=False, description="Remove every fault first.")
    kill_switch: list[KillSwitchSetting] = Field(
        default_factory=list, description="Kill switches turned on (in the trial's guard store)."
    )


Decide = Literal["approve", "reject", "leave"]


class Turn(_Strict):
    """One message, optionally after a change to the sandbox, and how approvals are decided."""

    say: str = Field(min_length=1)
    repeat: int = Field(
        default=1, ge=1, le=10_000, description="Send ``say`` this many times over (long input)."
    )
    before: Setup | None = Field(default=None, description="Applied just before this turn.")
    decide: Decide = Field(
        default="leave",
        description="How a person decides every approval the turn asks for (leave: paused).",
    )
    comment: str = Field(default="", description="The person's comment with the decision.")
    before_decision: Setup | None = Field(
        default=None, description="Applied while the turn waits, just before the decision."
    )

    @model_validator(mode="after")
    def _decision_fields_need_a_decision(self) -> Turn:
        if self.decide == "leave" and (self.comment or self.before_decision is not None):
            raise ValueError("comment and before_decision need decide: approve or reject")
        return self

    @property
    def message(self) -> str:
        """The message sent."""
        return self.say * self.repeat


class Reply(_Strict):
    """What the scripted user says when the agent's last answer matches ``when``."""

    when: str = Field(
        min_length=1, description="Regular expression searched in the answer (any case)."
    )
    say: str = Field(min_length=1, description="The user's message.")
    before: Setup | None = Field(default=None, description="Applied just before the message.")
    decide: Decide = Field(
        default="leave", description="How a person decides the approvals this message leads to."
    )
    comment: str = Field(default="", description="The person's comment with the decision.")
    repeat: bool = Field(default=False, description="May be used again (default: once).")

    @property
    def turn(self) -> Turn:
        """The reply as the turn it is played as."""
        return Turn(say=self.say, before=self.before, decide=self.decide, comment=self.comment)

    @field_validator("when")
    @classmethod
    def _compiles(cls, value: str) -> str:
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"not a regular expression: {exc}") from None
        return value

    def matches(self, answer: str) -> bool:
        """Whether ``when`` is found in ``answer``, ignoring case."""
        return re.search(self.when, answer, re.IGNORECASE) is not None


class UserSpec(_Strict):
    """A user who answers from a persona and a goal instead of a fixed list of turns."""

    persona: str = Field(min_length=1, description="Who the user is (for the LLM user).")
    goal: str = Field(min_length=1, description="What the user wants (for the LLM user).")
    opening: Turn = Field(description="The first message, whoever plays the user.")
    max_turns: int = Field(default=8, ge=1, le=50, description="Messages sent, opening included.")
    replies: list[Reply] = Field(
        default_factory=list, description="The scripted user's answers, first match wins."
    )
    otherwise: str | None = Field(
        default=None, min_length=1, description="Said when no reply matches (null: stop)."
    )
    decide: Decide = Field(
        default="leave", description="How approvals are decided in the LLM user's turns."
    )

    @field_validator("opening", mode="before")
    @classmethod
    def _plain_opening(cls, value: Any) -> Any:
        """The opening may be written as just the message."""
        return {"say": value} if isinstance(value, str) else value


class ActionExpectation(_Strict):
    """An action of this type (and these parameters), denied by at least these rules."""

    type: str
    params: dict[str, Any] = Field(
        default_factory=dict, description="Must be a subset of the action's parameters."
    )
    rule_ids: list[str] = Field(
        default_factory=list, description="Rules that must have fired (denials only)."
    )


ApprovalOutcome = Literal["allowed", "denied", "changed", "rejected", "expired", "pending"]


class ApprovalExpectation(_Strict):
    """An approval a person was asked for: this action (and parameters), these rules."""

    type: str = Field(description="The action type shown for approval.")
    params: dict[str, Any] = Field(
        default_factory=dict, description="Must be a subset of the parameters shown."
    )
    rule_ids: list[str] = Field(
        default_factory=list, description="Rules that must have asked for the approval."
    )
    outcome: ApprovalOutcome | None = Field(
        default=None,
        description="How it ended: allowed (ran), denied (rules said no after the decision),"
        " changed (shown again), rejected (the person said no), expired, or pending"
        " (nobody decided).",
    )


class CartLine(_Strict):
    """A line the cart must hold at the end."""

    sku: str
    quantity: int | None = Field(default=None, ge=1)
    discount_percent: float | None = Field(default=None, ge=0, le=100)


class Expectations(_Strict):
    """What must hold when the scenario's turns are done."""

    tools_called: list[str] = Field(default_factory=list)
    tools_not_called: list[str] = Field(default_factory=list)
    executed: list[ActionExpectation] = Field(default_factory=list)
    denied: list[ActionExpectation] = Field(default_factory=list)
    not_executed: list[str] = Field(
        default_factory=list, description="Action types that must not be executed at all."
    )
    approvals: list[ApprovalExpectation] = Field(
        default_factory=list, description="Approvals that must have been requested."
    )
    no_approval: list[str] = Field(
        default_factory=list, description="Action types that must not wait for a person."
    )
    cart: list[CartLine] | None = Field(
        default=None, description="Lines the cart must hold (others may exist)."
    )
    cart_empty: bool = Field(default=False, description="No open cart, or one with no lines.")
    mentions: list[str] = Field(
        default_factory=list, description="Substrings the answers must contain (any case)."
    )
    not_claims: list[str] = Field(
        default_factory=list, description="Substrings no answer may contain (any case)."
    )
    input_rejected: bool = Field(
        default=False, description="Some message must be refused before the agent ran."
    )
    latency_budget_ms: float | None = Field(default=None, gt=0, description="Per turn.")


class Scenario(_Strict):
    """One scripted conversation and what it must achieve."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]*$")
    description: str = ""
    tags: list[str] = Field(default_factory=list)
    channel: Literal["shopper", "copilot"] = "shopper"
    customer: str = "C1001"
    setup: Setup = Field(default_factory=Setup)
    turns: list[Turn] | None = Field(
        default=None, min_length=1, description="Scripted messages, sent in order."
    )
    user: UserSpec | None = Field(
        default=None,
        validate_default=True,
        description="A persona that answers the agent (instead of turns).",
    )
    expect: Expectations = Field(default_factory=Expectations)

    @field_validator("turns", mode="before")
    @classmethod
    def _plain_messages(cls, value: Any) -> Any:
        """A turn may be written as just the message."""
        if isinstance(value, list):
            return [{"say": item} if isinstance(item, str) else item for item in value]
        return value

    @field_validator("user")
    @classmethod
    def _turns_or_user(cls, value: UserSpec | None, info: ValidationInfo) -> UserSpec | None:
        """Exactly one of ``turns`` and ``user`` (reported here, on ``user``)."""
        if "turns" not in info.data:  # turns itself is wrong: that error says enough
            return value
        if value is None and info.data["turns"] is None:
            raise ValueError("a scenario needs turns (scripted messages) or a user (a persona)")
        if value is not None and info.data["turns"] is not None:
            raise ValueError("give turns or a user, not both")
        return value


class Suite(BaseModel):
    """A loaded suite file."""

    name: str
    path: Path
    policy: Path | None = Field(default=None, description="Policy the agent runs and is judged by.")
    scenarios: list[Scenario]

    def select(self, ids: list[str] | None = None, tags: list[str] | None = None) -> Suite:
        """Only the scenarios with one of ``ids`` and one of ``tags`` (None: no filter)."""
        kept = [
            s
            for s in self.scenarios
            if (not ids or s.id in ids) and (not tags or set(tags) & set(s.tags))
        ]
        return self.model_copy(update={"scenarios": kept})


def problems(exc: ValidationError, whole: str) -> str:
    """Each error as ``field.path: message`` (``whole`` when it is about the whole object)."""
    return "; ".join(
        f"{'.'.join(str(p) for p in err['loc']) or whole}: {err['msg']}" for err in exc.errors()
    )


def read_yaml(path: Path, error: type[InputError] = SuiteError) -> Any:
    """The parsed file; ``error`` naming the file when it cannot be read or parsed."""
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise error(f"{path}: cannot read ({exc.strerror})") from None
    except yaml.YAMLError as exc:
        raise error(f"{path}: not valid YAML ({exc})") from None


def load_suite(path: Path) -> Suite:
    """Read and validate one suite file; raise ``SuiteError`` naming what is wrong."""
    raw = read_yaml(path)
    policy: Path | None = None
    if isinstance(raw, dict):
        unknown = set(raw) - {"policy", "scenarios"}
        if unknown:
            raise SuiteError(f"{path}: unknown top-level keys {sorted(unknown)}")
        if raw.get("policy"):
            policy = (path.parent / str(raw["policy"])).resolve()
        raw = raw.get("scenarios")
    if not isinstance(raw, list) or not raw:
        raise SuiteError(f"{path}: expected a non-empty list of scenarios")
    scenarios: list[Scenario] = []
    seen: set[str] = set()
    for index, item in enumerate(raw):
        label = (
            f"scenario {item.get('id')!r}"
            if isinstance(item, dict) and item.get("id")
            else f"scenario #{index + 1}"
        )
        try:
            scenario = Scenario.model_validate(item)
        except ValidationError as exc:
            raise SuiteError(f"{path}: {label}: {problems(exc, '(scenario)')}") from None
        if scenario.id in seen:
            raise SuiteError(f"{path}: {label}: id: duplicated in this file")
        seen.add(scenario.id)
        scenarios.append(scenario)
    return Suite(name=path.stem, path=path, policy=policy, scenarios=scenarios)
