"""guard_input and plan: the model sees the conversation and proposes the next step.

Every tool call the model emits is sorted here: unknown tools, malformed or invalid
arguments go straight back to the model as error results (never executed); read
calls wait for gather_context; action calls become ProposedActions for validate.
"""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from agent import telemetry
from agent.deps import TurnContext, TurnDeps
from agent.models.base import (
    ChatMessage,
    ModelRequest,
    ModelResponse,
    ToolCall,
    to_openai_message,
    tool_envelope,
)
from agent.record import LLMCallRecord
from agent.state import PendingRead, TurnScratch
from arbiter.errors import ModelEndpointError
from guardrails.validator import names_other_customer
from guardrails.verdict import ProposedAction
from prompts.registry import PromptTemplate, messages_sha256

_INJECTION_MARKERS = (
    (
        "ignore_instructions",
        re.compile(
            r"ignore (all |any |your |the )?(previous |prior )?"
            r"(instructions|rules|policy|polic(y|ies))",
            re.I,
        ),
    ),
    ("reveal_prompt", re.compile(r"(system prompt|your instructions|reveal .*polic)", re.I)),
    ("role_override", re.compile(r"\b(you are now|act as|developer mode|jailbreak)\b", re.I)),
    (
        "authority_claim",
        re.compile(r"\b(manager|supervisor|ceo|owner) (said|promised|approved)", re.I),
    ),
    ("markup", re.compile(r"<\|?(im_start|system|endoftext)\|?>", re.I)),
)


def guard_input(scratch: TurnScratch) -> None:
    """Flag known injection markers; flags are recorded, never trusted to block alone."""
    scratch.input_flags = [
        name for name, rx in _INJECTION_MARKERS if rx.search(scratch.user_message)
    ]


def system_message(deps: TurnDeps, ctx: TurnContext) -> ChatMessage:
    """The rendered system prompt for this session's customer."""
    rendered = deps.system_for(ctx.tools.channel).render(
        customer_name=ctx.customer.name,
        customer_id=ctx.tools.customer_id,
        region=ctx.customer.region,
        loyalty_tier=ctx.customer.loyalty_tier,
        channel=ctx.tools.channel,
    )
    return ChatMessage(role="system", content=rendered.text)


def conversation(
    deps: TurnDeps,
    ctx: TurnContext,
    scratch: TurnScratch,
    history: list[ChatMessage],
    turn_messages: list[ChatMessage],
) -> list[ChatMessage]:
    """System prompt, earlier turns, this user message, then this turn's steps."""
    return [
        system_message(deps, ctx),
        *history,
        ChatMessage(role="user", content=scratch.user_message),
        *turn_messages,
    ]


async def call_model(
    deps: TurnDeps,
    scratch: TurnScratch,
    messages: list[ChatMessage],
    template: PromptTemplate,
    *,
    tool_choice: str = "auto",
) -> ModelResponse:
    """One model call, recorded with its full lineage."""
    request = ModelRequest(
        messages=messages,
        tools=deps.tool_schemas,
        params=deps.params,
        tool_choice="none" if tool_choice == "none" else "auto",
    )
    started_at = datetime.now(UTC)
    started = time.perf_counter()
    with telemetry.llm_span(
        deps.model.model_name,
        deps.model.kind,
        deps.params,
        session_id=scratch.session_id,
        index=len(scratch.llm_calls),
    ) as span:
        response = await deps.model.complete(request)
        call = LLMCallRecord(
            index=len(scratch.llm_calls),
            template_id=template.meta.id,
            template_version=template.meta.version,
            template_sha256=template.sha256,
            rendered_messages_sha256=messages_sha256([to_openai_message(m) for m in messages]),
            model=deps.model.model_name,
            response_model=response.model,
            endpoint_kind=deps.model.kind,
            params=deps.params,
            tool_schema_sha256=deps.tool_schema_sha256,
            tool_choice=request.tool_choice,
            text=response.text,
            tool_calls=response.tool_calls,
            response_id=response.response_id,
            finish_reason=response.finish_reason,
            usage=response.usage,
            started_at=started_at,
            latency_ms=(time.perf_counter() - started) * 1000,
        )
        scratch.llm_calls.append(call)
        telemetry.record_llm_call(span, call, messages, response)
    return response


async def plan(
    deps: TurnDeps, ctx: TurnContext, scratch: TurnScratch, history: list[ChatMessage]
) -> None:
    """Ask the model for the next step and sort what it emits."""
    messages = conversation(deps, ctx, scratch, history, scratch.messages)
    try:
        template = deps.system_for(ctx.tools.channel)
        response = await call_model(deps, scratch, messages, template)
    except ModelEndpointError as exc:
        scratch.error = str(exc)
        return
    scratch.messages.append(
        ChatMessage(role="assistant", content=response.text, tool_calls=response.tool_calls)
    )
    if not response.tool_calls:
        scratch.draft_text = response.text or ""
        return
    for call in response.tool_calls:
        _sort_call(deps, ctx, scratch, call)


def _sort_call(deps: TurnDeps, ctx: TurnContext, scratch: TurnScratch, call: ToolCall) -> None:
    spec = deps.tools_by_name.get(call.name)
    if spec is None:
        _reject(scratch, call, "unknown_tool", f"there is no tool named {call.name!r}")
        return
    if call.parse_error:
        _reject(scratch, call, "invalid_arguments", call.parse_error)
        return
    if names_other_customer(call.arguments, ctx.tools) and spec.kind == "read":
        _reject(scratch, call, "out_of_scope", "only the signed-in customer's data is available")
        return
    params: dict[str, Any] = call.arguments
    if not names_other_customer(call.arguments, ctx.tools):
        try:
            params = spec.parse_args(call.arguments).model_dump(mode="json")
        except ValidationError as exc:
            _reject(scratch, call, "invalid_arguments", _summarize(exc))
            return
    if spec.kind == "read":
        scratch.pending_reads.append(PendingRead(call=call, args=params))
        return
    action = ProposedAction(
        id=f"act_{len(scratch.proposals) + 1}",
        type=spec.name,
        params=params,
        call_id=call.id,
        llm_call_index=len(scratch.llm_calls) - 1,
    )
    scratch.proposals.append(action)
    scratch.pending_actions.append(action.id)


def _reject(scratch: TurnScratch, call: ToolCall, code: str, message: str) -> None:
    scratch.messages.append(
        ChatMessage(
            role="tool",
            tool_call_id=call.id,
            name=call.name,
            content=tool_envelope("error", error={"code": code, "message": message}),
        )
    )


def _summarize(exc: ValidationError) -> str:
    parts = [
        f"{'.'.join(str(p) for p in e['loc']) or 'arguments'}: {e['msg']}" for e in exc.errors()
    ]
    return "; ".join(parts[:5])
