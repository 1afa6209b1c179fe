"""The one interface every reasoning component implements, and the messages it reads.

``openai`` (any OpenAI-compatible endpoint), ``offline`` (deterministic intent
planner), ``scripted`` (tests) and ``replay`` (recorded outputs) all take a
``ModelRequest`` and return a ``ModelResponse``; the graph never knows which one runs.

Tool messages carry a JSON envelope (see ``tool_envelope``) so every component reads
results the same way.
"""

from __future__ import annotations

import json
from typing import Any, Literal, Protocol, runtime_checkable

from pydantic import BaseModel, Field

Role = Literal["system", "user", "assistant", "tool"]
ModelKind = Literal["openai", "offline", "scripted", "replay"]


class ToolCall(BaseModel):
    """A tool call as the model emitted it."""

    id: str = Field(description="Call id; the tool message answering it carries the same id.")
    name: str = Field(description="Tool name as emitted; may be unknown to the registry.")
    arguments: dict[str, Any] = Field(default_factory=dict, description="Parsed JSON arguments.")
    raw_arguments: str = Field(default="{}", description="Arguments exactly as emitted.")
    parse_error: str | None = Field(
        default=None, description="Set when raw_arguments was not a JSON object."
    )


class ChatMessage(BaseModel):
    """One message of the conversation in OpenAI chat shape."""

    role: Role
    content: str | None = None
    tool_calls: list[ToolCall] = Field(default_factory=list)
    tool_call_id: str | None = Field(default=None, description="For role=tool: the call answered.")
    name: str | None = Field(default=None, description="For role=tool: the tool's name.")


class ModelParams(BaseModel):
    """Sampling parameters sent with every call (recorded in the lineage)."""

    temperature: float = 0.0
    top_p: float | None = None
    max_tokens: int = 800
    seed: int | None = None


class ModelRequest(BaseModel):
    """Everything a reasoning component sees for one call."""

    messages: list[ChatMessage]
    tools: list[dict[str, Any]] = Field(default_factory=list, description="OpenAI tool schemas.")
    params: ModelParams = Field(default_factory=ModelParams)
    tool_choice: Literal["auto", "none"] = "auto"


class TokenUsage(BaseModel):
    """Token counts when the component reports them."""

    input_tokens: int = 0
    output_tokens: int = 0


class ModelResponse(BaseModel):
    """One model output: tool calls and/or text, with what produced it."""

    text: str | None = None
    tool_calls: list[ToolCall] = Field(default_factory=list)
    model: str = Field(description="Model name the endpoint reports (or the component's name).")
    response_id: str | None = None
    finish_reason: str | None = None
    usage: TokenUsage | None = None
    raw: dict[str, Any] = Field(default_factory=dict, description="Raw output, for lineage.")


class ChatModel(Protocol):
    """A reasoning component. Implementations must be safe to call concurrently."""

    @property
    def kind(self) -> ModelKind:
        """Which component this is (recorded as the endpoint kind)."""
        ...

    @property
    def model_name(self) -> str:
        """The model name requested (recorded in the lineage)."""
        ...

    async def complete(self, request: ModelRequest) -> ModelResponse:
        """Produce the next step of the turn."""
        ...


@runtime_checkable
class SupportsClose(Protocol):
    """A reasoning component holding connections to close when the runtime closes."""

    async def aclose(self) -> None: ...


def to_openai_message(message: ChatMessage) -> dict[str, Any]:
    """Our message shape to the chat-completions wire shape."""
    out: dict[str, Any] = {"role": message.role, "content": message.content}
    if message.role == "assistant" and message.tool_calls:
        out["tool_calls"] = [
            {
                "id": call.id,
                "type": "function",
                "function": {"name": call.name, "arguments": call.raw_arguments},
            }
            for call in message.tool_calls
        ]
    if message.role == "tool":
        out["tool_call_id"] = message.tool_call_id
    return out


ToolStatus = Literal[
    "ok", "error", "executed", "denied", "failed", "pending_approval", "rejected", "expired"
]


def tool_envelope(status: ToolStatus, **fields: Any) -> str:
    """The JSON content of a tool message.

    - ``{"status": "ok", "data": ...}``: a read tool's result;
    - ``{"status": "error", "error": {"code", "message"}}``: a read tool failed or the
      call was malformed (unknown tool, bad arguments) and was not run;
    - ``{"status": "executed", "action": ..., "data": ...}``: an allowed action ran;
    - ``{"status": "denied", "action": ..., "rule_ids": [...], "reasons": [...],
      "repair": {...} | null}``: policy refused the proposal;
    - ``{"status": "failed", "action": ..., "error": {...}}``: allowed but the service failed;
    - ``{"status": "pending_approval", ...}``: waits for a human (no one can decide now);
    - ``{"status": "rejected" | "expired", "action": ..., "comment": ...}``: a person
      declined it, or nobody decided in time; it did not run.
    """
    return json.dumps({"status": status, **fields}, sort_keys=True, default=str)


def read_envelope(content: str | None) -> dict[str, Any]:
    """Parse a tool message's envelope; malformed content reads as an error envelope."""
    try:
        value = json.loads(content or "")
    except ValueError:
        return {"status": "error", "error": {"code": "malformed", "message": "not JSON"}}
    if not isinstance(value, dict) or "status" not in value:
        return {"status": "error", "error": {"code": "malformed", "message": "no status"}}
    return value
