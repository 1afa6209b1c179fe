"""The guarded tools as an MCP server: MCP clients get the same validator in front of every action.

Every registry tool is offered with the JSON schema generated from its arguments model
(``additionalProperties: false``) and its description. The customer and channel are
fixed when the server starts; a call naming another customer is refused.

Reads run directly, as in the gather step. An action call becomes a ``ProposedAction``
and gets its verdict from the runtime's own validator (same policy, kill switch, budget
ledger, rate limits); only an ``allow`` runs, through the execute step's own function.

Idempotency: the key hashes the session, the tool, the canonical arguments and the
client's request id (``_meta["arbiter/request_id"]``) when it sends one, so a retry runs
at most once (the services replay the stored response); the same action twice needs
two request ids.

Outcomes are tool results, not protocol errors, so the calling model can read and
repair them (the MCP convention): ``structuredContent`` is the graph's tool envelope
(status, rule ids, reasons, repair hint) and ``isError`` is true whenever nothing ran.
A verdict needing approval is neither executed nor queued: approving it would resume a
graph turn, and an MCP call has none. Each action call is appended to the audit store
as a DecisionRecord flagged ``mcp`` (no LLM calls: the proposer is the MCP client).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import mcp.types as types
from mcp.server import Server, ServerRequestContext
from mcp.shared.exceptions import MCPError
from opentelemetry import trace
from pydantic import ValidationError

import arbiter
from agent import telemetry
from agent.claims import fact_summary
from agent.deps import TurnContext
from agent.models.base import ToolCall, ToolStatus, tool_envelope

# The execute step's own functions, so MCP actions run exactly as the graph's do.
from agent.nodes.act import SKIP_RULES, execute_one, run_read
from agent.nodes.finish import build_record
from agent.record import CustomerContext, ExecutionRecord, StepTiming
from agent.runtime import Arbiter
from agent.sessions import Session
from agent.state import PendingRead, TurnScratch
from arbiter.errors import ArbiterError
from guardrails.validator import names_other_customer
from guardrails.verdict import ProposedAction, Verdict
from tools.spec import ToolSpec

REQUEST_ID_META_KEY = "arbiter/request_id"
"""``_meta`` key of the client's request id: the same id on a retry, a new one per action."""

MCP_FLAG = "mcp"
"""Input flag of the DecisionRecords written for MCP calls."""

INSTRUCTIONS = (
    "Commerce tools for one signed-in customer, fixed when this server started. Read tools "
    "return data. Action tools are checked by policy first: a result with isError true did "
    "not run, and its structuredContent says why (status, rule_ids, reasons, repair). Send "
    f"_meta['{REQUEST_ID_META_KEY}'] with a new id per intended action and the same id on "
    "a retry; without one, identical calls run once."
)

logger = logging.getLogger("arbiter.api")


def tool_definition(spec: ToolSpec[Any]) -> types.Tool:
    """One registry tool as an MCP tool: generated schema, description, read/action hints."""
    return types.Tool(
        name=spec.name,
        description=spec.description,
        input_schema=spec.args_model.model_json_schema(),
        annotations=types.ToolAnnotations(
            read_only_hint=spec.kind == "read", open_world_hint=False
        ),
        _meta={"arbiter/kind": spec.kind, "arbiter/service": spec.service},
    )


def schema_sha256(tools: list[types.Tool]) -> str:
    """sha256 of the tool definitions MCP clients read (the records' tool-schema lineage)."""
    dumped = [t.model_dump(mode="json", by_alias=True, exclude_none=True) for t in tools]
    return hashlib.sha256(_canonical(dumped).encode()).hexdigest()


def request_digest(session_id: str, tool: str, params: dict[str, Any], request_id: str) -> str:
    """Stable for a retry of the same call: session, tool, canonical arguments, request id."""
    body = {"session": session_id, "tool": tool, "arguments": params, "request_id": request_id}
    return hashlib.sha256(_canonical(body).encode()).hexdigest()[:32]


def request_id_of(meta: types.RequestParamsMeta | None) -> str:
    """The client's request id from ``_meta`` ("" when it sent none)."""
    value = (meta or {}).get(REQUEST_ID_META_KEY, "")
    if isinstance(value, bool) or not isinstance(value, str | int) or len(str(value)) > 200:
        message = f"_meta['{REQUEST_ID_META_KEY}'] must be a string of at most 200 characters"
        raise MCPError(types.INVALID_PARAMS, message)
    return str(value)


class GuardedTools:
    """Tool calls for one session: reads run, actions pass the validator before they run."""

    def __init__(self, runtime: Arbiter, session: Session) -> None:
        self.runtime = runtime
        self.session = session
        self.tools = [tool_definition(spec) for spec in runtime.deps.tools]
        self.schema_sha256 = schema_sha256(self.tools)
        # One action at a time per session, as the runtime runs one turn at a time.
        self._lock = asyncio.Lock()

    async def call(
        self, name: str, arguments: dict[str, Any], request_id: str = ""
    ) -> types.CallToolResult:
        """Run one ``tools/call``; an unknown tool is a protocol error, the rest results."""
        spec = self.runtime.deps.tools_by_name.get(name)
        if spec is None:
            raise MCPError(types.INVALID_PARAMS, f"there is no tool named {name!r}")
        try:
            tools, customer = await self.runtime.tool_context(
                self.session.principal, self.session.session_id
            )
        except ArbiterError as exc:  # the customer service could not confirm who this is
            return _result("error", error={"code": "customer_unavailable", "message": str(exc)})
        other = names_other_customer(arguments, tools)
        if other and spec.kind == "read":
            message = "only the signed-in customer's data is available"
            return _result("error", error={"code": "out_of_scope", "message": message})
        params = arguments  # an action naming another customer goes to the validator as sent
        if not other:
            try:
                params = spec.parse_args(arguments).model_dump(mode="json")
            except ValidationError as exc:
                error = {"code": "invalid_arguments", "message": _summary(exc)}
                return _result("error", error=error)
        call_id = f"mcp_{uuid.uuid4().hex[:20]}"
        ctx = TurnContext(tools=tools, customer=customer)
        if spec.kind == "read":
            call = ToolCall(id=call_id, name=name, arguments=arguments)
            read = await run_read(self.runtime.deps, ctx, PendingRead(call=call, args=params))
            if read.status == "ok":
                return _result("ok", data=read.result)
            return _result("error", error=read.error)
        action = ProposedAction(
            id="act_1", type=name, params=params, call_id=call_id, llm_call_index=-1
        )
        async with self._lock:
            return await self._act(ctx, action, request_id)

    async def _act(
        self, ctx: TurnContext, action: ProposedAction, request_id: str
    ) -> types.CallToolResult:
        deps = self.runtime.deps
        scratch = self._scratch(ctx.customer, action, request_id)
        self.runtime.policies.reload()  # as at each turn's start: an edited file, then pinned
        pin = ctx.pinned(deps.validator)
        started = time.perf_counter()
        verdict, shadow = await deps.validator.evaluate_both(action, ctx.tools, pin)
        if shadow is not None:
            ctx.shadow_verdicts.append(shadow)
        scratch.verdicts.append(verdict)
        scratch.timings.append(_timing("validate", started))
        telemetry.record_verdict_event(trace.get_current_span(), verdict, action)
        execution = None
        if verdict.outcome == "allow":
            digest = request_digest(ctx.tools.session_id, action.type, action.params, request_id)
            started = time.perf_counter()
            execution = await self._execute(ctx, action, verdict, digest)
            scratch.executions.append(execution)
            scratch.timings.append(_timing("execute", started))
        scratch.final_text = fact_summary(scratch.proposals, scratch.verdicts, scratch.executions)
        record = build_record(deps, scratch, [], ctx)
        deps.audit.append(record.model_copy(update={"tool_schema_sha256": self.schema_sha256}))
        logger.info(
            "mcp %s in %s: %s (%s)%s",
            action.type,
            scratch.session_id,
            verdict.outcome,
            ", ".join(verdict.rule_ids) or "no rule fired",
            f", {execution.status}" if execution else "",
        )
        return _outcome(action, verdict, execution, scratch.turn_id)

    async def _execute(
        self,
        ctx: TurnContext,
        action: ProposedAction,
        verdict: Verdict,
        digest: str,
    ) -> ExecutionRecord:
        deps = self.runtime.deps
        spec = deps.tools_by_name[action.type]
        # Keyed by the request digest, not this call's turn id: a retry gets the same key.
        key = f"arb-mcp_{digest}-{action.id}"
        with telemetry.tool_span(
            action.type, action.call_id, kind="action", service=spec.service, action_id=action.id
        ) as span:
            record = await execute_one(deps, ctx, action, verdict, key)
            telemetry.record_execution(span, record)
        return record

    def _scratch(
        self, customer: CustomerContext, action: ProposedAction, request_id: str
    ) -> TurnScratch:
        called = {"mcp_tool": action.type, "arguments": action.params, "request_id": request_id}
        return TurnScratch(
            turn_id=f"mcp_{uuid.uuid4().hex[:20]}",
            session_id=self.session.session_id,
            principal=self.session.principal,
            customer=customer,
            user_message=_canonical(called),
            started_at=datetime.now(UTC),
            input_flags=[MCP_FLAG],
            proposals=[action],
        )


def build_server(runtime: Arbiter, session: Session) -> Server[Any]:
    """The MCP server for one session; the caller keeps ``runtime`` open while it serves."""
    guarded = GuardedTools(runtime, session)

    async def list_tools(
        ctx: ServerRequestContext[Any], params: types.PaginatedRequestParams | None
    ) -> types.ListToolsResult:
        return types.ListToolsResult(tools=list(guarded.tools))

    async def call_tool(
        ctx: ServerRequestContext[Any], params: types.CallToolRequestParams
    ) -> types.CallToolResult:
        request_id = request_id_of(params.meta)
        return await guarded.call(params.name, dict(params.arguments or {}), request_id)

    return Server(
        "arbiter",
        version=arbiter.__version__,
        title="Arbiter guarded commerce tools",
        instructions=INSTRUCTIONS,
        on_list_tools=list_tools,
        on_call_tool=call_tool,
    )


def _outcome(
    action: ProposedAction, verdict: Verdict, execution: ExecutionRecord | None, turn_id: str
) -> types.CallToolResult:
    base: dict[str, Any] = {"action": action.type, "turn_id": turn_id}
    if execution is None:
        repair = verdict.repair.model_dump(mode="json") if verdict.repair else None
        fired = {"rule_ids": verdict.rule_ids, "reasons": verdict.reasons, "repair": repair}
        if verdict.outcome == "deny":
            return _result("denied", **base, **fired)
        note = "Needs a person's approval; not executed (an MCP call cannot wait for one)."
        return _result("pending_approval", **base, **fired, message=note)
    base["idempotency_key"] = execution.idempotency_key
    if execution.status == "executed":
        return _result("executed", **base, data=execution.result)
    if execution.status == "skipped":  # rate or budget taken meanwhile: denied at execution
        error = execution.error or {}
        rule = SKIP_RULES[str(error.get("code"))]
        return _result(
            "denied", **base, rule_ids=[rule], reasons=[str(error.get("message"))], repair=None
        )
    return _result("failed", **base, error=execution.error)


def _result(status: ToolStatus, **fields: Any) -> types.CallToolResult:
    """The graph's tool envelope, as text and as structured content."""
    text = tool_envelope(status, **fields)
    return types.CallToolResult(
        content=[types.TextContent(text=text)],
        structured_content=json.loads(text),
        is_error=status not in ("ok", "executed"),
    )


def _timing(node: str, started: float) -> StepTiming:
    return StepTiming(node=node, duration_ms=(time.perf_counter() - started) * 1000)


def _summary(exc: ValidationError) -> str:
    parts = [f"{'.'.join(map(str, e['loc'])) or 'arguments'}: {e['msg']}" for e in exc.errors()]
    return "; ".join(parts[:5])


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
