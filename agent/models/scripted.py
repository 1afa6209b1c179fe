"""A scripted reasoning component in domain terms, for tests, evals and replay.

    model = ScriptedChatModel([
        step(tool_call("get_price", sku="RUN-00042")),
        answer("It costs $89.99."),
    ])

Each ``complete()`` returns the next step and records the request; running out of
steps is an error, and ``assert_exhausted()`` fails when steps were left unused.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from itertools import count
from typing import Any

from agent.models.base import ModelKind, ModelRequest, ModelResponse, TokenUsage, ToolCall

_ids = count(1)


def tool_call(name: str, /, **arguments: Any) -> ToolCall:
    """A well-formed tool call."""
    raw = json.dumps(arguments)
    return ToolCall(id=f"call_s{next(_ids)}", name=name, arguments=arguments, raw_arguments=raw)


def step(*calls: ToolCall, text: str | None = None) -> ModelResponse:
    """One model output with tool calls (and optional text)."""
    return ModelResponse(
        text=text,
        tool_calls=list(calls),
        model="scripted",
        finish_reason="tool_calls" if calls else "stop",
        usage=TokenUsage(input_tokens=10, output_tokens=5),
    )


def answer(text: str) -> ModelResponse:
    """A final text answer."""
    return step(text=text)


class ScriptExhaustedError(AssertionError):
    """The code under test asked the model for more steps than were scripted."""


class ScriptedChatModel:
    """Returns scripted steps in order and records every request."""

    def __init__(self, steps: Sequence[ModelResponse], *, name: str = "scripted") -> None:
        self._steps = list(steps)
        self._name = name
        self.requests: list[ModelRequest] = []

    @property
    def kind(self) -> ModelKind:
        return "scripted"

    @property
    def model_name(self) -> str:
        return self._name

    async def complete(self, request: ModelRequest) -> ModelResponse:
        self.requests.append(request)
        if len(self.requests) > len(self._steps):
            raise ScriptExhaustedError(f"no scripted step {len(self.requests)}")
        return self._steps[len(self.requests) - 1]

    def assert_exhausted(self) -> None:
        """Fail if scripted steps were never requested."""
        unused = len(self._steps) - len(self.requests)
        if unused:
            raise AssertionError(f"{unused} scripted step(s) were never used")
