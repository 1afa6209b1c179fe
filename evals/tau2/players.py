"""Who plays a task: the agent's model, the simulated user, and the turn's bounds.

- gold mode: the agent is a ``ScriptedChatModel`` that emits the task's gold calls
  (reads and writes, one per model step, in order) and then answers with the task's
  required outputs; the user says the request once and stops. No key, no network.
  Gold calls to tools Arbiter's retail toolset does not have (calculate,
  list_all_product_types, get_item_details, transfer_to_human_agents) change no
  state and are left out.
- LLM mode: the agent is the openai planner from the settings; the user is another
  OpenAI-compatible model (``user_model``, optionally at its own base URL) prompted
  with the task's scenario.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from agent.deps import TurnLimits
from agent.models.base import ChatModel, ModelParams
from agent.models.scripted import ScriptedChatModel, answer, step, tool_call
from arbiter.settings import Settings
from evals.tau2.tasks import Tau2Task
from evals.tau2.user import STOP, SimulatedUser

USER_PARAMS = ModelParams(temperature=1.0, max_tokens=400)
"""The simulated user samples (tau-bench leaves the user model at its default temperature)."""


@dataclass
class Player:
    """Everything one episode needs besides the databases."""

    agent: ChatModel
    """The agent's reasoning component (the planner)."""
    user: SimulatedUser
    """The simulated user of this episode (it keeps the conversation)."""
    limits: TurnLimits
    """Bounds of each agent turn."""
    params: ModelParams
    """Sampling parameters of the agent's calls."""


PlayerFactory = Callable[[Tau2Task, int], Player]
"""Builds the players of one trial of one task."""


def gold_answer(task: Tau2Task) -> str:
    """The gold agent's closing message: the required outputs, said plainly."""
    if not task.outputs:
        return "That is everything for your request."
    return "Here is what you asked about: " + "; ".join(task.outputs) + "."


def gold_agent(task: Tau2Task) -> ScriptedChatModel:
    """A scripted model that emits the task's gold calls in order, then answers."""
    calls = [c for c in task.actions if c.is_known]
    steps = [step(tool_call(c.name, **c.arguments)) for c in calls]
    return ScriptedChatModel([*steps, answer(gold_answer(task))], name="gold")


def gold_player(task: Tau2Task, trial: int) -> Player:
    """Gold mode: one user turn in which the agent replays every gold call."""
    calls = sum(1 for c in task.actions if c.is_known)
    opening = ScriptedChatModel([answer(task.scenario.instruction), answer(STOP)], name="gold-user")
    return Player(
        agent=gold_agent(task),
        user=SimulatedUser(opening, task.scenario),
        # room for every call plus the answer; every write may be denied and re-planned
        limits=TurnLimits(max_plan_steps=calls + 2, max_revisions=len(task.writes) + 1),
        params=ModelParams(),
    )


def chat_players(
    agent: ChatModel,
    user: ChatModel,
    *,
    limits: TurnLimits,
    params: ModelParams,
    user_params: ModelParams = USER_PARAMS,
) -> PlayerFactory:
    """Any agent model against any user model (both shared by every trial)."""

    def build(task: Tau2Task, trial: int) -> Player:
        # a distinct, reproducible seed per trial: trials are repeated attempts, not copies
        seed = None if params.seed is None else params.seed + trial
        return Player(
            agent=agent,
            user=SimulatedUser(user, task.scenario, user_params),
            limits=limits,
            params=params.model_copy(update={"seed": seed}),
        )

    return build


def llm_players(
    settings: Settings, *, user_model: str, user_base_url: str | None = None
) -> PlayerFactory:
    """LLM mode: the configured openai planner against a simulated user model."""
    from agent.models.factory import build_model  # the SDK import costs ~0.3 s

    user_settings = settings.model_copy(
        update={
            "planner": "openai",
            "model": user_model,
            "openai_base_url": user_base_url or settings.openai_base_url,
        }
    )
    return chat_players(
        build_model(settings.model_copy(update={"planner": "openai"})),
        build_model(user_settings),
        limits=TurnLimits(
            max_plan_steps=settings.max_plan_steps, max_revisions=settings.max_revisions
        ),
        params=ModelParams(
            temperature=settings.temperature, max_tokens=settings.max_tokens, seed=settings.seed
        ),
    )
