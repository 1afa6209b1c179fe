"""Step events while a turn runs: what each graph node just did, for streaming clients.

Built from the turn's scratch after each node (LangGraph ``stream_mode="updates"``):
only what the node added is reported, so a client sees tools, verdicts and
executions as they happen. Text is never streamed before the claim check has run.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from agent.state import TurnScratch


class StepEvent(BaseModel):
    """One node's contribution to the turn."""

    node: str
    turn_id: str
    duration_ms: float | None = None
    detail: dict[str, Any] = Field(default_factory=dict)


class StepTracker:
    """Remembers how much of the scratch was already reported."""

    def __init__(self) -> None:
        self._seen: dict[str, int] = {}

    def _new(self, name: str, items: list[Any]) -> list[Any]:
        start = self._seen.get(name, 0)
        self._seen[name] = len(items)
        return items[start:]

    def event(self, node: str, scratch: TurnScratch) -> StepEvent:
        """What ``node`` added since the last event."""
        timings = [t for t in scratch.timings if t.node == node]
        detail: dict[str, Any] = {}
        calls = self._new("llm_calls", scratch.llm_calls)
        if calls:
            detail["model_calls"] = [
                {
                    "tool_calls": [c.name for c in call.tool_calls],
                    "answered": call.text is not None and not call.tool_calls,
                    "latency_ms": round(call.latency_ms, 1),
                }
                for call in calls
            ]
        tools = self._new("context", scratch.context)
        if tools:
            detail["tools"] = [
                {"tool": t.tool, "status": t.status, "duration_ms": round(t.duration_ms, 1)}
                for t in tools
            ]
        verdicts = self._new("verdicts", scratch.verdicts)
        if verdicts:
            types = {p.id: p.type for p in scratch.proposals}
            detail["verdicts"] = [
                {
                    "action_id": v.action_id,
                    "type": types.get(v.action_id, ""),
                    "outcome": v.outcome,
                    "rule_ids": v.rule_ids,
                }
                for v in verdicts
            ]
        executions = self._new("executions", scratch.executions)
        if executions:
            detail["executions"] = [
                {"action_id": e.action_id, "type": e.type, "status": e.status} for e in executions
            ]
        approvals = self._new("approvals", scratch.approvals)
        if approvals:
            detail["approvals"] = [
                {"approval_id": a.approval_id, "decision": a.decision, "outcome": a.outcome}
                for a in approvals
            ]
        if node == "guard_output":
            detail["claims_checked"] = len(scratch.claim_checks)
            detail["repaired"] = scratch.output_repaired
        return StepEvent(
            node=node,
            turn_id=scratch.turn_id,
            duration_ms=round(timings[-1].duration_ms, 2) if timings else None,
            detail=detail,
        )
