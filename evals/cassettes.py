"""Cassettes: a scenario's model outputs, recorded once and replayed without the endpoint.

``RecordingModel`` wraps the trial's model and keeps every output in order;
``write_cassette`` stores them as ``<root>/<suite>/<scenario id>.json``, and
``cassette_model(root)`` builds, per trial, a ``ScriptedChatModel`` that replays them,
so an LLM-driven run can be re-scored in CI. The factory is a plain value, so it
travels to worker processes (``evals.parallel``). A persona played by an LLM user is
not recorded: a replay plays that persona's scripted replies.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel

from agent.models.base import ChatModel, ModelKind, ModelRequest, ModelResponse
from agent.models.scripted import ScriptedChatModel
from arbiter.errors import InputError
from evals.scenario import Scenario, Suite

ModelFactory = Callable[[Suite, Scenario], ChatModel]
"""Builds the reasoning component for one trial (None in the config: the offline planner)."""


class Cassette(BaseModel):
    """Every model output of one scenario's turns, in order: replays the run exactly."""

    model: str
    responses: list[ModelResponse]


def cassette_path(root: Path, suite: Suite, scenario: Scenario) -> Path:
    """``<root>/<suite>/<scenario id>.json``."""
    return root / suite.name / f"{scenario.id}.json"


class RecordingModel:
    """The trial's model, keeping every output in order (a paused turn has no record)."""

    def __init__(self, inner: ChatModel) -> None:
        self.inner = inner
        self.responses: list[ModelResponse] = []

    @property
    def kind(self) -> ModelKind:
        """The wrapped model's kind."""
        return self.inner.kind

    @property
    def model_name(self) -> str:
        """The wrapped model's name."""
        return self.inner.model_name

    async def complete(self, request: ModelRequest) -> ModelResponse:
        """The wrapped model's output, kept (without the raw body)."""
        response = await self.inner.complete(request)
        self.responses.append(response.model_copy(update={"raw": {}}))
        return response


def write_cassette(path: Path, model: RecordingModel) -> None:
    """Store every output the model gave, in order."""
    cassette = Cassette(model=model.model_name, responses=model.responses)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(cassette.model_dump_json(indent=1), encoding="utf-8")


@dataclass(frozen=True)
class CassetteModels:
    """A model factory that replays each scenario's cassette from ``root``."""

    root: Path

    def __call__(self, suite: Suite, scenario: Scenario) -> ChatModel:
        """A scripted model replaying the scenario's recorded outputs."""
        path = cassette_path(self.root, suite, scenario)
        try:
            cassette = Cassette.model_validate_json(path.read_text(encoding="utf-8"))
        except OSError:
            raise InputError(f"no cassette for {suite.name}/{scenario.id} at {path}") from None
        return ScriptedChatModel(cassette.responses, name=cassette.model)


def cassette_model(root: Path) -> ModelFactory:
    """A model factory that replays each scenario's cassette from ``root``."""
    return CassetteModels(root)
