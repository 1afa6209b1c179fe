"""``OfflinePlanner``: the deterministic reasoning component used when no LLM is configured.

It implements ``ChatModel`` and emits the same tool calls an LLM would, so its
proposals go through the same validation, execution and claim check. Every call is
derived from ``request.messages`` alone (see ``turn``); the same messages always give
the same output.
"""

from __future__ import annotations

import json
from typing import Any

from agent.models.base import ModelKind, ModelRequest, ModelResponse, ToolCall
from agent.offline import answers
from agent.offline.flows import FLOWS, Call
from agent.offline.intents import Intent, classify
from agent.offline.turn import Turn

MODEL_NAME = "arbiter-offline-planner"
# No flow needs more than three rounds of calls; this is a backstop, not the design.
MAX_ROUNDS = 4

_INCOMPLETE = (
    "I couldn't finish looking that up just now, so I won't guess. Please try again in a moment."
)


class OfflinePlanner:
    """Intent patterns plus slot filling, behind the ``ChatModel`` interface."""

    @property
    def kind(self) -> ModelKind:
        """Always ``offline``."""
        return "offline"

    @property
    def model_name(self) -> str:
        """Recorded in the lineage as the model name."""
        return MODEL_NAME

    async def complete(self, request: ModelRequest) -> ModelResponse:
        """The next step of the turn: tool calls, or the answer once the results are in."""
        return plan_step(request)


def plan_step(request: ModelRequest) -> ModelResponse:
    """Synchronous core of ``OfflinePlanner.complete`` (pure, no I/O)."""
    turn = Turn.from_messages(request.messages)
    intent = classify(turn.text, turn.previous_answer)
    step = FLOWS[intent.kind](intent, turn)
    if isinstance(step, list):
        if request.tool_choice == "none" or len(turn.rounds) >= MAX_ROUNDS:
            step = _INCOMPLETE
        elif not _offered(step, request.tools):
            step = answers.cannot_help()
    if isinstance(step, str):
        return _response(intent, text=step)
    start = turn.calls_made
    calls = [
        ToolCall(
            id=f"call_{start + n}",
            name=name,
            arguments=args,
            raw_arguments=json.dumps(args, sort_keys=True),
        )
        for n, (name, args) in enumerate(step, start=1)
    ]
    return _response(intent, calls=calls)


def _offered(calls: list[Call], tools: list[dict[str, Any]]) -> bool:
    """Whether every tool called is in the request's tool list (an empty list allows all)."""
    if not tools:
        return True
    names = {str((t.get("function") or t).get("name")) for t in tools}
    return all(name in names for name, _ in calls)


def _response(
    intent: Intent, *, text: str | None = None, calls: list[ToolCall] | None = None
) -> ModelResponse:
    return ModelResponse(
        text=text,
        tool_calls=calls or [],
        model=MODEL_NAME,
        finish_reason="tool_calls" if calls else "stop",
        raw={"intent": intent.kind},
    )
