"""The turn as a LangGraph StateGraph.

    guard_input -> plan -> gather_context -> (plan ...) -> validate -> execute -> (plan ...)
                -> respond -> guard_output -> record
                                  validate/execute -> await_approval -> execute | plan

plan loops through gather_context (reads) and validate/execute (actions) until the
model answers with text or a bound is hit (plan steps, revisions after denials). An
action policy sends to a human pauses the turn in await_approval (one action per
node run, LangGraph ``interrupt()``) with its state in the checkpointer.
Logic lives inside nodes and nodes stay few: each node costs a fraction of a
millisecond in LangGraph, and the checkpointer writes once at the end of the turn.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any, Literal, Protocol

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph
from langgraph.runtime import Runtime

from agent import telemetry
from agent.deps import TurnContext, TurnDeps
from agent.models.base import ChatMessage
from agent.nodes import act, approve, finish, plan
from agent.record import StepTiming
from agent.state import HISTORY_LIMIT, GraphState, TurnScratch


class Node(Protocol):
    """A graph node: state in, state update out, with the per-turn context injected."""

    async def __call__(
        self, state: GraphState, *, runtime: Runtime[TurnContext]
    ) -> dict[str, Any]: ...


TurnGraph = CompiledStateGraph[GraphState, TurnContext, GraphState, GraphState]


def _timed(
    name: str, body: Callable[[TurnScratch, list[ChatMessage], TurnContext], Awaitable[None]]
) -> Node:
    async def node(state: GraphState, *, runtime: Runtime[TurnContext]) -> dict[str, Any]:
        scratch = state["turn"]
        assert scratch is not None
        started = time.perf_counter()
        with telemetry.node_span(name):
            await body(scratch, state.get("history") or [], runtime.context)
        scratch.timings.append(
            StepTiming(node=name, duration_ms=(time.perf_counter() - started) * 1000)
        )
        return {"turn": scratch}

    node.__name__ = name
    return node


def build_graph(deps: TurnDeps, checkpointer: BaseCheckpointSaver[Any] | None) -> TurnGraph:
    """Compile the turn graph over its dependencies."""

    async def guard_input(s: TurnScratch, h: list[ChatMessage], c: TurnContext) -> None:
        plan.guard_input(s)

    async def plan_node(s: TurnScratch, h: list[ChatMessage], c: TurnContext) -> None:
        await plan.plan(deps, c, s, h)

    async def gather(s: TurnScratch, h: list[ChatMessage], c: TurnContext) -> None:
        await act.gather_context(deps, c, s)

    async def validate(s: TurnScratch, h: list[ChatMessage], c: TurnContext) -> None:
        await act.validate(deps, c, s)

    async def execute(s: TurnScratch, h: list[ChatMessage], c: TurnContext) -> None:
        await act.execute(deps, c, s)

    async def await_approval(state: GraphState, *, runtime: Runtime[TurnContext]) -> dict[str, Any]:
        scratch = _scratch(state)
        request = scratch.approval_requests[scratch.awaiting[0]]
        decision = await approve.decision_for(deps, request)  # may pause the graph here
        approve.count_wait(scratch, request)
        started = time.perf_counter()
        with telemetry.node_span("await_approval"):
            await approve.settle(deps, runtime.context, scratch, request, decision)
        scratch.timings.append(
            StepTiming(node="await_approval", duration_ms=(time.perf_counter() - started) * 1000)
        )
        return {"turn": scratch}

    async def respond(s: TurnScratch, h: list[ChatMessage], c: TurnContext) -> None:
        await finish.respond(deps, c, s, h)

    async def guard_output(s: TurnScratch, h: list[ChatMessage], c: TurnContext) -> None:
        finish.guard_output(s)

    async def record(state: GraphState, *, runtime: Runtime[TurnContext]) -> dict[str, Any]:
        scratch = state["turn"]
        assert scratch is not None
        with telemetry.node_span("record"):
            built = finish.build_record(deps, scratch, state.get("history") or [], runtime.context)
            stored = deps.audit.append(built)
        runtime.context.result.append(stored)
        history = [
            *(state.get("history") or []),
            ChatMessage(role="user", content=scratch.user_message),
            ChatMessage(role="assistant", content=stored.final_text),
        ]
        return {"history": history[-HISTORY_LIMIT:], "turn": None}

    def steps_left(s: TurnScratch) -> bool:
        return len(s.llm_calls) < deps.limits.max_plan_steps

    def after_plan(state: GraphState) -> Literal["gather_context", "validate", "respond", "plan"]:
        s = _scratch(state)
        if s.error is not None or s.draft_text is not None:
            return "respond"
        if s.pending_reads:
            return "gather_context"
        if s.pending_actions:
            return "validate"
        return "plan" if steps_left(s) else "respond"

    def after_gather(state: GraphState) -> Literal["validate", "plan", "respond"]:
        s = _scratch(state)
        if s.pending_actions:
            return "validate"
        return "plan" if steps_left(s) else "respond"

    def after_validate(
        state: GraphState,
    ) -> Literal["execute", "await_approval", "plan", "respond"]:
        s = _scratch(state)
        if s.pending_actions:
            return "execute"
        if s.awaiting:
            return "await_approval"
        if s.revisions > deps.limits.max_revisions or not steps_left(s):
            return "respond"
        return "plan"

    def after_execute(state: GraphState) -> Literal["await_approval", "plan", "respond"]:
        s = _scratch(state)
        if s.awaiting:
            return "await_approval"
        return "plan" if steps_left(s) else "respond"

    def after_approval(
        state: GraphState,
    ) -> Literal["await_approval", "execute", "plan", "respond"]:
        s = _scratch(state)
        if s.awaiting:
            return "await_approval"
        if s.pending_actions:
            return "execute"
        return "plan" if steps_left(s) else "respond"

    graph = StateGraph(GraphState, context_schema=TurnContext)
    graph.add_node("guard_input", _timed("guard_input", guard_input))
    graph.add_node("plan", _timed("plan", plan_node))
    graph.add_node("gather_context", _timed("gather_context", gather))
    graph.add_node("validate", _timed("validate", validate))
    graph.add_node("execute", _timed("execute", execute))
    graph.add_node("await_approval", await_approval)
    graph.add_node("respond", _timed("respond", respond))
    graph.add_node("guard_output", _timed("guard_output", guard_output))
    graph.add_node("record", record)
    graph.add_edge(START, "guard_input")
    graph.add_edge("guard_input", "plan")
    graph.add_conditional_edges("plan", after_plan)
    graph.add_conditional_edges("gather_context", after_gather)
    graph.add_conditional_edges("validate", after_validate)
    graph.add_conditional_edges("execute", after_execute)
    graph.add_conditional_edges("await_approval", after_approval)
    graph.add_edge("respond", "guard_output")
    graph.add_edge("guard_output", "record")
    graph.add_edge("record", END)
    return graph.compile(checkpointer=checkpointer, name="arbiter.turn")


def _scratch(state: GraphState) -> TurnScratch:
    scratch = state["turn"]
    assert scratch is not None
    return scratch
