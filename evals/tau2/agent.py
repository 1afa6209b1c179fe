"""The agent under test: Arbiter's real turn graph over the retail tools and retail policy.

``Arbiter.open`` serves the shopping toolset and reads the session's customer from the
shopping customer service, so it cannot run a retail support conversation as it is.
This module assembles the same parts for one: ``TurnDeps`` with
``tools=RETAIL_TOOLS``, a ``Validator`` under the retail policy, the peer suite's
system prompt, and the compiled graph from ``agent.graph.build_graph`` (plan, gather
context, validate, execute, respond, guard output, record), with an in-memory
checkpointer holding the conversation between turns. The session's user is fixed by
the harness (the one the task's gold lookups authenticate); tools refuse any other.

Nothing here decides anything: every proposal goes through the validator and the
execute step exactly as in production, and every turn leaves a DecisionRecord in a
per-episode audit store.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from langgraph.checkpoint.memory import InMemorySaver
from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer

from agent.audit_store import AuditStore
from agent.deps import TurnContext, TurnDeps, TurnLimits
from agent.graph import TurnGraph, build_graph
from agent.models.base import ChatModel, ModelParams
from agent.record import CustomerContext, DecisionRecord, Principal
from agent.state import CHECKPOINT_TYPES, TurnScratch
from arbiter.errors import ArbiterError
from evals.tau2.env import RetailEnv, retail_client, session_context
from guardrails.budget import SqliteBudgetLedger
from guardrails.validator import Validator
from tools.retail import RETAIL_TOOLS, read_retail_user
from tools.spec import ToolContext


class TurnDidNotFinishError(ArbiterError):
    """A turn ended without a DecisionRecord (it paused for an approval nobody gives)."""


@dataclass
class RetailAgent:
    """One support session over one fresh retail database."""

    deps: TurnDeps
    """The graph's collaborators: model, validator, retail tools, stores."""
    graph: TurnGraph
    """The compiled turn graph (in-memory checkpointer)."""
    tools: ToolContext
    """The session's trusted context: its user and the retail client."""
    customer: CustomerContext
    """What the prompt knows of the user."""

    async def ask(self, message: str) -> DecisionRecord:
        """Run one turn of the real graph; return its DecisionRecord."""
        scratch = TurnScratch(
            turn_id=f"turn_{uuid.uuid4().hex[:20]}",
            session_id=self.tools.session_id,
            principal=Principal(customer_id=self.tools.customer_id, channel=self.tools.channel),
            customer=self.customer,
            user_message=message,
            started_at=datetime.now(UTC),
        )
        ctx = TurnContext(tools=self.tools, customer=self.customer)
        await self.graph.ainvoke(
            {"turn": scratch},
            config={"configurable": {"thread_id": self.tools.session_id}},
            context=ctx,
            durability="exit",
        )
        if not ctx.result:
            raise TurnDidNotFinishError(f"turn {scratch.turn_id} ended without a record")
        return ctx.result[0]


@asynccontextmanager
async def open_retail_agent(
    env: RetailEnv,
    db: Path,
    *,
    user_id: str,
    model: ChatModel,
    limits: TurnLimits,
    params: ModelParams | None = None,
) -> AsyncIterator[RetailAgent]:
    """A session bound to ``user_id`` over ``db``; its stores live beside ``db``."""
    async with retail_client(db) as client:
        user = await read_retail_user(client, user_id)
        name = user.get("name") or {}
        zip_code = str((user.get("address") or {}).get("zip", ""))
        ledger = SqliteBudgetLedger(db.with_name("budget.sqlite"))
        audit = AuditStore(db.with_name("audit.sqlite"))
        try:
            deps = TurnDeps(
                model=model,
                validator=Validator(env.policy, ledger),
                ledger=ledger,
                audit=audit,
                params=params or ModelParams(),
                limits=limits,
                tools=RETAIL_TOOLS,
                system_template=env.system_template,
                copilot_template=None,  # the tau-bench agent prompt serves every channel
            )
            serde = JsonPlusSerializer(allowed_msgpack_modules=CHECKPOINT_TYPES)
            yield RetailAgent(
                deps=deps,
                graph=build_graph(deps, InMemorySaver(serde=serde)),
                tools=session_context(client, user_id, f"ses_{db.parent.name}", zip_code=zip_code),
                customer=CustomerContext(
                    name=f"{name.get('first_name', '')} {name.get('last_name', '')}".strip(),
                    region="",
                    postcode=zip_code,
                    loyalty_tier="",
                ),
            )
        finally:
            audit.close()
            ledger.close()
