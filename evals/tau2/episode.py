"""One episode: the simulated user and the agent take turns over a fresh database.

The agent opens with a fixed greeting (shown to the user only); then the user speaks,
the agent answers through the real turn graph, and so on until the user writes the
stop token or ``max_turns`` user messages have been sent. The reward is tau-bench's,
scored by end state, not wording: 1 when the database ends in the expected state
*and* every required output appears in something the agent said (case-insensitive,
commas ignored), else 0.
"""

from __future__ import annotations

import time

from pydantic import BaseModel, Field

from agent.record import DecisionRecord
from evals.tau2.agent import open_retail_agent
from evals.tau2.env import RetailEnv, discard, fresh_db
from evals.tau2.players import Player
from evals.tau2.reference import ExpectedState, state_hash
from evals.tau2.tasks import Tau2Task
from evals.tau2.user import GREETING, is_stop

MAX_TURNS = 30
"""User messages per episode before it is cut off."""


class Utterance(BaseModel):
    """One message of the conversation."""

    role: str = Field(description="``user`` or ``agent``.")
    text: str = Field(description="What was said (the agent's text after the claim check).")


class EpisodeResult(BaseModel):
    """One trial of one task, and how it was scored."""

    task_id: str = Field(description="The task played.")
    trial: int = Field(description="Which trial of it (0-based).")
    success: bool = Field(description="Reward 1: expected end state and every required output.")
    state_matches: bool = Field(description="The database ended in the expected state.")
    outputs_missing: list[str] = Field(
        default_factory=list, description="Required outputs the agent never said."
    )
    expected_hash: str = Field(description="Hash of the expected end state.")
    actual_hash: str | None = Field(default=None, description="Hash of the episode's end state.")
    user_stopped: bool = Field(default=False, description="The user ended it (not the cap).")
    turns: int = Field(default=0, description="Agent turns run.")
    executed: list[str] = Field(default_factory=list, description="Actions that ran.")
    denied: list[str] = Field(default_factory=list, description="Proposals the policy refused.")
    transcript: list[Utterance] = Field(default_factory=list, description="The conversation.")
    agent_tokens: int = Field(default=0, description="Agent tokens in and out, as reported.")
    user_tokens: int = Field(default=0, description="Simulated user tokens in and out.")
    error: str | None = Field(default=None, description="Why the episode broke off, if it did.")
    duration_s: float = Field(default=0.0, description="Wall time of the episode.")


def normalized(text: str) -> str:
    """How outputs are compared: lower case, no commas (``1,093.34`` says ``1093.34``)."""
    return text.lower().replace(",", "")


def missing_outputs(required: list[str], said: list[str]) -> list[str]:
    """The required outputs that appear in none of the agent's messages."""
    spoken = [normalized(text) for text in said]
    return [out for out in required if not any(normalized(out) in text for text in spoken)]


def _decisions(records: list[DecisionRecord]) -> tuple[list[str], list[str]]:
    executed = [
        f"{e.type} {e.params.get('order_id') or e.params.get('user_id') or ''}".rstrip()
        for r in records
        for e in r.executions
        if e.status == "executed"
    ]
    kinds = {(r.turn_id, p.id): p.type for r in records for p in r.proposals}
    denied = [
        f"{kinds.get((r.turn_id, v.action_id), '?')} ({', '.join(v.rule_ids)})"
        for r in records
        for v in r.verdicts
        if v.outcome != "allow"
    ]
    return executed, denied


async def run_episode(
    env: RetailEnv,
    task: Tau2Task,
    expected: ExpectedState,
    player: Player,
    *,
    trial: int = 0,
    max_turns: int = MAX_TURNS,
) -> EpisodeResult:
    """Play one conversation and score it; an exception becomes a failed, explained result."""
    started = time.perf_counter()
    result = EpisodeResult(
        task_id=task.task_id,
        trial=trial,
        success=False,
        state_matches=False,
        expected_hash=expected.state_hash,
    )
    records: list[DecisionRecord] = []
    db = fresh_db(env, f"episode-{task.ref.replace(':', '-')}-{trial}")
    try:
        async with open_retail_agent(
            env,
            db,
            user_id=expected.user_id,
            model=player.agent,
            limits=player.limits,
            params=player.params,
        ) as agent:
            agent_text = GREETING
            for _ in range(max_turns):
                user_text = await player.user.reply(agent_text)
                result.transcript.append(Utterance(role="user", text=user_text))
                if is_stop(user_text):
                    result.user_stopped = True
                    break
                record = await agent.ask(user_text)
                records.append(record)
                agent_text = record.final_text
                result.transcript.append(Utterance(role="agent", text=agent_text))
                if record.error:
                    result.error = f"agent turn failed: {record.error}"
                    break
    except Exception as exc:  # one broken episode is a failed trial, not a lost run
        result.error = f"{type(exc).__name__}: {exc}"
    result.turns = len(records)
    result.executed, result.denied = _decisions(records)
    result.agent_tokens = sum(
        r.token_usage.input_tokens + r.token_usage.output_tokens for r in records
    )
    result.user_tokens = player.user.usage.input_tokens + player.user.usage.output_tokens
    result.actual_hash = state_hash(db)
    discard(db)
    result.state_matches = result.actual_hash == expected.state_hash
    said = [u.text for u in result.transcript if u.role == "agent"]
    result.outputs_missing = missing_outputs(task.outputs, said)
    result.success = result.error is None and result.state_matches and not result.outputs_missing
    result.duration_s = time.perf_counter() - started
    return result
