"""OpenTelemetry spans for the turn, following the GenAI semantic conventions.

    invoke_workflow arbiter.turn            runtime.Arbiter.ask
      arbiter.node plan                     graph._timed, one per node run
        chat {model}                        plan.call_model, one per LLM call
      arbiter.node gather_context           (arbiter.context.sha256)
        execute_tool {read tool}            act._run_read, concurrent siblings
      arbiter.node validate                 gen_ai.evaluation.result event per verdict
      arbiter.node execute
        execute_tool {action tool}          arbiter.idempotency_key, arbiter.budget.entry
      ...

Node spans are named ``arbiter.node {name}`` and carry no ``gen_ai.operation.name``:
a graph step is neither an agent (``invoke_agent`` would make GenAI backends count
eight agent runs per turn) nor a model or tool call, and the conventions have no
operation for a workflow step. They only group the ``chat`` and ``execute_tool``
spans a step makes under the ``invoke_workflow`` span, which GenAI-aware backends
read as the unit of work. Whatever the conventions lack is under ``arbiter.*``.

The tracer travels with the turn in a context variable (set by ``turn_span``), like
the OTel context itself, so LangGraph's node tasks see both and nodes need no new
parameters. Without a turn (replay, a bare graph) the global tracer is used.

Cost: an SDK span is ~30 µs, so attributes are set only on recording spans, content
(prompts, completions, tool arguments and results) is serialized only when
``Settings.trace_content`` is on, and the context hash is computed once per gather
step. Tracing never fails a turn: the helpers that fill spans log and carry on, and
export happens in the SDK's processors, which catch exporter errors.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from functools import wraps
from typing import Any, ParamSpec

from langgraph.errors import GraphBubbleUp
from opentelemetry import trace
from opentelemetry.semconv._incubating.attributes import gen_ai_attributes as genai
from opentelemetry.semconv.attributes.error_attributes import ERROR_TYPE
from opentelemetry.trace import Span, SpanKind, Status, StatusCode, Tracer
from opentelemetry.util.types import AttributeValue

from agent.models.base import ChatMessage, ModelKind, ModelParams, ModelResponse, read_envelope
from agent.record import DecisionRecord, ExecutionRecord, LLMCallRecord, ToolCallRecord
from agent.tracing_setup import configure_tracing
from arbiter.settings import Settings
from guardrails.verdict import ProposedAction, Verdict

logger = logging.getLogger("arbiter.agent")

TRACER_NAME = "arbiter"
WORKFLOW_NAME = "arbiter.turn"
EVALUATION_EVENT = "gen_ai.evaluation.result"
EVALUATION_NAME = "arbiter.policy"
"""The evaluator named on verdict events: the deterministic policy validator."""

# What the GenAI conventions lack.
TURN_ID = "arbiter.turn_id"
CHANNEL = "arbiter.channel"
NODE_NAME = "arbiter.node.name"
POLICY_VERSION = "arbiter.policy.version"
TOOL_SCHEMA_SHA256 = "arbiter.tool_schema.sha256"
RECORD_HASH = "arbiter.record.hash"
INPUT_FLAGS = "arbiter.input.flags"
OUTPUT_REPAIRED = "arbiter.output.repaired"
TURN_ERROR = "arbiter.turn.error"
LLM_CALL_INDEX = "arbiter.llm_call.index"
ENDPOINT_KIND = "arbiter.endpoint.kind"
TOOL_CHOICE = "arbiter.request.tool_choice"
TEMPLATE_ID = "arbiter.prompt.template.id"
TEMPLATE_VERSION = "arbiter.prompt.template.version"
TEMPLATE_SHA256 = "arbiter.prompt.template.sha256"
RENDERED_SHA256 = "arbiter.prompt.rendered_sha256"
CONTEXT_SHA256 = "arbiter.context.sha256"
TOOL_KIND = "arbiter.tool.kind"
TOOL_SERVICE = "arbiter.tool.service"
TOOL_STATUS = "arbiter.tool.status"
TOOL_ATTEMPTS = "arbiter.tool.attempts"
ACTION_ID = "arbiter.action.id"
IDEMPOTENCY_KEY = "arbiter.idempotency_key"
BUDGET_ENTRY = "arbiter.budget.entry"
APPROVAL_ID = "arbiter.approval.id"
VERDICT_OUTCOME = "arbiter.verdict.outcome"
VERDICT_RULE_IDS = "arbiter.verdict.rule_ids"

P = ParamSpec("P")


@dataclass(frozen=True)
class Tracing:
    """The tracer a turn's spans come from, and whether content may go on them."""

    tracer: Tracer
    capture_content: bool = False


_DEFAULT = Tracing(trace.get_tracer(TRACER_NAME))  # a proxy: follows the global provider
_ACTIVE: ContextVar[Tracing] = ContextVar("arbiter_tracing", default=_DEFAULT)


def active() -> Tracing:
    """The tracing of the running turn (the global tracer outside one)."""
    return _ACTIVE.get()


def tracing_for(settings: Settings, provider: trace.TracerProvider | None = None) -> Tracing:
    """Tracing for an Arbiter: a given provider (tests, hosts), else the global one."""
    if provider is None:
        configure_tracing(settings)
        tracer = _DEFAULT.tracer
    else:
        tracer = provider.get_tracer(TRACER_NAME)
    return Tracing(tracer, capture_content=settings.trace_content)


# --- spans ---------------------------------------------------------------------------------


def _never_raise(fn: Callable[P, None]) -> Callable[P, None]:
    """Filling a span must never fail the turn it describes."""

    @wraps(fn)
    def guarded(*args: P.args, **kwargs: P.kwargs) -> None:
        try:
            fn(*args, **kwargs)
        except Exception:
            logger.debug("could not record telemetry in %s", fn.__name__, exc_info=True)

    return guarded


@contextmanager
def _span(
    tracer: Tracer,
    name: str,
    attributes: dict[str, AttributeValue],
    kind: SpanKind = SpanKind.INTERNAL,
) -> Iterator[Span]:
    with tracer.start_as_current_span(
        name,
        kind=kind,
        attributes=attributes,
        record_exception=False,
        set_status_on_exception=False,
    ) as span:
        try:
            yield span
        except GraphBubbleUp:  # an interrupt is control flow, not an error
            raise
        except BaseException as exc:
            if span.is_recording():
                span.record_exception(exc)
                span.set_attribute(ERROR_TYPE, type(exc).__qualname__)
                span.set_status(Status(StatusCode.ERROR, str(exc)[:200]))
            raise


@contextmanager
def turn_span(
    tracing: Tracing,
    *,
    turn_id: str,
    session_id: str,
    channel: str,
    policy_version: str,
    tool_schema_sha256: str,
    user_message: str | None,
) -> Iterator[Span]:
    """The turn's root span (or a resumed turn's); makes ``tracing`` active inside it."""
    token = _ACTIVE.set(tracing)
    try:
        attributes: dict[str, AttributeValue] = {
            genai.GEN_AI_OPERATION_NAME: "invoke_workflow",
            genai.GEN_AI_WORKFLOW_NAME: WORKFLOW_NAME,
            genai.GEN_AI_CONVERSATION_ID: session_id,
            TURN_ID: turn_id,
            CHANNEL: channel,
            POLICY_VERSION: policy_version,
            TOOL_SCHEMA_SHA256: tool_schema_sha256,
        }
        with _span(tracing.tracer, f"invoke_workflow {WORKFLOW_NAME}", attributes) as span:
            if user_message is not None and tracing.capture_content and span.is_recording():
                span.set_attribute(
                    genai.GEN_AI_INPUT_MESSAGES,
                    _dumps([{"role": "user", "parts": [_text(user_message)]}]),
                )
            yield span
    finally:
        _ACTIVE.reset(token)


@_never_raise
def record_turn(span: Span, record: DecisionRecord) -> None:
    """What the turn ended with, linking the trace to its DecisionRecord."""
    if not span.is_recording():
        return
    span.set_attribute(RECORD_HASH, record.record_hash)
    span.set_attribute(OUTPUT_REPAIRED, record.output_repaired)
    if record.input_flags:
        span.set_attribute(INPUT_FLAGS, record.input_flags)
    if record.error:
        span.set_attribute(TURN_ERROR, record.error[:200])
    if active().capture_content:
        parts = [_text(record.final_text)]
        message = {"role": "assistant", "parts": parts, "finish_reason": "stop"}
        span.set_attribute(genai.GEN_AI_OUTPUT_MESSAGES, _dumps([message]))


@contextmanager
def node_span(name: str) -> Iterator[Span]:
    """One graph node run."""
    with _span(active().tracer, f"arbiter.node {name}", {NODE_NAME: name}) as span:
        yield span


def provider_name(kind: ModelKind) -> str:
    """``gen_ai.provider.name``: ``openai`` for the endpoint, ``arbiter.*`` for in-process."""
    return "openai" if kind == "openai" else f"arbiter.{kind}"


@contextmanager
def llm_span(
    model: str, kind: ModelKind, params: ModelParams, *, session_id: str, index: int
) -> Iterator[Span]:
    """One model call: ``chat {model}``, request attributes set at start (for samplers)."""
    attributes: dict[str, AttributeValue] = {
        genai.GEN_AI_OPERATION_NAME: "chat",
        genai.GEN_AI_PROVIDER_NAME: provider_name(kind),
        genai.GEN_AI_REQUEST_MODEL: model,
        genai.GEN_AI_REQUEST_TEMPERATURE: params.temperature,
        genai.GEN_AI_REQUEST_MAX_TOKENS: params.max_tokens,
        genai.GEN_AI_CONVERSATION_ID: session_id,
        ENDPOINT_KIND: kind,
        LLM_CALL_INDEX: index,
    }
    if params.top_p is not None:
        attributes[genai.GEN_AI_REQUEST_TOP_P] = params.top_p
    if params.seed is not None:
        attributes[genai.GEN_AI_REQUEST_SEED] = params.seed
    span_kind = SpanKind.CLIENT if kind == "openai" else SpanKind.INTERNAL
    with _span(active().tracer, f"chat {model}", attributes, span_kind) as span:
        yield span


@_never_raise
def record_llm_call(
    span: Span, call: LLMCallRecord, messages: Sequence[ChatMessage], response: ModelResponse
) -> None:
    """Response, usage and prompt lineage of a model call; content only when enabled."""
    if not span.is_recording():
        return
    attributes: dict[str, AttributeValue] = {
        genai.GEN_AI_RESPONSE_MODEL: call.response_model,
        TEMPLATE_ID: call.template_id,
        TEMPLATE_VERSION: call.template_version,
        TEMPLATE_SHA256: call.template_sha256,
        RENDERED_SHA256: call.rendered_messages_sha256,
        TOOL_SCHEMA_SHA256: call.tool_schema_sha256,
        TOOL_CHOICE: call.tool_choice,
    }
    if call.response_id:
        attributes[genai.GEN_AI_RESPONSE_ID] = call.response_id
    if call.finish_reason:
        attributes[genai.GEN_AI_RESPONSE_FINISH_REASONS] = [call.finish_reason]
    if call.usage is not None:
        attributes[genai.GEN_AI_USAGE_INPUT_TOKENS] = call.usage.input_tokens
        attributes[genai.GEN_AI_USAGE_OUTPUT_TOKENS] = call.usage.output_tokens
    if active().capture_content:
        attributes[genai.GEN_AI_INPUT_MESSAGES] = _dumps([_message(m) for m in messages])
        output = _message(
            ChatMessage(role="assistant", content=response.text, tool_calls=response.tool_calls)
        )
        output["finish_reason"] = call.finish_reason or "stop"
        attributes[genai.GEN_AI_OUTPUT_MESSAGES] = _dumps([output])
    span.set_attributes(attributes)


@contextmanager
def tool_span(
    tool: str,
    call_id: str,
    *,
    kind: str,
    service: str,
    action_id: str | None = None,
    approval_id: str | None = None,
) -> Iterator[Span]:
    """One tool call: ``execute_tool {tool}``, a read or an allowed action."""
    attributes: dict[str, AttributeValue] = {
        genai.GEN_AI_OPERATION_NAME: "execute_tool",
        genai.GEN_AI_TOOL_NAME: tool,
        genai.GEN_AI_TOOL_CALL_ID: call_id,
        genai.GEN_AI_TOOL_TYPE: "function",
        TOOL_KIND: kind,
        TOOL_SERVICE: service,
    }
    if action_id is not None:
        attributes[ACTION_ID] = action_id
    if approval_id is not None:  # approvals are recorded here once they exist
        attributes[APPROVAL_ID] = approval_id
    with _span(active().tracer, f"execute_tool {tool}", attributes) as span:
        yield span


@_never_raise
def record_tool_call(span: Span, call: ToolCallRecord) -> None:
    """A read's outcome; arguments and result only when content capture is on."""
    if not span.is_recording():
        return
    span.set_attribute(TOOL_STATUS, call.status)
    span.set_attribute(TOOL_ATTEMPTS, call.attempts)
    if call.error:
        _fail(span, call.error)
    if active().capture_content:
        span.set_attribute(genai.GEN_AI_TOOL_CALL_ARGUMENTS, _dumps(call.args))
        span.set_attribute(genai.GEN_AI_TOOL_CALL_RESULT, _dumps(call.result or call.error))


@_never_raise
def record_execution(span: Span, execution: ExecutionRecord) -> None:
    """An action's outcome, idempotency key and budget entry."""
    if not span.is_recording():
        return
    span.set_attribute(IDEMPOTENCY_KEY, execution.idempotency_key)
    span.set_attribute(TOOL_STATUS, execution.status)
    if execution.budget_entry:
        span.set_attribute(BUDGET_ENTRY, execution.budget_entry)
    if execution.error and execution.status in ("failed", "unknown"):
        _fail(span, execution.error)
    if active().capture_content:
        span.set_attribute(genai.GEN_AI_TOOL_CALL_ARGUMENTS, _dumps(execution.params))
        span.set_attribute(
            genai.GEN_AI_TOOL_CALL_RESULT, _dumps(execution.result or execution.error)
        )


@_never_raise
def record_context(span: Span, reads: Sequence[ToolCallRecord]) -> None:
    """``arbiter.context.sha256``: the canonical JSON of one gather step's read results."""
    if not span.is_recording():
        return
    fields = ("call_id", "tool", "args", "status", "result", "error")
    body = [{name: getattr(r, name) for name in fields} for r in reads]
    canonical = json.dumps(
        body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
    )
    span.set_attribute(CONTEXT_SHA256, hashlib.sha256(canonical.encode()).hexdigest())


@_never_raise
def record_verdict_event(
    span: Span,
    verdict: Verdict,
    action: ProposedAction,
    llm_calls: Sequence[LLMCallRecord] = (),
) -> None:
    """A verdict as a ``gen_ai.evaluation.result`` event on the validating span.

    The event carries the ``gen_ai.response.id`` of the model response that proposed
    the action (the conventions' link when that call's span has already ended).
    """
    if not span.is_recording():
        return
    proposer = next((c for c in llm_calls if c.index == action.llm_call_index), None)
    response_id = proposer.response_id if proposer else None
    attributes: dict[str, AttributeValue] = {
        genai.GEN_AI_EVALUATION_NAME: EVALUATION_NAME,
        genai.GEN_AI_EVALUATION_SCORE_LABEL: verdict.outcome,
        genai.GEN_AI_TOOL_NAME: action.type,
        genai.GEN_AI_TOOL_CALL_ID: action.call_id,
        VERDICT_OUTCOME: verdict.outcome,
        VERDICT_RULE_IDS: verdict.rule_ids,
        ACTION_ID: action.id,
        POLICY_VERSION: verdict.policy_version,
    }
    if verdict.reasons:
        attributes[genai.GEN_AI_EVALUATION_EXPLANATION] = " ".join(verdict.reasons)
    if response_id:
        attributes[genai.GEN_AI_RESPONSE_ID] = response_id
    span.add_event(EVALUATION_EVENT, attributes)


def _fail(span: Span, error: Mapping[str, str]) -> None:
    span.set_attribute(ERROR_TYPE, str(error.get("code", "error")))
    span.set_status(Status(StatusCode.ERROR, str(error.get("message", ""))[:200]))


# --- content, in the conventions' message shape (only when capture is on) ----------------


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


def _text(content: str) -> dict[str, Any]:
    return {"type": "text", "content": content}


def _message(message: ChatMessage) -> dict[str, Any]:
    parts: list[dict[str, Any]] = []
    if message.role == "tool":
        parts.append(
            {
                "type": "tool_call_response",
                "id": message.tool_call_id,
                "response": read_envelope(message.content),
            }
        )
    elif message.content:
        parts.append(_text(message.content))
    for call in message.tool_calls:
        parts.append(
            {"type": "tool_call", "id": call.id, "name": call.name, "arguments": call.arguments}
        )
    return {"role": message.role, "parts": parts}
