"""Replay: re-run a recorded turn from its record alone, under its policy or another.

The record holds everything the turn saw: the history and customer context that
shaped the prompt, every model output, every read result, the facts behind every
verdict, and every execution's result. Replay runs the same graph with those in
place of the live world — the model is scripted from the recorded outputs, read
tools answer from the context snapshot, the validator reads the recorded facts, and
actions are never executed (an allowed action gets its recorded result, or is marked
simulated). Nothing reaches a service: the capability client refuses every request.

What comes out is a verdict-by-verdict comparison, plus whether every rendered
prompt hashes the same and the answer is the same.
"""

from __future__ import annotations

import json
import tempfile
from collections import defaultdict, deque
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from pydantic import BaseModel, Field

from agent.approvals import ApprovalDecision, ApprovalEntry, ApprovalRequest
from agent.audit_store import AuditStore
from agent.deps import Approver, TurnContext, TurnDeps
from agent.graph import build_graph
from agent.models.base import ModelParams, ModelResponse
from agent.models.scripted import ScriptedChatModel, ScriptExhaustedError
from agent.record import DecisionRecord
from agent.state import TurnScratch
from arbiter.errors import CapabilityError
from guardrails.budget import BudgetLedger, SqliteBudgetLedger
from guardrails.facts import FACT_NEEDS, FactBundle, FactsUnavailable
from guardrails.kill_switch import KillSwitch, NoKillSwitch, Switch, action_scope
from guardrails.policy import LoadedPolicy
from guardrails.validator import FAIL_CLOSED_RULE, KILL_SWITCH_RULE, Validator
from guardrails.verdict import Outcome, ProposedAction
from tools.client import CapabilityClient
from tools.spec import ToolArgs, ToolContext, ToolResult, ToolSpec


class VerdictComparison(BaseModel):
    """One proposal's verdict, as recorded and as replayed."""

    action_id: str
    type: str
    params: dict[str, Any]
    recorded: Outcome | None = Field(description="None: the original turn had no such proposal.")
    recorded_rules: list[str] = Field(default_factory=list)
    replayed: Outcome | None = Field(description="None: the replay did not reach it.")
    replayed_rules: list[str] = Field(default_factory=list)
    executed_originally: bool = False

    @property
    def same(self) -> bool:
        """Same outcome and the same rules fired."""
        return self.recorded == self.replayed and self.recorded_rules == self.replayed_rules


class ReplayReport(BaseModel):
    """Everything a replay found."""

    turn_id: str
    recorded_policy: str
    replay_policy: str
    verdicts: list[VerdictComparison]
    prompts_identical: bool
    answer_identical: bool
    replayed_text: str
    diverged: str | None = Field(
        default=None, description="Why the replay could not follow the recording, if it could not."
    )

    @property
    def verdicts_identical(self) -> bool:
        """Every verdict came out the same."""
        return all(v.same for v in self.verdicts)


async def replay_turn(record: DecisionRecord, policy: LoadedPolicy) -> ReplayReport:
    """Re-run one recorded turn under ``policy`` and compare."""
    with tempfile.TemporaryDirectory(prefix="arbiter-replay-") as tmp:
        return await _replay(record, policy, Path(tmp))


async def replay_many(
    records: Iterable[DecisionRecord], policy: LoadedPolicy
) -> list[ReplayReport]:
    """Replay several turns under one policy (a what-if over recorded traffic)."""
    with tempfile.TemporaryDirectory(prefix="arbiter-replay-") as tmp:
        return [await _replay(record, policy, Path(tmp)) for record in records]


async def _replay(record: DecisionRecord, policy: LoadedPolicy, tmp: Path) -> ReplayReport:
    world = _RecordedWorld(record)
    ledger = SqliteBudgetLedger(tmp / f"{record.turn_id}-budget.sqlite")
    model = ScriptedChatModel(
        [_response(call) for call in record.llm_calls], name=_model_name(record)
    )
    deps = TurnDeps(
        model=model,
        validator=Validator(
            policy, ledger, facts=world.read_facts, kill_switch=world.kill_switch()
        ),
        ledger=ledger,
        audit=AuditStore(tmp / "replay-audit.sqlite"),
        params=record.llm_calls[0].params if record.llm_calls else ModelParams(),
        tools=tuple(world.stand_in(spec) for spec in _registry()),
        approver=_recorded_approver(record),
        pause_for_approval=bool(record.approvals),
    )
    ctx = TurnContext(tools=world.tool_context(record), customer=record.customer)
    scratch = TurnScratch(
        turn_id=record.turn_id,
        session_id=record.session_id,
        principal=record.principal,
        customer=record.customer,
        user_message=record.user_message,
        started_at=datetime.now(UTC),
    )
    diverged: str | None = None
    replayed: DecisionRecord | None
    if not record.llm_calls and record.proposals:
        # No model turn to follow (an MCP client's call): the proposals as recorded, the
        # rules again on the recorded facts.
        verdicts = [await deps.validator.evaluate(p, ctx.tools) for p in record.proposals]
        replayed = record.model_copy(update={"verdicts": verdicts})
    else:
        try:
            await build_graph(deps, None).ainvoke(
                {"history": record.history, "turn": scratch}, context=ctx
            )
        except ScriptExhaustedError:
            diverged = "the replay asked the model for more steps than were recorded"
        replayed = ctx.result[0] if ctx.result else None
    if world.missing and diverged is None:
        diverged = "; ".join(sorted(set(world.missing)))
    return ReplayReport(
        turn_id=record.turn_id,
        recorded_policy=record.policy_version,
        replay_policy=policy.version,
        verdicts=_compare(record, replayed),
        prompts_identical=replayed is not None
        and [c.rendered_messages_sha256 for c in record.llm_calls]
        == [c.rendered_messages_sha256 for c in replayed.llm_calls],
        answer_identical=replayed is not None and replayed.final_text == record.final_text,
        replayed_text=replayed.final_text if replayed else "",
        diverged=diverged,
    )


def _recorded_approver(record: DecisionRecord) -> Approver:
    """Approvals decided as they were recorded, in order per action (expired if unknown)."""
    decided: dict[str, deque[ApprovalEntry]] = defaultdict(deque)
    for raw in record.approvals:
        entry = ApprovalEntry.model_validate(raw)
        decided[entry.action_id].append(entry)

    async def approver(request: ApprovalRequest) -> ApprovalDecision:
        queue = decided.get(request.action_id)
        if not queue:
            return ApprovalDecision(
                approval_id=request.approval_id,
                decision="expired",
                by="replay",
                decided_at=record.finished_at,
            )
        entry = queue.popleft()
        return ApprovalDecision(
            approval_id=request.approval_id,
            decision=entry.decision,
            by=entry.decided_by,
            comment=entry.comment,
            decided_at=entry.decided_at,
        )

    return approver


def _compare(record: DecisionRecord, replayed: DecisionRecord | None) -> list[VerdictComparison]:
    executed = {e.action_id for e in record.executions if e.status == "executed"}
    before = {v.action_id: v for v in record.verdicts}
    after = {v.action_id: v for v in replayed.verdicts} if replayed else {}
    proposals = {p.id: p for p in record.proposals}
    if replayed:
        proposals.update({p.id: p for p in replayed.proposals if p.id not in proposals})
    rows = []
    for action_id, proposal in proposals.items():
        old, new = before.get(action_id), after.get(action_id)
        rows.append(
            VerdictComparison(
                action_id=action_id,
                type=proposal.type,
                params=proposal.params,
                recorded=old.outcome if old else None,
                recorded_rules=old.rule_ids if old else [],
                replayed=new.outcome if new else None,
                replayed_rules=new.rule_ids if new else [],
                executed_originally=action_id in executed,
            )
        )
    return rows


@dataclass
class _RecordedWorld:
    """The services as the recorded turn saw them."""

    record: DecisionRecord

    def __post_init__(self) -> None:
        self.missing: list[str] = []
        self._reads: dict[tuple[str, str], deque[Any]] = defaultdict(deque)
        for call in self.record.context:
            self._reads[(call.tool, _canonical(call.args))].append(call)
        self._executions: dict[tuple[str, str], deque[Any]] = defaultdict(deque)
        for execution in self.record.executions:
            self._executions[(execution.type, _canonical(execution.params))].append(execution)
        # facts a verdict read, by proposal; a fail-closed verdict read none successfully
        self._facts = {
            v.action_id: v.facts for v in self.record.verdicts if FAIL_CLOSED_RULE not in v.rule_ids
        }

    def kill_switch(self) -> KillSwitch:
        """The switches that were on for this turn, as its verdicts saw them."""
        stopped = {
            proposal.type: verdict
            for verdict in self.record.verdicts
            if KILL_SWITCH_RULE in verdict.rule_ids
            for proposal in self.record.proposals
            if proposal.id == verdict.action_id
        }
        return _RecordedSwitches(
            {
                kind: Switch(
                    scope=action_scope(kind),
                    reason=" ".join(verdict.reasons),
                    set_by="recording",
                    set_at=self.record.started_at,
                )
                for kind, verdict in stopped.items()
            }
        )

    def tool_context(self, record: DecisionRecord) -> ToolContext:
        refuse = httpx.MockTransport(_refuse_network)
        return ToolContext(
            customer_id=record.principal.customer_id,
            session_id=record.session_id,
            channel=record.principal.channel,
            region=record.customer.region,
            postcode=record.customer.postcode,
            loyalty_tier=record.customer.loyalty_tier,
            client=CapabilityClient(httpx.AsyncClient(transport=refuse, base_url="http://replay")),
        )

    def stand_in(self, spec: ToolSpec[Any]) -> ToolSpec[Any]:
        """The same tool (same schema), answering from the recording."""

        async def recorded_read(args: ToolArgs, ctx: ToolContext) -> ToolResult:
            key = (spec.name, _canonical(args.model_dump(mode="json")))
            if not self._reads[key]:
                self.missing.append(f"no recorded result for {spec.name}")
                raise CapabilityError(spec.service, 404, "not_recorded", "not in the recording")
            call = self._reads[key].popleft()
            if call.status == "error" and call.error:
                raise CapabilityError(
                    spec.service, 409, call.error["code"], call.error.get("message", "")
                )
            return dict(call.result) if isinstance(call.result, dict) else {"value": call.result}

        async def recorded_action(args: ToolArgs, ctx: ToolContext) -> ToolResult:
            key = (spec.name, _canonical(args.model_dump(mode="json")))
            if self._executions[key]:
                execution = self._executions[key].popleft()
                if execution.status == "executed":
                    return dict(execution.result or {})
                error = execution.error or {}
                raise CapabilityError(
                    spec.service, 409, error.get("code", "failed"), error.get("message", "")
                )
            return {"simulated": True, "note": "allowed in replay; not executed originally"}

        run = recorded_read if spec.kind == "read" else recorded_action
        return replace(spec, run=run)

    async def read_facts(
        self, action: ProposedAction, ctx: ToolContext, ledger: BudgetLedger
    ) -> FactBundle:
        facts = self._facts.get(action.id)
        if facts is None or (not facts and FACT_NEEDS.get(action.type)):
            # decided before any fact was read (scope, kill switch) or never decided
            raise FactsUnavailable("recorded facts", "none were recorded for this proposal")
        bundle = FactBundle(recorded=list(facts))
        for fact in facts:
            if fact.kind == "budget":
                bundle.session_discount_spent = float(fact.value.get("spent", 0.0))
            elif hasattr(bundle, fact.kind):
                setattr(bundle, fact.kind, fact.value)
        return bundle


@dataclass
class _RecordedSwitches(NoKillSwitch):
    """A read-only kill switch holding what was switched off when the turn ran."""

    switches: dict[str, Switch]

    def blocks(self, action_type: str, channel: str) -> Switch | None:
        return self.switches.get(action_type)


def _response(call: Any) -> ModelResponse:
    return ModelResponse(
        text=call.text,
        tool_calls=call.tool_calls,
        model=call.response_model,
        response_id=call.response_id,
        finish_reason=call.finish_reason,
        usage=call.usage,
    )


def _model_name(record: DecisionRecord) -> str:
    return record.llm_calls[0].model if record.llm_calls else "replay"


def _registry() -> tuple[ToolSpec[Any], ...]:
    from tools.registry import ALL_TOOLS

    return ALL_TOOLS


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


def _refuse_network(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError(f"replay never calls services ({request.url})")
