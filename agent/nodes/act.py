"""gather_context, validate and execute: reads run, proposals get verdicts, allowed actions run.

Reads run concurrently, each with the client's timeout and retries; a failed read
becomes an error result the model sees (it must not invent the data). Validation
re-reads authoritative state through the guardrails. Execution carries an
idempotency key derived from the turn and the action, so re-running a turn after a
crash cannot double-apply; budget money is reserved before and committed after.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from opentelemetry import trace

from agent import telemetry
from agent.approvals import executable_params
from agent.deps import TurnContext, TurnDeps
from agent.models.base import ChatMessage, tool_envelope
from agent.nodes.approve import present
from agent.nodes.outcomes import outcome_message
from agent.record import ExecutionRecord, ToolCallRecord
from agent.state import PendingRead, TurnScratch
from arbiter.errors import CapabilityError, OutOfScopeError, ServiceUnavailableError
from guardrails.rate_limit import rate_limiter_for
from guardrails.verdict import ProposedAction, Verdict
from tools.client import collect_stats

IN_FLIGHT = "idempotency_in_flight"
# Checks that hold at execution time, atomically, after an allow verdict.
SKIP_RULES = {"rate_limited": "system.rate_limit", "budget_exhausted": "system.budget_reservation"}


async def gather_context(deps: TurnDeps, ctx: TurnContext, scratch: TurnScratch) -> None:
    """Run this step's read calls concurrently and hand their results to the model."""
    reads, scratch.pending_reads = scratch.pending_reads, []
    records = await asyncio.gather(*(run_read(deps, ctx, read) for read in reads))
    telemetry.record_context(trace.get_current_span(), records)
    for read, record in zip(reads, records, strict=True):
        scratch.context.append(record)
        if record.status == "ok":
            content = tool_envelope("ok", data=record.result)
        else:
            content = tool_envelope("error", error=record.error)
        scratch.messages.append(
            ChatMessage(
                role="tool", tool_call_id=read.call.id, name=read.call.name, content=content
            )
        )


async def run_read(deps: TurnDeps, ctx: TurnContext, read: PendingRead) -> ToolCallRecord:
    """Run one read tool call; failures become an error result, never an exception."""
    spec = deps.tools_by_name[read.call.name]
    started_at = datetime.now(UTC)
    started = time.perf_counter()
    result: Any = None
    error: dict[str, str] | None = None
    with (
        collect_stats() as stats,
        telemetry.tool_span(spec.name, read.call.id, kind="read", service=spec.service) as span,
    ):
        try:
            result = await spec.run(spec.parse_args(read.args), ctx.tools)
        except OutOfScopeError as exc:
            error = {"code": "out_of_scope", "message": str(exc)}
        except CapabilityError as exc:
            error = {"code": exc.code, "message": exc.detail}
        except ServiceUnavailableError as exc:
            error = {"code": "service_unavailable", "message": str(exc)}
        record = ToolCallRecord(
            call_id=read.call.id,
            tool=spec.name,
            args=read.args,
            status="error" if error else "ok",
            result=result,
            error=error,
            source_service=spec.service,
            started_at=started_at,
            duration_ms=(time.perf_counter() - started) * 1000,
            attempts=stats.attempts,
        )
        telemetry.record_tool_call(span, record)
    return record


async def validate(deps: TurnDeps, ctx: TurnContext, scratch: TurnScratch) -> None:
    """A verdict for every pending proposal; denials go back to the model with reasons."""
    actions = [scratch.proposal(action_id) for action_id in scratch.pending_actions]
    pin = ctx.pinned(deps.validator)  # the turn's one policy version, whatever reloads meanwhile
    evaluated = await asyncio.gather(
        *(deps.validator.evaluate_both(a, ctx.tools, pin) for a in actions)
    )
    verdicts = [active for active, _ in evaluated]
    # Shadow verdicts are recorded only: nothing below (routing, execution, budget) reads them.
    ctx.shadow_verdicts.extend(shadow for _, shadow in evaluated if shadow is not None)
    scratch.verdicts.extend(verdicts)
    span = trace.get_current_span()
    for action, verdict in zip(actions, verdicts, strict=True):
        telemetry.record_verdict_event(span, verdict, action, scratch.llm_calls)
        if verdict.outcome == "allow":
            continue
        scratch.pending_actions.remove(action.id)
        if verdict.outcome == "require_approval" and deps.pause_for_approval:
            present(deps, ctx, scratch, action, verdict)
            continue
        status = "denied" if verdict.outcome == "deny" else "pending_approval"
        scratch.messages.append(outcome_message(action, status, verdict))
    if any(v.outcome == "deny" for v in verdicts) or (
        not deps.pause_for_approval and any(v.outcome != "allow" for v in verdicts)
    ):
        scratch.revisions += 1


async def execute(deps: TurnDeps, ctx: TurnContext, scratch: TurnScratch) -> None:
    """Run allowed actions, one at a time, in the order the model proposed them."""
    allowed, scratch.pending_actions = scratch.pending_actions, []
    verdicts = {v.action_id: v for v in scratch.verdicts}  # the latest verdict per action
    for action_id in allowed:
        action = scratch.proposal(action_id)
        spec = deps.tools_by_name[action.type]
        with telemetry.tool_span(
            action.type, action.call_id, kind="action", service=spec.service, action_id=action.id
        ) as span:
            record = await execute_one(
                deps, ctx, action, verdicts[action_id], idempotency_key(scratch, action)
            )
            telemetry.record_execution(span, record)
        scratch.executions.append(record)
        if record.status == "executed":
            content = tool_envelope("executed", action=action.type, data=record.result)
        elif record.status == "skipped":
            content = tool_envelope(
                "denied",
                action=action.type,
                rule_ids=[SKIP_RULES[str((record.error or {}).get("code"))]],
                reasons=[str((record.error or {}).get("message", ""))],
                repair=None,
            )
        else:
            content = tool_envelope("failed", action=action.type, error=record.error)
        scratch.messages.append(
            ChatMessage(role="tool", tool_call_id=action.call_id, name=action.type, content=content)
        )


def idempotency_key(scratch: TurnScratch, action: ProposedAction) -> str:
    """Deterministic per turn and action: a re-run of the same turn reuses it."""
    return f"arb-{scratch.turn_id}-{action.id}"


async def execute_one(
    deps: TurnDeps,
    ctx: TurnContext,
    action: ProposedAction,
    verdict: Verdict,
    key: str,
) -> ExecutionRecord:
    """Run one allowed action with its idempotency key: rate slot and budget first."""
    spec = deps.tools_by_name[action.type]
    params = executable_params(verdict)
    started_at = datetime.now(UTC)
    started = time.perf_counter()
    record = ExecutionRecord(
        action_id=action.id,
        type=action.type,
        params=params,
        idempotency_key=key,
        status="failed",
        started_at=started_at,
        duration_ms=0.0,
    )
    # Rate slots first, then every budget scope in one reservation: all of them or nothing.
    limiter = rate_limiter_for(deps.ledger)
    if not limiter.acquire(verdict.rate_limits, key, action.type):
        record.status = "skipped"
        record.error = {
            "code": "rate_limited",
            "message": "Too many actions in this conversation just now; try again shortly.",
        }
        return record
    claims = [(c.scope, c.amount, c.cap) for c in verdict.budget_claims]
    if claims and not deps.ledger.reserve_many(claims, key):
        limiter.release(key)
        record.status = "skipped"
        record.error = {
            "code": "budget_exhausted",
            "message": "The discount budget was used up before this could run.",
        }
        return record
    if claims:
        record.budget_entry = key
    has_budget = bool(claims)
    try:
        result = await spec.run(spec.parse_args(params), replace(ctx.tools, idempotency_key=key))
    except CapabilityError as exc:
        record.error = {"code": exc.code, "message": exc.detail}
        if exc.code == IN_FLIGHT:
            record.status = "unknown"  # an earlier attempt with this key may still land
        else:
            _settle(deps, has_budget, key, committed=False)
            limiter.release(key)
    except ServiceUnavailableError as exc:
        # Outcome unknown: the write may have landed. Keep the reservation until it expires
        # rather than hand back money that may have been given away.
        record.status = "unknown"
        record.error = {"code": "service_unavailable", "message": str(exc)}
    else:
        record.status = "executed"
        record.result = result
        _settle(deps, has_budget, key, committed=True)
    record.duration_ms = (time.perf_counter() - started) * 1000
    return record


def _settle(deps: TurnDeps, has_budget: bool, key: str, *, committed: bool) -> None:
    if not has_budget:
        return
    if committed:
        deps.ledger.commit(key)
    else:
        deps.ledger.release(key)
