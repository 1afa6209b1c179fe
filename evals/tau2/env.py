"""What every episode of a run shares, and the fresh copies each one gets.

The peer set's database is loaded into SQLite once per run (a template); every
expected-state computation and every episode copies it, so no two see each other's
writes. The retail app is served in-process, exactly as the conformance check does.
"""

from __future__ import annotations

import dataclasses
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from evals.conformance import DEFAULT_PEERS, SETS
from evals.tau2.tasks import SetName
from guardrails.policy import LoadedPolicy, load_policy
from guardrails.rules.retail import RETAIL_POLICY_PATH
from prompts.registry import PromptTemplate, parse_template, sha256_text
from sandbox.retail.app import create_retail_app
from sandbox.retail.db import load_retail_database
from tools.client import IN_PROCESS_BASE_URL, CapabilityClient, RetryPolicy
from tools.spec import ToolContext

AGENT_TEMPLATE = Path(__file__).with_name("agent_system.md")
_POLICY_MARK = "@@POLICY@@"


@dataclass(frozen=True)
class RetailEnv:
    """One run's shared, read-only material."""

    set_name: SetName
    template_db: Path
    """The peer set's data in SQLite; copied, never written."""
    workdir: Path
    """Where fresh copies go."""
    policy: LoadedPolicy
    """The retail policy every proposal is validated against."""
    system_template: PromptTemplate
    """The agent's system prompt, with the peer set's policy text."""


def agent_template(policy_text: str) -> PromptTemplate:
    """The agent prompt with the peer policy inserted; its hash covers the inserted text."""
    base = parse_template(AGENT_TEMPLATE)
    body = base.body.replace(_POLICY_MARK, policy_text.strip().replace("$", "$$"))
    return dataclasses.replace(base, body=body, sha256=sha256_text(f"{base.sha256}\n{body}"))


def prepare_env(set_name: SetName, workdir: Path, peers: Path = DEFAULT_PEERS) -> RetailEnv:
    """Load the set's database into a template under ``workdir`` and the policies."""
    source = peers / SETS[set_name]
    workdir.mkdir(parents=True, exist_ok=True)
    template = load_retail_database(source, workdir / f"{set_name}-template.sqlite")
    return RetailEnv(
        set_name=set_name,
        template_db=template,
        workdir=workdir,
        policy=load_policy(RETAIL_POLICY_PATH),
        system_template=agent_template((source / "policy.md").read_text(encoding="utf-8")),
    )


def fresh_db(env: RetailEnv, name: str) -> Path:
    """A new copy of the template in its own folder ``<workdir>/<name>/``."""
    folder = env.workdir / name
    folder.mkdir(parents=True, exist_ok=False)
    return Path(shutil.copy(env.template_db, folder / "retail.sqlite"))


def discard(db: Path) -> None:
    """Remove a copy made by ``fresh_db`` (its whole folder)."""
    shutil.rmtree(db.parent, ignore_errors=True)


@asynccontextmanager
async def retail_client(db: Path) -> AsyncIterator[CapabilityClient]:
    """A capability client over the retail app serving ``db`` in-process (no retries)."""
    app = create_retail_app(db)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=IN_PROCESS_BASE_URL) as http:
        yield CapabilityClient(http, retry=RetryPolicy(max_attempts=1))


def session_context(
    client: CapabilityClient, user_id: str, session_id: str, *, zip_code: str = ""
) -> ToolContext:
    """The trusted context of a support session bound to ``user_id`` (copilot channel)."""
    return ToolContext(
        customer_id=user_id,
        session_id=session_id,
        channel="copilot",
        region="",
        postcode=zip_code,
        loyalty_tier="",
        client=client,
    )
