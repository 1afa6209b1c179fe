"""respond, guard_output and record: the answer, its claim check, and the turn's record."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from agent.claims import check_claims, collect_facts, fact_summary, repair_answer
from agent.deps import TurnContext, TurnDeps
from agent.models.base import ChatMessage, TokenUsage
from agent.nodes.plan import call_model, conversation
from agent.record import DecisionRecord, ShadowDifference, ShadowOutcome, ShadowRecord
from agent.state import TurnScratch
from arbiter.errors import ModelEndpointError
from guardrails.verdict import Verdict

UNREACHABLE_TEXT = (
    "I can't reach the assistant's reasoning service right now, so I could not finish this request."
)


async def respond(
    deps: TurnDeps, ctx: TurnContext, scratch: TurnScratch, history: list[ChatMessage]
) -> None:
    """Make sure there is an answer: the planner's, or one asked for from verified facts."""
    if scratch.draft_text is not None or scratch.error is not None:
        return
    messages = [
        *conversation(deps, ctx, scratch, history, _answered(scratch.messages)),
        ChatMessage(role="system", content=deps.final_template.render().text),
    ]
    try:
        response = await call_model(
            deps, scratch, messages, deps.final_template, tool_choice="none"
        )
    except ModelEndpointError as exc:
        scratch.error = str(exc)
        return
    scratch.draft_text = response.text or None


def _answered(messages: list[ChatMessage]) -> list[ChatMessage]:
    """Drop a trailing assistant message whose tool calls were never answered."""
    answered = {m.tool_call_id for m in messages if m.role == "tool"}
    return [
        m
        for m in messages
        if not (m.role == "assistant" and any(c.id not in answered for c in m.tool_calls))
    ]


def guard_output(scratch: TurnScratch) -> None:
    """Check every claim against this turn's verified facts; repair or replace if needed."""
    facts = collect_facts(scratch.user_message, scratch.messages, scratch.executions)
    if scratch.draft_text is None:
        # No answer to check: say what happened, built only from this turn's facts.
        if scratch.error and not scratch.proposals:
            scratch.final_text = UNREACHABLE_TEXT
            return
        summary = fact_summary(scratch.proposals, scratch.verdicts, scratch.executions)
        prefix = UNREACHABLE_TEXT if scratch.error else ""
        scratch.final_text = "\n".join(p for p in (prefix, summary) if p)
        scratch.output_repaired = scratch.error is None
        return
    scratch.claim_checks = check_claims(scratch.draft_text, facts)
    if all(check.verified for check in scratch.claim_checks):
        scratch.final_text = scratch.draft_text
        return
    scratch.output_repaired = True
    scratch.final_text = repair_answer(
        scratch.draft_text, facts, scratch.proposals, scratch.verdicts, scratch.executions
    )


def build_record(
    deps: TurnDeps,
    scratch: TurnScratch,
    history: list[ChatMessage],
    ctx: TurnContext | None = None,
) -> DecisionRecord:
    """The turn's DecisionRecord (hash-chained by the audit store on append)."""
    pin = ctx.pinned(deps.validator) if ctx is not None else deps.validator.policies.pin()
    usage = TokenUsage()
    for call in scratch.llm_calls:
        if call.usage:
            usage.input_tokens += call.usage.input_tokens
            usage.output_tokens += call.usage.output_tokens
    finished = datetime.now(UTC)
    elapsed_ms = (finished - scratch.started_at).total_seconds() * 1000
    return DecisionRecord(
        turn_id=scratch.turn_id,
        session_id=scratch.session_id,
        principal=scratch.principal,
        customer=scratch.customer,
        started_at=scratch.started_at,
        finished_at=finished,
        history=history,
        user_message=scratch.user_message,
        input_flags=scratch.input_flags,
        policy_version=pin.version,
        shadow=shadow_record(
            pin.shadow.version, scratch, ctx.shadow_verdicts if ctx is not None else []
        )
        if pin.shadow is not None
        else None,
        tool_schema_sha256=deps.tool_schema_sha256,
        llm_calls=scratch.llm_calls,
        context=scratch.context,
        proposals=scratch.proposals,
        verdicts=scratch.verdicts,
        executions=scratch.executions,
        approvals=approval_entries(scratch),
        denials=sum(v.outcome == "deny" for v in scratch.verdicts),
        repaired_denials=repaired_denials(scratch),
        draft_text=scratch.draft_text,
        final_text=scratch.final_text or "",
        claim_checks=scratch.claim_checks,
        output_repaired=scratch.output_repaired,
        token_usage=usage,
        timings=scratch.timings,
        duration_ms=max(0.0, elapsed_ms - scratch.waited_ms),
        waited_ms=scratch.waited_ms,
        error=scratch.error,
    )


def approval_entries(scratch: TurnScratch) -> list[dict[str, Any]]:
    """Each approval with the arguments that finally executed (when they did)."""
    executed = {e.action_id: e.params for e in scratch.executions if e.status == "executed"}
    entries = []
    for entry in scratch.approvals:
        if entry.outcome == "allowed":
            entry = entry.model_copy(update={"executed_params": executed.get(entry.action_id)})
        entries.append(entry.model_dump(mode="json"))
    return entries


def repaired_denials(scratch: TurnScratch) -> int:
    """Denied proposals that a later allowed proposal of the same action type repaired."""
    types = {p.id: p.type for p in scratch.proposals}
    repaired = 0
    for i, verdict in enumerate(scratch.verdicts):
        if verdict.outcome != "deny":
            continue
        kind = types[verdict.action_id]
        if any(
            v.outcome == "allow" and types[v.action_id] == kind for v in scratch.verdicts[i + 1 :]
        ):
            repaired += 1
    return repaired


def shadow_record(version: str, scratch: TurnScratch, shadows: list[Verdict]) -> ShadowRecord:
    """Where the shadow policy decided a proposal differently from the enforced one."""
    enforced = {v.action_id: v for v in scratch.verdicts}
    types = {p.id: p.type for p in scratch.proposals}
    differences = [
        ShadowDifference(
            action_id=shadow.action_id,
            type=types.get(shadow.action_id, ""),
            active=_shadow_outcome(active),
            shadow=_shadow_outcome(shadow),
        )
        for shadow in shadows
        if (active := enforced.get(shadow.action_id)) is not None
        and (active.outcome, active.rule_ids) != (shadow.outcome, shadow.rule_ids)
    ]
    return ShadowRecord(policy_version=version, evaluated=len(shadows), differences=differences)


def _shadow_outcome(verdict: Verdict) -> ShadowOutcome:
    return ShadowOutcome(
        outcome=verdict.outcome, rule_ids=verdict.rule_ids, reasons=verdict.reasons
    )
