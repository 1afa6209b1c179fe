"""What running a turn gives back: the answer and its record, or what it waits for."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal

from agent.approvals import ApprovalRequest
from agent.progress import StepEvent
from agent.record import DecisionRecord
from arbiter.errors import TurnPausedError

OnStep = Callable[[StepEvent], Awaitable[None]]
"""Called after each graph node of a turn (streaming)."""


@dataclass(frozen=True)
class TurnResult:
    """The answer and the record of how it was reached, or what the turn waits for."""

    text: str
    turn_id: str
    session_id: str
    recorded: DecisionRecord | None
    pending: tuple[ApprovalRequest, ...] = ()

    @property
    def status(self) -> Literal["answered", "pending_approval"]:
        """``pending_approval`` while the turn is paused for a person."""
        return "pending_approval" if self.recorded is None else "answered"

    @property
    def record(self) -> DecisionRecord:
        """The turn's DecisionRecord (a paused turn has none yet)."""
        if self.recorded is None:
            raise TurnPausedError(f"turn {self.turn_id} is waiting for approval")
        return self.recorded
