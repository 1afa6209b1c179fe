"""One turn as the planner sees it, derived from the request's messages alone.

The planner keeps no state between calls: the current user message is the last
``role="user"`` message, the steps of this turn are the assistant tool calls after it
and the tool messages answering them, and earlier turns survive only as text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from agent.models.base import ChatMessage, ToolCall, read_envelope
from agent.offline.vocab import ORDER_RE, SKU_RE

# "- Pegasus 41 (RUN-00042): $89.99" in a listing, "20% off Pegasus 41 (RUN-00042)" in an
# offer, "Added Pegasus 41 (RUN-00042)" in a confirmation. Names may hold parentheses.
_NAMED_SKU_RE = re.compile(
    r"(?:^\s*-\s*(?:\d+ × )?|\b(?:off|of|Added|Removed) )(\S[^\n]*?) \(([A-Z]{3}-\d{5})\)", re.M
)
_NO_RESULT = {"status": "error", "error": {"code": "no_result", "message": "no tool result"}}


@dataclass(frozen=True)
class Result:
    """A tool call made this turn and the envelope that answered it."""

    call: ToolCall
    envelope: dict[str, Any]

    @property
    def status(self) -> str:
        """Envelope status: ok, error, executed, denied, failed, pending_approval, rejected..."""
        return str(self.envelope.get("status"))

    @property
    def ok(self) -> bool:
        """A read that returned data or an action that ran."""
        return self.status in ("ok", "executed") and isinstance(self.data, dict)

    @property
    def data(self) -> Any:
        """The result payload (read data or the executed action's data)."""
        return self.envelope.get("data")

    def has(self, *keys: str) -> bool:
        """Whether the call succeeded and its data holds every one of ``keys``."""
        return self.ok and all(key in self.data for key in keys)

    @property
    def error_code(self) -> str | None:
        """The error code of an error or failed envelope."""
        error = self.envelope.get("error")
        return str(error.get("code")) if isinstance(error, dict) else None

    @property
    def sku(self) -> str | None:
        """The SKU the call was about, if it named one."""
        sku = self.call.arguments.get("sku")
        return sku if isinstance(sku, str) else None


@dataclass(frozen=True)
class Turn:
    """The current message, the conversation before it and this turn's tool results."""

    text: str
    history: tuple[ChatMessage, ...]
    rounds: tuple[tuple[Result, ...], ...]

    @classmethod
    def from_messages(cls, messages: list[ChatMessage]) -> Turn:
        """Split a request's messages into history, current message and this turn's steps."""
        last_user = max((i for i, m in enumerate(messages) if m.role == "user"), default=-1)
        text = (messages[last_user].content or "") if last_user >= 0 else ""
        answers = {
            m.tool_call_id: read_envelope(m.content)
            for m in messages[last_user + 1 :]
            if m.role == "tool" and m.tool_call_id
        }
        rounds = tuple(
            tuple(Result(call, answers.get(call.id, _NO_RESULT)) for call in m.tool_calls)
            for m in messages[last_user + 1 :]
            if m.role == "assistant" and m.tool_calls
        )
        history = tuple(
            m
            for m in messages[: max(last_user, 0)]
            if m.role in ("user", "assistant") and m.content
        )
        return cls(text=text, history=history, rounds=rounds)

    @property
    def calls_made(self) -> int:
        """Tool calls already emitted this turn (call ids continue after them)."""
        return sum(len(r) for r in self.rounds)

    def results(self, name: str) -> list[Result]:
        """Every result of tool ``name`` this turn, in call order."""
        return [r for step in self.rounds for r in step if r.call.name == name]

    def last(self, name: str) -> Result | None:
        """The latest result of tool ``name`` this turn."""
        found = self.results(name)
        return found[-1] if found else None

    def ran(self, name: str) -> bool:
        """Whether tool ``name`` was called this turn (whatever its outcome)."""
        return bool(self.results(name))

    def by_sku(self, name: str) -> dict[str, Result]:
        """The latest result of tool ``name`` per SKU."""
        return {r.sku: r for r in self.results(name) if r.sku}

    @property
    def previous_answer(self) -> str | None:
        """The assistant's last answer before the current message."""
        return next((m.content for m in reversed(self.history) if m.role == "assistant"), None)

    def skus_in_previous_answer(self) -> list[str]:
        """SKUs the previous answer listed, in order."""
        return skus_in(self.previous_answer or "")

    def last_sku_in_history(self) -> str | None:
        """The first SKU of the most recent earlier message that mentions one."""
        for message in reversed(self.history):
            found = skus_in(message.content or "")
            if found:
                return found[0]
        return None

    def last_order_in_history(self) -> str | None:
        """The most recent order id mentioned in earlier messages."""
        for message in reversed(self.history):
            match = ORDER_RE.search(message.content or "")
            if match:
                return "O" + (match.group(1) or match.group(2))
        return None

    def names(self) -> dict[str, str]:
        """Product names by SKU, from this turn's results first, then earlier answers."""
        names: dict[str, str] = {}
        for message in self.history:
            for name, sku in _NAMED_SKU_RE.findall(message.content or ""):
                names[sku] = name
        for step in self.rounds:
            for result in step:
                _collect_names(result.data, names)
        return names


def skus_in(text: str) -> list[str]:
    """SKUs mentioned in ``text``, upper-cased, first mention first."""
    return list(dict.fromkeys(s.upper() for s in SKU_RE.findall(text)))


def _collect_names(data: Any, names: dict[str, str]) -> None:
    if isinstance(data, dict):
        sku, name = data.get("sku"), data.get("name")
        if isinstance(sku, str) and isinstance(name, str):
            names[sku] = name
        for value in data.values():
            if isinstance(value, list | dict):
                _collect_names(value, names)
    elif isinstance(data, list):
        for item in data:
            _collect_names(item, names)


def parse_time(value: Any) -> datetime | None:
    """An ISO-8601 time from a tool result, or None."""
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        return None
