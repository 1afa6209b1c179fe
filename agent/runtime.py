"""The Arbiter runtime: opens the stores, the capability client and the graph; runs turns.

    async with Arbiter.open(Settings()) as arbiter:
        session = await arbiter.start_session("C1001")
        result = await arbiter.ask(session.session_id, "running shoes size 10 under $120")

Everything embedded lives under the data directory: the sandbox database (when the
capability services run in-process), checkpoints, the budget ledger, sessions and
the audit store.
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
import weakref
from collections.abc import AsyncIterator
from contextlib import ExitStack, asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from langchain_core.runnables import RunnableConfig
from langgraph.types import Command, Interrupt
from opentelemetry.trace import TracerProvider

from agent import telemetry
from agent.approval_flow import ApprovalFlow
from agent.approval_store import ApprovalStore
from agent.approvals import ApprovalDecision, ApprovalRequest, waiting_text
from agent.audit_store import AuditLog, AuditStore
from agent.checkpoints import open_checkpointer
from agent.deps import TurnContext, TurnDeps, TurnLimits
from agent.graph import TurnGraph, build_graph
from agent.models.base import ChatModel, ModelParams, SupportsClose
from agent.models.factory import build_model
from agent.progress import StepTracker
from agent.record import CustomerContext, Principal
from agent.results import OnStep, TurnResult
from agent.sessions import Session, SessionStore
from agent.state import TurnScratch
from arbiter.errors import (
    CapabilityError,
    ConflictError,
    InputError,
    UnknownCustomerError,
)
from arbiter.settings import Settings
from arbiter.tables import PostgresTables, SqliteTables
from guardrails.ledger.stores import GuardStores
from guardrails.policy import DEFAULT_POLICY_PATH, LoadedPolicy, load_policy
from guardrails.policy_archive import PolicyArchive
from guardrails.policy_store import PolicyStore
from guardrails.validator import Validator
from tools.client import IN_PROCESS_BASE_URL, CapabilityClient, RetryPolicy
from tools.facts import read_customer
from tools.registry import ACTION_TOOLS
from tools.spec import Channel, ToolContext

CUSTOMER_TTL_S = 30.0
"""How long a process reuses a customer's region, postcode and tier between turns."""


def capability_http(settings: Settings) -> httpx.AsyncClient:
    """HTTP client for the capability services: a real URL, or the sandbox in-process."""
    if settings.sandbox_url:
        return httpx.AsyncClient(base_url=settings.sandbox_url)
    from sandbox.app import create_app

    app = create_app(settings.path("sandbox.sqlite"))
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=IN_PROCESS_BASE_URL)


def open_audit(settings: Settings, pool: Any = None) -> AuditLog:
    """The audit chain: PostgreSQL when the shared stores have a pool, else SQLite.

    With ``ARBITER_DATABASE_URL`` every replica appends to the one chain in PostgreSQL.
    """
    if pool is not None:
        from agent.audit_pg import PostgresAuditStore

        return PostgresAuditStore(pool)
    return AuditStore(settings.path("audit.sqlite"))


class Arbiter(ApprovalFlow):
    """Runs shopper and copilot turns."""

    def __init__(
        self,
        *,
        settings: Settings,
        client: CapabilityClient,
        deps: TurnDeps,
        graph: TurnGraph,
        sessions: SessionStore,
        approvals: ApprovalStore,
        tracing: telemetry.Tracing | None = None,
    ) -> None:
        self.settings = settings
        self.tracing = tracing or telemetry.tracing_for(settings)
        self.client = client
        self.deps = deps
        self.graph = graph
        self.sessions = sessions
        self._customers: dict[str, tuple[float, CustomerContext]] = {}
        self.approvals = approvals
        # One lock per session with a turn in flight; it goes away with its last holder.
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()

    @classmethod
    @asynccontextmanager
    async def open(
        cls,
        settings: Settings,
        *,
        model: ChatModel | None = None,
        http: httpx.AsyncClient | None = None,
        policy: LoadedPolicy | None = None,
        tracer_provider: TracerProvider | None = None,
    ) -> AsyncIterator[Arbiter]:
        """Open every store and client; close them on exit.

        Spans go to ``tracer_provider`` when given, else to the global provider, which
        is set up from the ``OTEL_*`` variables unless the host application has one.
        """
        tracing = telemetry.tracing_for(settings, tracer_provider)
        # Ledger, kill switch, sessions, approvals, the audit chain and the policy archive:
        # PostgreSQL when ARBITER_DATABASE_URL is set (one pool), else SQLite files.
        with ExitStack() as opened:  # a policy file that does not load: nothing stays open
            guard = GuardStores.open(settings.database_url, settings.path("budget.sqlite"))
            opened.callback(guard.close)
            shared = PostgresTables(guard.pool) if guard.pool is not None else None
            archive = PolicyArchive(shared or SqliteTables(settings.path("audit.sqlite")))
            opened.callback(archive.close)
            policies = open_policies(settings, policy, archive)
            opened.pop_all()
        http = http or capability_http(settings)
        client = CapabilityClient(
            http,
            timeout_s=settings.tool_timeout_s,
            retry=RetryPolicy(max_attempts=settings.tool_max_attempts),
        )
        own_model = model is None
        deps = TurnDeps(
            model=model or build_model(settings),
            validator=Validator(policies, guard.ledger, kill_switch=guard.kill_switch),
            ledger=guard.ledger,
            audit=open_audit(settings, guard.pool),
            params=ModelParams(
                temperature=settings.temperature,
                max_tokens=settings.max_tokens,
                seed=settings.seed,
            ),
            limits=TurnLimits(
                max_plan_steps=settings.max_plan_steps, max_revisions=settings.max_revisions
            ),
            approval_ttl=timedelta(seconds=settings.approval_ttl_s),
        )
        session_tables = shared or SqliteTables(settings.path("sessions.sqlite"))
        approval_tables = shared or SqliteTables(settings.path("approvals.sqlite"))
        async with http, guard, open_checkpointer(settings) as saver:
            try:
                yield cls(
                    settings=settings,
                    client=client,
                    deps=deps,
                    graph=build_graph(deps, saver),
                    sessions=SessionStore(session_tables),
                    approvals=ApprovalStore(approval_tables),
                    tracing=tracing,
                )
            finally:
                deps.audit.close()
                session_tables.close()
                approval_tables.close()
                archive.close()
                if own_model and isinstance(deps.model, SupportsClose):
                    await deps.model.aclose()

    @property
    def policies(self) -> PolicyStore:
        """The active (and shadow) policy: ``reload()``, ``activate()``, ``set_shadow()``."""
        return self.deps.validator.policies

    async def start_session(
        self, customer_id: str, channel: Channel = "shopper", session_id: str | None = None
    ) -> Session:
        """Bind a new conversation to an existing customer."""
        await self._customer(customer_id)
        return self.sessions.create(
            Principal(customer_id=customer_id, channel=channel), session_id=session_id
        )

    async def ask(
        self,
        session_id: str,
        message: str,
        *,
        turn_id: str | None = None,
        on_step: OnStep | None = None,
    ) -> TurnResult:
        """Run one turn. Same ``turn_id`` again reuses its idempotency keys.

        ``on_step`` hears about each graph node as it finishes (for streaming).
        """
        text = message.strip()
        if not text:
            raise InputError("the message is empty")
        if len(text) > self.settings.max_message_chars:
            raise InputError(
                f"the message is {len(text)} characters; the limit is "
                f"{self.settings.max_message_chars}"
            )
        session = self.sessions.get(session_id)
        scratch = TurnScratch(
            turn_id=turn_id or f"turn_{uuid.uuid4().hex[:20]}",
            session_id=session_id,
            principal=session.principal,
            customer=CustomerContext(name="", region="", postcode="", loyalty_tier=""),
            user_message=text,
            started_at=datetime.now(UTC),
        )
        return await self._run(session, scratch.turn_id, scratch, text, on_step=on_step)

    async def _run(
        self,
        session: Session,
        turn_id: str,
        scratch: TurnScratch | None,
        text: str | None,
        *,
        resume: ApprovalDecision | None = None,
        on_step: OnStep | None = None,
    ) -> TurnResult:
        """Run a new turn (``scratch``) or resume a paused one with a decision."""
        session_id = session.session_id
        tools, known = await self.tool_context(session.principal, session_id)
        # Once per turn: pick up an edited policy file (one stat), then pin the turn to it.
        self.policies.reload()
        ctx = TurnContext(tools=tools, customer=known, pin=self.policies.pin())
        graph_input: Any
        if scratch is not None:
            scratch.customer = known
            graph_input = {"turn": scratch}
        else:
            graph_input = Command(resume=resume.model_dump(mode="json") if resume else None)
        lock = self._locks.get(session_id)
        if lock is None:
            lock = self._locks[session_id] = asyncio.Lock()
        with telemetry.turn_span(
            self.tracing,
            turn_id=turn_id,
            session_id=session_id,
            channel=session.principal.channel,
            policy_version=ctx.pinned(self.deps.validator).version,
            tool_schema_sha256=self.deps.tool_schema_sha256,
            user_message=text,
        ) as span:
            config: RunnableConfig = {"configurable": {"thread_id": session_id}}
            async with lock, self._lease(session_id):
                if scratch is not None:  # checked under the lease: no turn can slip in between
                    self._check_not_waiting(session_id)
                if on_step is None:
                    out = await self.graph.ainvoke(
                        graph_input, config=config, context=ctx, durability="exit"
                    )
                    interrupts = out.get("__interrupt__", ())
                else:
                    interrupts = await self._stream(graph_input, config, ctx, on_step)
                paused = [ApprovalRequest.model_validate(i.value) for i in interrupts]
                for request in paused:
                    self.approvals.add(request)
            if paused:
                return TurnResult(
                    text=waiting_text(paused),
                    turn_id=turn_id,
                    session_id=session_id,
                    recorded=None,
                    pending=tuple(paused),
                )
            record = ctx.result[0]
            telemetry.record_turn(span, record)
        return TurnResult(
            text=record.final_text, turn_id=turn_id, session_id=session_id, recorded=record
        )

    def _check_not_waiting(self, session_id: str) -> None:
        if self.approvals.has_pending(session_id):
            raise ConflictError(
                f"session {session_id} has a turn waiting for approval; "
                "it continues once that is decided"
            )

    @asynccontextmanager
    async def _lease(self, session_id: str) -> AsyncIterator[None]:
        """One turn at a time per session, across processes and replicas."""
        holder = f"{os.getpid()}-{uuid.uuid4().hex[:12]}"
        if not self.sessions.lease(session_id, holder, self.settings.turn_lease_s):
            raise ConflictError(f"session {session_id} has a turn in progress; try again")
        try:
            yield
        finally:
            self.sessions.release(session_id, holder)

    async def _stream(
        self, graph_input: Any, config: RunnableConfig, ctx: TurnContext, on_step: OnStep
    ) -> tuple[Interrupt, ...]:
        """Run the graph reporting each node as it finishes; the interrupts it paused on."""
        tracker = StepTracker()
        interrupts: tuple[Interrupt, ...] = ()
        async for update in self.graph.astream(
            graph_input, config=config, context=ctx, durability="exit", stream_mode="updates"
        ):
            for node, value in update.items():
                if node == "__interrupt__":
                    interrupts = tuple(value)
                elif isinstance(value, dict) and value.get("turn") is not None:
                    await on_step(tracker.event(node, value["turn"]))
        return interrupts

    async def tool_context(
        self, principal: Principal, session_id: str
    ) -> tuple[ToolContext, CustomerContext]:
        """The trusted context of a turn for this principal, from the customer service.

        Kept per process for ``CUSTOMER_TTL_S``: it shapes the prompt and rule scopes;
        rules that judge the customer (tier, age) read the profile afresh as a fact.
        """
        known = await self._known_customer(principal.customer_id)
        tools = ToolContext(
            customer_id=principal.customer_id,
            session_id=session_id,
            channel=principal.channel,
            region=known.region,
            postcode=known.postcode,
            loyalty_tier=known.loyalty_tier,
            client=self.client,
        )
        return tools, known

    async def _known_customer(self, customer_id: str) -> CustomerContext:
        now = time.monotonic()
        cached = self._customers.get(customer_id)
        if cached is not None and now - cached[0] < CUSTOMER_TTL_S:
            return cached[1]
        customer = await self._customer(customer_id)
        known = CustomerContext(
            name=str(customer["name"]),
            region=str(customer["region"]),
            postcode=str(customer["postcode"]),
            loyalty_tier=str(customer["loyalty_tier"]),
        )
        if len(self._customers) >= 10_000:
            self._customers.clear()
        self._customers[customer_id] = (now, known)
        return known

    async def _customer(self, customer_id: str) -> dict[str, object]:
        try:
            return await read_customer(self.client, customer_id)
        except CapabilityError as exc:
            if exc.status in (404, 422):  # no such customer, or not even a valid id
                raise UnknownCustomerError(f"unknown customer {customer_id!r}") from exc
            raise


def open_policies(
    settings: Settings, policy: LoadedPolicy | None, archive: PolicyArchive
) -> PolicyStore:
    """The policy store: the given policy, or the configured file watched for edits.

    A policy passed in is not backed by a file and is never reloaded. The shadow file
    (``ARBITER_SHADOW_POLICY_FILE``) must be valid at start; later edits to either
    file are picked up by ``reload()``, and a broken edit keeps the previous version.
    """
    known = {t.name for t in ACTION_TOOLS}
    path = None if policy is not None else (settings.policy_file or DEFAULT_POLICY_PATH)
    active = policy or load_policy(path, known_actions=known)
    shadow_path = settings.shadow_policy_file
    shadow = load_policy(shadow_path, known_actions=known) if shadow_path else None
    store = PolicyStore(
        active,
        path=path,
        shadow=shadow,
        shadow_path=shadow_path,
        known_actions=known,
        archive=archive,
    )
    # An operator's activation over the API stays in force until the file it replaced changes.
    store.follow_pins()
    return store
