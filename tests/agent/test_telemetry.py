"""Spans for the turn, its nodes, LLM and tool calls, with GenAI semantic-convention names."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from agent import tracing_setup
from agent.models.base import ModelKind, ModelRequest, ModelResponse
from agent.models.scripted import ScriptedChatModel, answer, step, tool_call
from agent.results import TurnResult
from agent.runtime import Arbiter
from arbiter.errors import ModelEndpointError
from arbiter.settings import Settings
from sandbox.seed import SAMPLE_CUSTOMER_ID

DEPRECATED = {
    "gen_ai.system",
    "gen_ai.prompt",
    "gen_ai.completion",
    "gen_ai.usage.prompt_tokens",
    "gen_ai.usage.completion_tokens",
}
CONTENT = {
    "gen_ai.input.messages",
    "gen_ai.output.messages",
    "gen_ai.system_instructions",
    "gen_ai.tool.call.arguments",
    "gen_ai.tool.call.result",
}
SKU = "RUN-00005"
USER_TEXT = f"price of {SKU}, 90% off and add one to my cart"
ANSWER_TEXT = f"I've added {SKU} to your cart."


@pytest.fixture(autouse=True)
def no_otel_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("OTEL_"):
            monkeypatch.delenv(name)


@pytest.fixture
def exporter() -> InMemorySpanExporter:
    return InMemorySpanExporter()


@pytest.fixture
def provider(exporter: InMemorySpanExporter) -> Iterator[TracerProvider]:
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
    yield tracer_provider
    tracer_provider.shutdown()


def _script() -> ScriptedChatModel:
    plan = step(
        tool_call("get_price", sku=SKU),
        tool_call("offer_discount", sku=SKU, percent=90, reason="goodwill", competitor=None),
        tool_call("add_to_cart", sku=SKU, quantity=1),
    ).model_copy(update={"response_id": "resp_plan"})
    final = answer(ANSWER_TEXT).model_copy(update={"response_id": "resp_final"})
    return ScriptedChatModel([plan, final])


async def _turn(
    settings: Settings, provider: TracerProvider, model: Any = None, text: str = USER_TEXT
) -> TurnResult:
    async with Arbiter.open(settings, model=model, tracer_provider=provider) as arbiter:
        session = await arbiter.start_session(SAMPLE_CUSTOMER_ID)
        return await arbiter.ask(session.session_id, text)


def _named(spans: Sequence[ReadableSpan], prefix: str) -> list[ReadableSpan]:
    return [s for s in spans if s.name.startswith(prefix)]


def _one(spans: Sequence[ReadableSpan], name: str) -> ReadableSpan:
    found = [s for s in spans if s.name == name]
    assert len(found) == 1, [s.name for s in spans]
    return found[0]


def _parent(span: ReadableSpan, spans: Sequence[ReadableSpan]) -> ReadableSpan | None:
    if span.parent is None:
        return None
    return next(s for s in spans if s.context.span_id == span.parent.span_id)


def _attrs(span: ReadableSpan) -> dict[str, Any]:
    return dict(span.attributes or {})


def _all_attribute_maps(spans: Sequence[ReadableSpan]) -> list[dict[str, Any]]:
    maps = [_attrs(s) for s in spans]
    maps += [dict(e.attributes or {}) for s in spans for e in s.events]
    return maps


async def test_turn_tree_names_and_genai_attributes(
    settings: Settings, provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    result = await _turn(settings, provider, _script())
    record = result.record
    spans = exporter.get_finished_spans()

    turn = _one(spans, "invoke_workflow arbiter.turn")
    assert turn.parent is None
    assert {s.context.trace_id for s in spans} == {turn.context.trace_id}
    nodes = _named(spans, "arbiter.node ")
    assert [s.name.removeprefix("arbiter.node ") for s in nodes] == [
        t.node for t in record.timings
    ] + ["record"]
    assert all(_parent(s, spans) is turn for s in nodes)
    assert "gen_ai.operation.name" not in _attrs(nodes[0])

    assert _attrs(turn) == {
        "gen_ai.operation.name": "invoke_workflow",
        "gen_ai.workflow.name": "arbiter.turn",
        "gen_ai.conversation.id": record.session_id,
        "arbiter.turn_id": record.turn_id,
        "arbiter.channel": "shopper",
        "arbiter.policy.version": record.policy_version,
        "arbiter.tool_schema.sha256": record.tool_schema_sha256,
        "arbiter.record.hash": record.record_hash,
        "arbiter.output.repaired": record.output_repaired,
    }

    chats = _named(spans, "chat ")
    assert [s.name for s in chats] == ["chat scripted", "chat scripted"]
    assert all(_parent(s, spans).name == "arbiter.node plan" for s in chats)  # type: ignore[union-attr]
    first, call = _attrs(chats[0]), record.llm_calls[0]
    assert first == {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "arbiter.scripted",
        "gen_ai.request.model": "scripted",
        "gen_ai.request.temperature": 0.0,
        "gen_ai.request.max_tokens": 800,
        "gen_ai.request.seed": 7,
        "gen_ai.conversation.id": record.session_id,
        "gen_ai.response.id": "resp_plan",
        "gen_ai.response.model": "scripted",
        "gen_ai.response.finish_reasons": ("tool_calls",),
        "gen_ai.usage.input_tokens": 10,
        "gen_ai.usage.output_tokens": 5,
        "arbiter.endpoint.kind": "scripted",
        "arbiter.llm_call.index": 0,
        "arbiter.request.tool_choice": "auto",
        "arbiter.prompt.template.id": "shopper.system",
        "arbiter.prompt.template.version": call.template_version,
        "arbiter.prompt.template.sha256": call.template_sha256,
        "arbiter.prompt.rendered_sha256": call.rendered_messages_sha256,
        "arbiter.tool_schema.sha256": record.tool_schema_sha256,
    }
    assert chats[0].kind is SpanKind.INTERNAL
    assert _attrs(chats[1])["gen_ai.response.id"] == "resp_final"
    assert _attrs(chats[1])["gen_ai.response.finish_reasons"] == ("stop",)


async def test_tool_spans_evaluation_events_and_execution_lineage(
    settings: Settings, provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    record = (await _turn(settings, provider, _script())).record
    spans = exporter.get_finished_spans()
    gather = _one(spans, "arbiter.node gather_context")
    validate = _one(spans, "arbiter.node validate")
    execute = _one(spans, "arbiter.node execute")

    read = _one(spans, "execute_tool get_price")
    assert _parent(read, spans) is gather
    (context,) = record.context
    assert _attrs(read) == {
        "gen_ai.operation.name": "execute_tool",
        "gen_ai.tool.name": "get_price",
        "gen_ai.tool.call.id": context.call_id,
        "gen_ai.tool.type": "function",
        "arbiter.tool.kind": "read",
        "arbiter.tool.service": context.source_service,
        "arbiter.tool.status": "ok",
        "arbiter.tool.attempts": context.attempts,
    }
    canonical = json.dumps(
        [
            {
                "call_id": context.call_id,
                "tool": context.tool,
                "args": context.args,
                "status": context.status,
                "result": context.result,
                "error": context.error,
            }
        ],
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    expected = hashlib.sha256(canonical.encode()).hexdigest()
    assert _attrs(gather)["arbiter.context.sha256"] == expected

    outcomes = {v.action_id: v for v in record.verdicts}
    events = [e for e in validate.events if e.name == "gen_ai.evaluation.result"]
    assert len(events) == len(record.proposals) == 2
    by_tool: dict[Any, dict[str, Any]] = {}
    for event in events:
        attributes = dict(event.attributes or {})
        by_tool[attributes["gen_ai.tool.name"]] = attributes
    denied, allowed = by_tool["offer_discount"], by_tool["add_to_cart"]
    discount = next(p for p in record.proposals if p.type == "offer_discount")
    assert denied["gen_ai.evaluation.name"] == "arbiter.policy"
    assert denied["gen_ai.evaluation.score.label"] == "deny"
    assert denied["arbiter.verdict.outcome"] == "deny"
    assert list(denied["arbiter.verdict.rule_ids"]) == outcomes[discount.id].rule_ids
    assert "discount.max_percent" in denied["arbiter.verdict.rule_ids"]
    assert denied["gen_ai.evaluation.explanation"]
    assert denied["gen_ai.response.id"] == "resp_plan"
    assert denied["gen_ai.tool.call.id"] == discount.call_id
    assert denied["arbiter.policy.version"] == record.policy_version
    assert allowed["gen_ai.evaluation.score.label"] == "allow"
    assert list(allowed["arbiter.verdict.rule_ids"]) == []

    assert not _named(spans, "execute_tool offer_discount")
    executed = _one(spans, "execute_tool add_to_cart")
    assert _parent(executed, spans) is execute
    (execution,) = record.executions
    attrs = _attrs(executed)
    assert execution.status == "executed"
    assert attrs["arbiter.idempotency_key"] == execution.idempotency_key
    assert attrs["arbiter.action.id"] == execution.action_id
    assert attrs["arbiter.tool.kind"] == "action"
    assert attrs["arbiter.tool.status"] == "executed"
    assert attrs["gen_ai.tool.call.id"] == next(
        p.call_id for p in record.proposals if p.type == "add_to_cart"
    )
    assert executed.status.status_code is StatusCode.UNSET


async def test_no_deprecated_names_and_no_content_by_default(
    settings: Settings, provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    await _turn(settings, provider, _script())
    maps = _all_attribute_maps(exporter.get_finished_spans())
    keys = {k for m in maps for k in m}
    assert not keys & DEPRECATED
    assert not keys & CONTENT
    values = " ".join(str(v) for m in maps for v in m.values())
    assert USER_TEXT not in values and ANSWER_TEXT not in values
    assert "Customer" not in values  # nothing of the rendered system prompt


async def test_content_on_spans_only_when_enabled(
    settings: Settings, provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    traced = settings.model_copy(update={"trace_content": True})
    await _turn(traced, provider, _script())
    spans = exporter.get_finished_spans()
    turn = _attrs(_one(spans, "invoke_workflow arbiter.turn"))
    assert json.loads(turn["gen_ai.input.messages"]) == [
        {"role": "user", "parts": [{"type": "text", "content": USER_TEXT}]}
    ]
    assert ANSWER_TEXT in turn["gen_ai.output.messages"]
    final = _attrs(_named(spans, "chat ")[-1])
    inputs = json.loads(final["gen_ai.input.messages"])
    assert [m["role"] for m in inputs][:2] == ["system", "user"]
    assert inputs[1]["parts"][0]["content"] == USER_TEXT
    assert any(p["type"] == "tool_call_response" for m in inputs for p in m["parts"])
    outputs = json.loads(final["gen_ai.output.messages"])
    assert outputs == [
        {
            "role": "assistant",
            "parts": [{"type": "text", "content": ANSWER_TEXT}],
            "finish_reason": "stop",
        }
    ]
    read = _attrs(_one(spans, "execute_tool get_price"))
    assert json.loads(read["gen_ai.tool.call.arguments"]) == {"sku": SKU}
    assert json.loads(read["gen_ai.tool.call.result"])["sku"] == SKU
    keys = {k for m in _all_attribute_maps(spans) for k in m}
    assert not keys & DEPRECATED


async def test_offline_turn_nests_concurrent_reads_under_gather(
    settings: Settings, provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    result = await _turn(
        settings, provider, text="I need running shoes size 10 under $120 that I can pick up today"
    )
    spans = exporter.get_finished_spans()
    turn = _one(spans, "invoke_workflow arbiter.turn")
    chats = _named(spans, "chat ")
    assert chats and all(_attrs(s)["gen_ai.provider.name"] == "arbiter.offline" for s in chats)
    assert all(_attrs(s)["gen_ai.conversation.id"] == result.record.session_id for s in chats)
    tools = _named(spans, "execute_tool ")
    assert len(tools) == len(result.record.context) > 0
    for span in [*chats, *tools]:
        node = _parent(span, spans)
        assert node is not None and node.name.startswith("arbiter.node ")
        assert _parent(node, spans) is turn
    assert all(_parent(s, spans).name == "arbiter.node gather_context" for s in tools)  # type: ignore[union-attr]


class _Unreachable:
    """A model endpoint that is down."""

    @property
    def kind(self) -> ModelKind:
        return "openai"

    @property
    def model_name(self) -> str:
        return "gpt-test"

    async def complete(self, request: ModelRequest) -> ModelResponse:
        raise ModelEndpointError("the endpoint timed out")


async def test_failed_model_call_marks_the_chat_span(
    settings: Settings, provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    result = await _turn(settings, provider, _Unreachable(), text="hello")
    assert result.record.error
    spans = exporter.get_finished_spans()
    chat = _one(spans, "chat gpt-test")
    assert chat.kind is SpanKind.CLIENT
    assert _attrs(chat)["gen_ai.provider.name"] == "openai"
    assert _attrs(chat)["error.type"] == "ModelEndpointError"
    assert chat.status.status_code is StatusCode.ERROR
    assert _attrs(_one(spans, "invoke_workflow arbiter.turn"))["arbiter.turn.error"]


class _Exploding(SpanExporter):
    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        raise ConnectionError("collector is down")


async def test_exporter_errors_never_reach_the_turn(settings: Settings) -> None:
    broken = TracerProvider()
    broken.add_span_processor(SimpleSpanProcessor(_Exploding()))
    result = await _turn(settings, broken, _script())
    assert result.text == ANSWER_TEXT
    broken.shutdown()


def test_exporter_selection_follows_otel_variables() -> None:
    endpoint = "http://collector:4318"
    assert tracing_setup.exporter_names({}) == []
    assert tracing_setup.exporter_names({"OTEL_TRACES_EXPORTER": "none"}) == []
    assert tracing_setup.exporter_names({"OTEL_EXPORTER_OTLP_ENDPOINT": endpoint}) == ["otlp"]
    traces_endpoint = {"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": endpoint}
    assert tracing_setup.exporter_names(traces_endpoint) == ["otlp"]
    assert tracing_setup.exporter_names({"OTEL_TRACES_EXPORTER": "otlp"}) == ["otlp"]
    assert tracing_setup.exporter_names({"OTEL_TRACES_EXPORTER": "console"}) == ["console"]
    assert (
        tracing_setup.exporter_names(
            {"OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": endpoint}
        )
        == []
    )
    assert (
        tracing_setup.exporter_names(
            {"OTEL_SDK_DISABLED": "true", "OTEL_EXPORTER_OTLP_ENDPOINT": endpoint}
        )
        == []
    )
    assert tracing_setup.build_tracer_provider({}) is None
    otlp = tracing_setup.build_tracer_provider({"OTEL_EXPORTER_OTLP_ENDPOINT": endpoint})
    assert otlp is not None
    assert otlp.resource.attributes["service.name"] == "arbiter"
    otlp.shutdown()  # nothing was queued: no network


async def test_console_exporter_writes_spans_to_stderr(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    console = tracing_setup.build_tracer_provider({"OTEL_TRACES_EXPORTER": "console"})
    assert console is not None
    await _turn(settings, console, text="hello")
    console.shutdown()
    captured = capsys.readouterr()
    assert '"name": "invoke_workflow arbiter.turn"' in captured.err
    assert '"name": "chat arbiter-offline-planner"' in captured.err
    assert "invoke_workflow" not in captured.out


_SCRIPT = textwrap.dedent(
    """
    import asyncio, sys
    from pathlib import Path
    from opentelemetry import trace
    from opentelemetry.sdk.trace import TracerProvider
    from agent import tracing_setup
    from agent.runtime import Arbiter
    from arbiter.settings import Settings
    from sandbox.seed import SAMPLE_CUSTOMER_ID

    host = None
    if sys.argv[2] == "host":
        host = TracerProvider()
        trace.set_tracer_provider(host)

    async def main() -> None:
        settings = Settings(data_dir=Path(sys.argv[1]), planner="offline")
        async with Arbiter.open(settings) as arbiter:
            session = await arbiter.start_session(SAMPLE_CUSTOMER_ID)
            await arbiter.ask(session.session_id, "hello")
        installed = tracing_setup.configure_tracing(settings)
        assert tracing_setup.configure_tracing(settings) is installed
        if host is not None:
            assert installed is None and trace.get_tracer_provider() is host
        else:
            assert installed is not None and trace.get_tracer_provider() is installed
        print("ok")

    asyncio.run(main())
    """
)


@pytest.mark.parametrize("host", ["none", "host"])
def test_console_exporter_from_the_environment(tmp_path: Path, host: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "ARBITER_"))}
    env["OTEL_TRACES_EXPORTER"] = "console"
    done = subprocess.run(
        [sys.executable, "-c", _SCRIPT, str(tmp_path), host],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"
    exported = '"name": "invoke_workflow arbiter.turn"' in done.stderr
    assert exported is (host == "none")  # a host's own provider is left alone


async def test_budgeted_execution_carries_its_budget_entry(
    settings: Settings, provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    offer = tool_call("offer_discount", sku=SKU, percent=5, reason="goodwill", competitor=None)
    add = tool_call("add_to_cart", sku=SKU, quantity=1)
    model = ScriptedChatModel([step(add), step(offer), answer("Done.")])
    record = (await _turn(settings, provider, model, text="add it with 5% off")).record
    execution = record.executions[-1]
    assert [v.outcome for v in record.verdicts] == ["allow", "allow"], record.verdicts
    assert execution.status == "executed" and execution.budget_entry
    attrs = _attrs(_one(exporter.get_finished_spans(), "execute_tool offer_discount"))
    assert attrs["arbiter.budget.entry"] == execution.budget_entry
    assert attrs["arbiter.idempotency_key"] == execution.idempotency_key
    assert "arbiter.approval.id" not in attrs  # no approvals yet
