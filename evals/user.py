"""The user side of a scenario: its scripted turns, or a user playing a persona.

A trial asks its ``Player`` for the next message after each answer, until the player
has nothing more to say:

- ``FixedTurns``: the scenario's ``turns``, in order, whatever the agent answered;
- ``ScriptedUser``: a persona (``user:``) answering offline, deterministically. After
  the opening it says the first reply whose ``when`` pattern is found in the agent's
  last answer (each reply once unless ``repeat``), else ``otherwise``; it stops when
  nothing matches and there is no ``otherwise``, or after ``max_turns`` messages;
- ``LLMUser``: the same persona played by a chat model, prompted with the persona and
  the goal through the tau2 suite's ``SimulatedUser`` (the same ``###STOP###``
  convention). It opens with the scripted opening, so the first turn is the same in
  both modes, and decides approvals as ``user.decide`` says.

Expectations never depend on who played the user.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from agent.models.base import ChatModel, ModelParams, TokenUsage
from arbiter.settings import Settings
from evals.scenario import Scenario, Suite, Turn, UserSpec
from evals.tau2.tasks import UserScenario
from evals.tau2.user import SimulatedUser, is_stop

if TYPE_CHECKING:
    from evals.runner import TurnOutcome

ROLES = {
    "shopper": "You are role-playing a shopper chatting with an online store's shopping assistant.",
    "copilot": "You are role-playing a customer-support agent of an online retailer who asks"
    " an AI copilot to handle a customer's case.",
}
"""Who the LLM user plays, by channel (the copilot's user is the retailer's own agent)."""

USER_PARAMS = ModelParams(temperature=0.0, max_tokens=300)
"""The LLM user's sampling: greedy, so that reruns differ as little as the endpoint allows."""

UserModelFactory = Callable[[Suite, Scenario], ChatModel]
"""Builds the LLM user's model for one trial of a persona scenario."""


class Player(Protocol):
    """Whoever writes the user's messages in one trial."""

    @property
    def kind(self) -> str:
        """``turns``, ``scripted`` or ``llm:<model>`` (kept with the trial)."""
        ...

    @property
    def stop_reason(self) -> str | None:
        """Why the conversation ended before the scenario ran out of messages."""
        ...

    @property
    def usage(self) -> TokenUsage:
        """Tokens the player's own model used (zero unless an LLM plays the user)."""
        ...

    async def next_turn(self, last: TurnOutcome | None) -> Turn | None:
        """The next message after ``last`` (None: first message), or None to stop."""
        ...


@dataclass
class FixedTurns:
    """The scenario's scripted turns, in order."""

    turns: list[Turn]
    kind: str = "turns"
    stop_reason: str | None = None
    usage: TokenUsage = field(default_factory=TokenUsage)
    sent: int = 0

    async def next_turn(self, last: TurnOutcome | None) -> Turn | None:
        """The next scripted turn, if any is left."""
        if self.sent >= len(self.turns):
            return None
        self.sent += 1
        return self.turns[self.sent - 1]


@dataclass
class ScriptedUser:
    """A persona answering from its scripted replies."""

    spec: UserSpec
    kind: str = "scripted"
    stop_reason: str | None = None
    usage: TokenUsage = field(default_factory=TokenUsage)
    sent: int = 0
    used: set[int] = field(default_factory=set)

    async def next_turn(self, last: TurnOutcome | None) -> Turn | None:
        """The opening, then the first unused reply matching the last answer."""
        turn = self._next(last)
        if turn is not None:
            self.sent += 1
        return turn

    def _next(self, last: TurnOutcome | None) -> Turn | None:
        if last is None:
            return self.spec.opening
        if self.sent >= self.spec.max_turns:
            self.stop_reason = f"max_turns ({self.spec.max_turns}) reached"
            return None
        for index, reply in enumerate(self.spec.replies):
            if (reply.repeat or index not in self.used) and reply.matches(last.text):
                self.used.add(index)
                return reply.turn
        if self.spec.otherwise is None:
            self.stop_reason = "no reply matched the answer"
            return None
        return Turn(say=self.spec.otherwise)


class LLMUser:
    """The persona played by a chat model."""

    def __init__(self, spec: UserSpec, channel: str, model: ChatModel) -> None:
        self.spec = spec
        self.kind = f"llm:{model.model_name}"
        self.stop_reason: str | None = None
        self.sent = 0
        self.user = SimulatedUser(
            model,
            UserScenario(instruction=spec.goal, persona=spec.persona),
            USER_PARAMS,
            role=ROLES.get(channel, ROLES["shopper"]),
        )

    @property
    def usage(self) -> TokenUsage:
        """Tokens the user's model reported."""
        return self.user.usage

    async def next_turn(self, last: TurnOutcome | None) -> Turn | None:
        """The opening, then whatever the model answers, until it says STOP."""
        if last is None:
            self.user.said(self.spec.opening.message)
            self.sent = 1
            return self.spec.opening
        if self.sent >= self.spec.max_turns:
            self.stop_reason = f"max_turns ({self.spec.max_turns}) reached"
            return None
        text = await self.user.reply(last.text)
        if is_stop(text):
            self.stop_reason = "the user ended the conversation"
            return None
        self.sent += 1
        return Turn(say=text, decide=self.spec.decide)


def player_for(
    suite: Suite, scenario: Scenario, user_model: UserModelFactory | None = None
) -> Player:
    """Who writes this trial's messages: its turns, or its persona (an LLM when given)."""
    if scenario.user is None:
        return FixedTurns(list(scenario.turns or []))
    if user_model is None:
        return ScriptedUser(scenario.user)
    return LLMUser(scenario.user, scenario.channel, user_model(suite, scenario))


@dataclass(frozen=True)
class SettingsModel:
    """A picklable model factory: ``agent.models.factory.build_model`` over fixed settings.

    Used for the agent's openai planner and the LLM user alike; being a plain value, it
    travels to worker processes (``evals.parallel``).
    """

    settings: Settings

    def __call__(self, suite: Suite, scenario: Scenario) -> ChatModel:
        """A fresh model client for one trial."""
        from agent.models.factory import build_model  # the SDK import costs ~0.3 s

        return build_model(self.settings)


def user_settings(settings: Settings, model: str | None, base_url: str | None) -> Settings:
    """Settings for the LLM user: the openai planner with the user's model and endpoint."""
    return settings.model_copy(
        update={
            "planner": "openai",
            "model": model or settings.model,
            "openai_base_url": base_url or settings.openai_base_url,
        }
    )
