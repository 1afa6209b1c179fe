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
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

import aiosqlite
import httpx
from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer
from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver
from opentelemetry.trace import TracerProvider

from agent import telemetry
from agent.audit_store import AuditStore
from agent.deps import TurnContext, TurnDeps, TurnLimits
from agent.graph import TurnGraph, build_graph
from agent.models.base import ChatModel, ModelParams
from agent.models.factory import build_model
from agent.record import CustomerContext, DecisionRecord, Principal
from agent.sessions import Session, SessionStore
from agent.state import CHECKPOINT_TYPES, TurnScratch
from arbiter.errors import CapabilityError, InputError, UnknownCustomerError
from arbiter.settings import Settings
from guardrails.ledger.stores import GuardStores
from guardrails.policy import DEFAULT_POLICY_PATH, LoadedPolicy, load_policy
from guardrails.policy_archive import PolicyArchive
from guardrails.policy_store import PolicyStore
from guardrails.validator import Validator
from tools.client import IN_PROCESS_BASE_URL, CapabilityClient, RetryPolicy
from tools.facts import read_customer
from tools.registry import ACTION_TOOLS
from tools.spec import Channel, ToolContext


@dataclass(frozen=True)
class TurnResult:
    """The answer and the record of how it was reached."""

    text: str
    record: DecisionRecord


def capability_http(settings: Settings) -> httpx.AsyncClient:
    """HTTP client for the capability services: a real URL, or the sandbox in-process."""
    if settings.sandbox_url:
        return httpx.AsyncClient(base_url=settings.sandbox_url)
    from sandbox.app import create_app

    app = create_app(settings.path("sandbox.sqlite"))
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=IN_PROCESS_BASE_URL)


class Arbiter:
    """Runs shopper and copilot turns."""

    def __init__(
        self,
        *,
        settings: Settings,
        client: CapabilityClient,
        deps: TurnDeps,
        graph: TurnGraph,
        sessions: SessionStore,
        tracing: telemetry.Tracing | None = None,
    ) -> None:
        self.settings = settings
        self.tracing = tracing or telemetry.tracing_for(settings)
        self.client = client
        self.deps = deps
        self.graph = graph
        self.sessions = sessions
        self._locks: dict[str, asyncio.Lock] = {}

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
        policies = open_policies(settings, policy)
        http = http or capability_http(settings)
        client = CapabilityClient(
            http,
            timeout_s=settings.tool_timeout_s,
            retry=RetryPolicy(max_attempts=settings.tool_max_attempts),
        )
        # Ledger and kill switch: PostgreSQL when ARBITER_DATABASE_URL is set, else SQLite.
        guard = GuardStores.open(settings.database_url, settings.path("budget.sqlite"))
        deps = TurnDeps(
            model=model or build_model(settings),
            validator=Validator(policies, guard.ledger, kill_switch=guard.kill_switch),
            ledger=guard.ledger,
            audit=AuditStore(settings.path("audit.sqlite")),
            params=ModelParams(
                temperature=settings.temperature,
                max_tokens=settings.max_tokens,
                seed=settings.seed,
            ),
            limits=TurnLimits(
                max_plan_steps=settings.max_plan_steps, max_revisions=settings.max_revisions
            ),
        )
        serde = JsonPlusSerializer(allowed_msgpack_modules=CHECKPOINT_TYPES)
        async with http, guard, aiosqlite.connect(settings.path("checkpoints.sqlite")) as conn:
            saver = AsyncSqliteSaver(conn, serde=serde)
            try:
                yield cls(
                    settings=settings,
                    client=client,
                    deps=deps,
                    graph=build_graph(deps, saver),
                    sessions=SessionStore(settings.path("sessions.sqlite")),
                    tracing=tracing,
                )
            finally:
                deps.audit.close()

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

    async def ask(self, session_id: str, message: str, *, turn_id: str | None = None) -> TurnResult:
        """Run one turn. Same ``turn_id`` again reuses its idempotency keys."""
        text = message.strip()
        if not text:
            raise InputError("the message is empty")
        if len(text) > self.settings.max_message_chars:
            raise InputError(
                f"the message is {len(text)} characters; the limit is "
                f"{self.settings.max_message_chars}"
            )
        session = self.sessions.get(session_id)
        tools, known = await self.tool_context(session.principal, session_id)
        # Once per turn: pick up an edited policy file (one stat), then pin the turn to it.
        self.policies.reload()
        ctx = TurnContext(tools=tools, customer=known, pin=self.policies.pin())
        scratch = TurnScratch(
            turn_id=turn_id or f"turn_{uuid.uuid4().hex[:20]}",
            session_id=session_id,
            principal=session.principal,
            customer=known,
            user_message=text,
            started_at=datetime.now(UTC),
        )
        lock = self._locks.setdefault(session_id, asyncio.Lock())
        with telemetry.turn_span(
            self.tracing,
            turn_id=scratch.turn_id,
            session_id=session_id,
            channel=session.principal.channel,
            policy_version=ctx.pinned(self.deps.validator).version,
            tool_schema_sha256=self.deps.tool_schema_sha256,
            user_message=text,
        ) as span:
            async with lock:
                await self.graph.ainvoke(
                    {"turn": scratch},
                    config={"configurable": {"thread_id": session_id}},
                    context=ctx,
                    durability="exit",
                )
            record = ctx.result[0]
            telemetry.record_turn(span, record)
        return TurnResult(text=record.final_text, record=record)

    async def tool_context(
        self, principal: Principal, session_id: str
    ) -> tuple[ToolContext, CustomerContext]:
        """The trusted context of a turn for this principal, from the customer service."""
        customer = await self._customer(principal.customer_id)
        known = CustomerContext(
            name=str(customer["name"]),
            region=str(customer["region"]),
            postcode=str(customer["postcode"]),
            loyalty_tier=str(customer["loyalty_tier"]),
        )
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

    async def _customer(self, customer_id: str) -> dict[str, object]:
        try:
            return await read_customer(self.client, customer_id)
        except CapabilityError as exc:
            if exc.status == 404:
                raise UnknownCustomerError(f"unknown customer {customer_id!r}") from exc
            raise


def open_policies(settings: Settings, policy: LoadedPolicy | None = None) -> PolicyStore:
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
    return PolicyStore(
        active,
        path=path,
        shadow=shadow,
        shadow_path=shadow_path,
        known_actions=known,
        archive=PolicyArchive(settings.path("audit.sqlite")),
    )
