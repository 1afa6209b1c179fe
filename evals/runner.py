"""Run scenarios against the real agent over a fresh sandbox per trial.

The sandbox is seeded once per run at a fixed clock; every trial copies that database
into its own data directory (``evals.workspace``), so trials never see each other's
carts, refunds or faults and run concurrently (bounded by a semaphore per process;
``workers`` above 1 spreads them over processes, ``evals.parallel``). A trial opens
an ``Arbiter`` over its copy (in-process sandbox), applies the scenario's setup
through the admin API, plays the conversation in one session — the scenario's turns,
or its persona's replies (``evals.user``) — then judges the DecisionRecords and the
sandbox end state read back through the HTTP API (``evals.judge``). A turn paused for
approval is decided as the turn says (``evals.approvals``); the resumed turn's record
is its record.

Safety is judged independently of what the agent did: every executed action is
re-decided by ``agent.replay.replay_turn`` under the suite's policy from the facts
the turn recorded; an executed action whose re-decision is not ``allow`` (or
``require_approval`` that a person approved for exactly what ran) is unsafe.
``validator_factory`` swaps the validator (tests use it to prove that metric fails).

Model outputs can be recorded per scenario (``record_dir``) and replayed
(``evals.cassettes``), so an LLM-driven run can be re-scored in CI without the
endpoint. Per-turn latency is measured inside the event loop that runs a process's
trials: with more trials at once than workers it includes waiting for the others,
so measure latency with ``concurrency`` equal to ``workers``.
"""

from __future__ import annotations

import asyncio
import shutil
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, NamedTuple

import httpx
from fastapi import FastAPI
from pydantic import BaseModel, Field

from agent.models.factory import build_model
from agent.record import DecisionRecord
from agent.runtime import Arbiter
from arbiter.errors import InputError
from arbiter.settings import Settings
from evals.approvals import ApprovalSeen, play_turn, unsafe_executions
from evals.cassettes import ModelFactory, RecordingModel, cassette_path, write_cassette
from evals.cassettes import cassette_model as cassette_model
from evals.judge import judge
from evals.scenario import Scenario, Setup, Suite, Turn
from evals.turn_summary import TurnSummary, summarize
from evals.user import UserModelFactory, player_for
from evals.workspace import SandboxSlots, Workspace, workspace
from guardrails.kill_switch import KillSwitch
from guardrails.policy import DEFAULT_POLICY_PATH, LoadedPolicy, load_policy
from guardrails.validator import Validator
from tools.client import IN_PROCESS_BASE_URL
from tools.registry import ACTION_TOOLS

SANDBOX_CLOCK = "2026-11-24T10:30:00-06:00"
"""The sandbox's "now" for every run (10:30 in Chicago), as in the tests."""

ValidatorFactory = Callable[[Validator], Validator]


class TurnOutcome(BaseModel):
    """One message and what came of it."""

    message: str
    text: str = Field(description="The answer; while paused, what the turn waits for.")
    latency_ms: float
    turn_id: str | None = None
    status: Literal["answered", "pending_approval"] = Field(
        default="answered", description="pending_approval: left waiting for a person."
    )
    approvals: list[ApprovalSeen] = Field(default_factory=list, description="Approvals asked.")
    waiting: list[str] = Field(default_factory=list, description="Each text shown while paused.")
    rejected: str | None = Field(default=None, description="Why the input was refused.")
    error: str | None = None
    decisions: list[str] = Field(
        default_factory=list, description="Each verdict and execution, one line each."
    )
    input_tokens: int = 0
    output_tokens: int = 0
    record: TurnSummary | None = Field(
        default=None, description="The decision record's essentials (None: no record)."
    )


class TrialResult(BaseModel):
    """One run of one scenario."""

    suite: str
    scenario_id: str
    tags: list[str]
    trial: int
    passed: bool
    failures: list[str] = Field(description="Every expectation that did not hold.")
    turns: list[TurnOutcome]
    unsafe: list[str] = Field(description="Executed actions the policy would not allow.")
    guardrail_catches: int = Field(description="Expected denials that happened.")
    false_blocks: int = Field(description="Expected executions that were denied instead.")
    tools_tp: int
    tools_fp: int
    tools_fn: int
    cart: list[dict[str, Any]] = Field(default_factory=list, description="Cart lines at the end.")
    pending_approvals: list[str] = Field(default_factory=list, description="Left undecided.")
    duration_ms: float
    model: str | None = Field(default=None, description="The agent's model (prices are by name).")
    user: str = Field(
        default="turns", description="Who wrote the messages: turns, scripted or llm:<model>."
    )
    user_stop: str | None = Field(default=None, description="Why a persona user stopped.")
    user_input_tokens: int = Field(default=0, description="The LLM user's input tokens.")
    user_output_tokens: int = Field(default=0, description="The LLM user's output tokens.")


@dataclass
class RunConfig:
    """How a run is done."""

    trials: int = 1
    concurrency: int = 4
    """Trials at once, over all workers."""
    workers: int = 1
    """Processes the trials run in (1: this one); above 1 the factories must pickle."""
    model_factory: ModelFactory | None = None
    user_model: UserModelFactory | None = None
    """The LLM that plays persona users (None: their scripted replies)."""
    validator_factory: ValidatorFactory | None = None
    on_trial_done: Callable[[TrialResult], None] | None = None
    work_dir: Path | None = None
    """Scratch space for the trials (default: tmpfs when there is one)."""
    record_dir: Path | None = None
    """Write each scenario's model outputs (first trial) here, as a cassette for replay."""
    seeded_db: Path | None = None
    """A sandbox database already seeded at ``SANDBOX_CLOCK`` (else one is seeded)."""
    policies: dict[Path | None, LoadedPolicy] = field(default_factory=dict)
    enforce_policy: Path | None = None
    """Enforce this policy instead of each suite's; the suite's still judges what is unsafe."""


class Job(NamedTuple):
    """One trial of one scenario, by position in the run."""

    number: int
    suite: int
    scenario: int
    trial: int


async def run_suites(suites: list[Suite], config: RunConfig) -> list[TrialResult]:
    """Every scenario of every suite, ``config.trials`` times each, in order."""
    where = [
        (s, c, t)
        for s, suite in enumerate(suites)
        for c in range(len(suite.scenarios))
        for t in range(config.trials)
    ]
    jobs = [Job(index, *at) for index, at in enumerate(where)]
    with workspace(config.seeded_db, config.work_dir, SANDBOX_CLOCK) as ws:
        if config.workers > 1:
            from evals.parallel import run_in_processes

            return await run_in_processes(suites, jobs, ws, config)
        return await run_jobs(suites, jobs, ws, config, SandboxSlots(SANDBOX_CLOCK))


async def run_jobs(
    suites: list[Suite],
    jobs: list[Job],
    ws: Workspace,
    config: RunConfig,
    slots: SandboxSlots,
) -> list[TrialResult]:
    """Run ``jobs`` in this event loop, ``config.concurrency`` at once; results in order."""
    gate = asyncio.Semaphore(max(1, config.concurrency))

    async def one(job: Job) -> TrialResult:
        suite = suites[job.suite]
        scenario = suite.scenarios[job.scenario]
        async with gate:
            data_dir = ws.trial_dir(f"{job.number}.{suite.name}.{scenario.id}.{job.trial}")
            try:
                async with slots.app_for(data_dir / "sandbox.sqlite") as app:
                    result = await run_trial(suite, scenario, job.trial, data_dir, config, app)
            except Exception as exc:  # one broken trial is a failed trial, not a lost run
                result = crashed(suite, scenario, job.trial, exc)
            await asyncio.to_thread(shutil.rmtree, data_dir, ignore_errors=True)
        if config.on_trial_done is not None:
            config.on_trial_done(result)
        return result

    return list(await asyncio.gather(*(one(job) for job in jobs)))


def crashed(suite: Suite, scenario: Scenario, trial: int, exc: Exception) -> TrialResult:
    """The result of a trial that raised: failed, with the error as its one failure."""
    return TrialResult(
        suite=suite.name,
        scenario_id=scenario.id,
        tags=scenario.tags,
        trial=trial,
        passed=False,
        failures=[f"trial error: {type(exc).__name__}: {exc}"],
        turns=[],
        unsafe=[],
        guardrail_catches=0,
        false_blocks=0,
        tools_tp=0,
        tools_fp=0,
        tools_fn=len(scenario.expect.tools_called),
        duration_ms=0.0,
    )


def enforced_policy(config: RunConfig) -> LoadedPolicy | None:
    """The policy ``--enforce-policy`` names (loaded once per run and process), or None."""
    path = config.enforce_policy
    if path is None:
        return None
    key = Path(f"enforce:{path}")
    if key not in config.policies:
        config.policies[key] = load_policy(path, known_actions={t.name for t in ACTION_TOOLS})
    return config.policies[key]


def suite_policy(suite: Suite, config: RunConfig) -> LoadedPolicy:
    """The policy a suite runs and is judged under (loaded once per run and process)."""
    if suite.policy not in config.policies:
        known = {t.name for t in ACTION_TOOLS}
        config.policies[suite.policy] = load_policy(
            suite.policy or DEFAULT_POLICY_PATH, known_actions=known
        )
    return config.policies[suite.policy]


async def run_trial(
    suite: Suite,
    scenario: Scenario,
    trial: int,
    data_dir: Path,
    config: RunConfig,
    app: FastAPI | None = None,
) -> TrialResult:
    """Play one scenario over the sandbox copy in ``data_dir`` and judge it.

    ``app`` is a sandbox app already serving that copy (else one is built).
    """
    if app is None:
        from sandbox.app import create_app

        app = create_app(data_dir / "sandbox.sqlite", clock=SANDBOX_CLOCK)
    policy = suite_policy(suite, config)
    enforced = enforced_policy(config) or policy
    model = config.model_factory(suite, scenario) if config.model_factory else None
    settings = Settings(data_dir=data_dir, planner="offline", database_url=None, sandbox_url=None)
    recorder = None
    if config.record_dir is not None and trial == 0:
        model = recorder = RecordingModel(model or build_model(settings))
    player = player_for(suite, scenario, config.user_model)
    # Arbiter.open owns and closes this client
    http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=IN_PROCESS_BASE_URL)
    started = time.perf_counter()
    played: list[Turn] = []
    turns: list[TurnOutcome] = []
    records: list[DecisionRecord] = []
    async with Arbiter.open(settings, model=model, http=http, policy=enforced) as arbiter:
        switches = arbiter.deps.validator.kill_switch  # the trial's own guard store

        async def prepare(setup: Setup) -> None:
            await apply_setup(arbiter.client.http, setup, switches)

        if config.validator_factory is not None:
            arbiter.deps.validator = config.validator_factory(arbiter.deps.validator)
        await prepare(scenario.setup)
        session = await arbiter.start_session(scenario.customer, channel=scenario.channel)
        while (turn := await player.next_turn(turns[-1] if turns else None)) is not None:
            if turn.before is not None:
                await prepare(turn.before)
            outcome, record = await _ask(arbiter, session.session_id, turn, prepare)
            played.append(turn)
            turns.append(outcome)
            if record is not None:
                records.append(record)
        await arbiter.client.http.delete("/admin/faults")  # read the end state unfaulted
        cart = await read_cart(arbiter.client.http, scenario.customer)
        model_name = arbiter.deps.model.model_name
    if config.record_dir is not None and recorder is not None:
        write_cassette(cassette_path(config.record_dir, suite, scenario), recorder)
    unsafe = [msg for record in records for msg in await unsafe_executions(record, policy)]
    judged = judge(scenario, played, turns, records, cart)
    failures = judged.failures + [f"unsafe execution: {u}" for u in unsafe]
    return TrialResult(
        suite=suite.name,
        scenario_id=scenario.id,
        tags=scenario.tags,
        trial=trial,
        passed=not failures,
        failures=failures,
        turns=turns,
        unsafe=unsafe,
        guardrail_catches=judged.catches,
        false_blocks=judged.false_blocks,
        tools_tp=judged.tp,
        tools_fp=judged.fp,
        tools_fn=judged.fn,
        cart=cart,
        pending_approvals=[a.line for t in turns for a in t.approvals if a.outcome == "pending"],
        duration_ms=(time.perf_counter() - started) * 1000,
        model=model_name,
        user=player.kind,
        user_stop=player.stop_reason,
        user_input_tokens=player.usage.input_tokens,
        user_output_tokens=player.usage.output_tokens,
    )


def _shown(message: str, limit: int = 300) -> str:
    """The message as reports keep it (long red-team inputs are cut)."""
    return message if len(message) <= limit else f"{message[:limit]}… ({len(message)} chars)"


async def _ask(
    arbiter: Arbiter,
    session_id: str,
    turn: Turn,
    prepare: Callable[[Setup], Awaitable[None]],
) -> tuple[TurnOutcome, DecisionRecord | None]:
    """One turn, its approvals decided as the scenario says; the record it ended with."""
    played = await play_turn(arbiter, session_id, turn, prepare)
    result, asked = played.result, [a.line for a in played.approvals]
    outcome = TurnOutcome(
        message=_shown(turn.message),
        text=result.text if result else "",
        latency_ms=played.latency_ms,
        turn_id=result.turn_id if result else None,
        status=result.status if result else "answered",
        approvals=played.approvals,
        waiting=played.waiting,
        rejected=played.refused,
        error=played.busy,
        decisions=asked,
    )
    record = result.recorded if result else None
    if record is None:
        return outcome, None
    usage = record.token_usage
    outcome.error = record.error
    outcome.decisions = _decisions(record) + asked
    outcome.input_tokens, outcome.output_tokens = usage.input_tokens, usage.output_tokens
    outcome.record = summarize(record)
    return outcome, record


def _decisions(record: DecisionRecord) -> list[str]:
    kinds = {p.id: p.type for p in record.proposals}
    lines = [
        f"{kinds.get(v.action_id, '?')}: {v.outcome} {' '.join(v.rule_ids)}".rstrip()
        for v in record.verdicts
    ]
    return lines + [f"{e.type}: {e.status} {e.params}" for e in record.executions]


async def apply_setup(
    http: httpx.AsyncClient, setup: Setup, switches: KillSwitch | None = None
) -> None:
    """Apply sandbox changes through the admin API, then kill switches; a refusal fails loudly."""
    calls: list[tuple[str, str, dict[str, Any]]] = []
    if setup.clear_faults:
        calls.append(("DELETE", "/admin/faults", {}))
    calls += [("PUT", "/admin/stock", s.model_dump()) for s in setup.stock]
    for price in setup.prices:
        body = price.model_dump(exclude={"sku"}, exclude_none=True)
        calls.append(("PUT", f"/admin/prices/{price.sku}", body))
    calls += [
        ("POST", "/admin/competitor-prices", c.model_dump(exclude_none=True))
        for c in setup.competitor_prices
    ]
    calls += [
        ("PUT", f"/admin/faults/{f.service}", f.model_dump(exclude={"service"}))
        for f in setup.faults
    ]
    for method, path, body in calls:
        response = await http.request(method, path, json=body or None)
        if response.status_code >= 400:
            raise InputError(f"setup {method} {path} failed: {response.text[:200]}")
    if setup.kill_switch:
        if switches is None:
            raise InputError("setup kill_switch needs the trial's kill switch store")
        for switch in setup.kill_switch:
            switches.set(switch.scope, switch.reason, "eval:setup")


async def read_cart(http: httpx.AsyncClient, customer_id: str) -> list[dict[str, Any]]:
    """The customer's open cart lines, from the carts service ([] when there is none)."""
    response = await http.get("/carts", params={"customer_id": customer_id})
    if response.status_code == 404:
        return []
    response.raise_for_status()
    return list(response.json().get("lines", []))
