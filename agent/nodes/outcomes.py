"""The tool result the model gets for a proposal that did not run (denied or waiting)."""

from __future__ import annotations

from typing import Any

from agent.models.base import ChatMessage, tool_envelope
from guardrails.verdict import ProposedAction, Verdict


def outcome_message(action: ProposedAction, status: Any, verdict: Verdict) -> ChatMessage:
    """The tool result a refused or waiting proposal gives the model.

    A denial names only the rules that deny: a rule that would merely have asked for
    approval is not a reason the action was refused.
    """
    hits = verdict.hits
    if status == "denied":
        hits = [hit for hit in hits if hit.effect == "deny"] or hits
    repair = next((hit.repair for hit in hits if hit.repair), None)
    return ChatMessage(
        role="tool",
        tool_call_id=action.call_id,
        name=action.type,
        content=tool_envelope(
            status,
            action=action.type,
            rule_ids=[hit.rule_id for hit in hits],
            reasons=[hit.reason for hit in hits],
            repair=repair.model_dump(mode="json") if repair else None,
        ),
    )
