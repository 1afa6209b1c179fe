"""What a tool is: a pydantic arguments model, a docstring, a kind, and a coroutine.

The JSON schema the model sees is generated from the arguments model in OpenAI strict
mode (every property required, nullable where optional, no extra properties). The
session's customer and the HTTP client reach a tool through ``ToolContext``, which is
never part of that schema: the model cannot choose whose data a tool touches.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import json
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict

from tools.client import CapabilityClient

ToolKind = Literal["read", "action"]
Channel = Literal["shopper", "copilot"]


class ToolArgs(BaseModel):
    """Base of every tool's arguments: unknown fields are an error, not silently dropped."""

    model_config = ConfigDict(extra="forbid")


ArgsT = TypeVar("ArgsT", bound=ToolArgs)


@dataclass(frozen=True)
class ToolContext:
    """Trusted per-turn context. Built from the authenticated session, never from the model."""

    customer_id: str
    session_id: str
    channel: Channel
    region: str
    postcode: str
    loyalty_tier: str
    client: CapabilityClient
    idempotency_key: str | None = None

    def for_execution(self, idempotency_key: str) -> ToolContext:
        """The same context carrying the idempotency key of one action execution."""
        return replace(self, idempotency_key=idempotency_key)

    def require_idempotency_key(self) -> str:
        """Action tools call this: executing without a key is a programming error."""
        if not self.idempotency_key:
            raise RuntimeError("action tools run only from the execute step, with a key")
        return self.idempotency_key


ToolResult = dict[str, Any]


@dataclass(frozen=True)
class ToolSpec(Generic[ArgsT]):
    """One tool: its name, what the model reads about it, its arguments and its effect."""

    name: str
    description: str
    args_model: type[ArgsT]
    kind: ToolKind
    service: str
    run: Callable[[ArgsT, ToolContext], Awaitable[ToolResult]]

    def parse_args(self, raw: dict[str, Any]) -> ArgsT:
        """Validate model-supplied arguments; raises pydantic.ValidationError."""
        return self.args_model.model_validate(raw)

    def openai_schema(self) -> dict[str, Any]:
        """The function-tool definition sent to an OpenAI-compatible endpoint."""
        return {
            "type": "function",
            "function": {
                "name": self.name,
                "description": self.description,
                "parameters": strict_json_schema(self.args_model),
                "strict": True,
            },
        }


def strict_json_schema(model: type[BaseModel]) -> dict[str, Any]:
    """Pydantic's schema made OpenAI-strict: all properties required, no extras, no defaults."""
    return copy.deepcopy(_strict_schema(model))


@functools.cache
def _strict_schema(model: type[BaseModel]) -> dict[str, Any]:
    # Built once per arguments model (schema generation is costly); callers get copies.
    schema = copy.deepcopy(model.model_json_schema())
    _make_strict(schema)
    return schema


# Keywords OpenAI strict mode rejects ("Invalid schema"). The arguments model still
# enforces them: ``parse_args`` validates every call before a tool runs.
_STRICT_UNSUPPORTED = (
    "minLength",
    "maxLength",
    "uniqueItems",
    "minProperties",
    "maxProperties",
    "patternProperties",
    "propertyNames",
    "unevaluatedProperties",
    "unevaluatedItems",
    "contains",
    "minContains",
    "maxContains",
)


def _make_strict(schema: dict[str, Any]) -> None:
    for key in ("default", "title", *_STRICT_UNSUPPORTED):
        schema.pop(key, None)
    if "properties" in schema:
        schema["additionalProperties"] = False
        schema["required"] = list(schema["properties"])
        for prop in schema["properties"].values():
            _make_strict(prop)
    for key in ("$defs", "definitions"):
        for sub in schema.get(key, {}).values():
            _make_strict(sub)
    for key in ("anyOf", "oneOf", "allOf"):
        for sub in schema.get(key, []):
            _make_strict(sub)
    if isinstance(schema.get("items"), dict):
        _make_strict(schema["items"])


def schema_hash(specs: Sequence[ToolSpec[Any]]) -> str:
    """sha256 of the canonical tool definitions, in registry order: part of prompt lineage."""
    canonical = json.dumps(
        [spec.openai_schema() for spec in specs], sort_keys=True, separators=(",", ":")
    )
    return hashlib.sha256(canonical.encode()).hexdigest()
