"""The expected end state of a task: its gold actions applied directly to a fresh database.

Each gold write runs through its retail tool (the same code the execute step calls,
with an idempotency key) but without the validator: the reference is the benchmark's
answer, not Arbiter's. Two kinds of gold write change nothing, as in the benchmark:

- a write the sandbox service itself rejects (an id that does not exist);
- a write the benchmark's *own tool* refuses while the sandbox service (which checks
  only existence and shape; policy is the validator's job) would accept it. These
  are listed below: tau2 tasks 64 and 105 (``evals.conformance.EXPECTED_DENIALS``) and
  the original set's gold writes its tools refuse (order status, refund destination,
  gift card balance), as the conformance run found them. The original set's gold
  writes that exchange an item for the identical item are *not* listed: its tools
  accept them, Arbiter's policy denies them, so those tasks cannot be passed.

The end state is the sha256 of the ``retail_users`` and ``retail_orders`` documents
in canonical JSON, ordered by id (products and idempotency keys are not state a
task changes).
"""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
from contextlib import closing
from pathlib import Path
from urllib.parse import quote

from pydantic import BaseModel, Field

from arbiter.errors import ArbiterError, CapabilityError
from evals.conformance import EXPECTED_DENIALS, GoldAction, Task, _session_user
from evals.tau2.env import RetailEnv, discard, fresh_db, retail_client, session_context
from evals.tau2.tasks import GoldCall, Tau2Task
from tools.client import CapabilityClient
from tools.retail import get_retail_tool

ORIGINAL_TOOL_REFUSALS: dict[str, frozenset[int]] = {
    ref: frozenset(indices)
    for ref, indices in {
        "test:12": (0,),  # refund to a method the order was not paid with
        "test:13": (0,),
        "test:64": (0,),  # exchange of a pending order
        "test:106": (0,),  # gift card below the price difference (and the rest below)
        "train:24": (0,),
        "train:27": (0,),
        "train:81": (1,),
        "train:148": (1,),
        "train:161": (0,),
        "train:214": (0,),
        "train:229": (0,),
        "train:252": (0,),
        "train:253": (0,),
        "train:288": (0,),
        "train:314": (3,),
        "train:349": (0,),
        "train:351": (2, 6),
        "train:369": (0,),
        "train:376": (1,),
        "train:427": (0,),
        "train:431": (4,),
        "train:441": (0,),
        "train:469": (0,),
    }.items()
}
"""Original set: task -> positions (among its gold writes) its own tools refuse."""


class ExpectedState(BaseModel):
    """The reference run of one task."""

    user_id: str = Field(description="The session's user: the one the gold lookups find.")
    state_hash: str = Field(description="sha256 of the users and orders after the gold writes.")
    applied: list[str] = Field(default_factory=list, description="Gold writes that ran.")
    unchanged: list[str] = Field(
        default_factory=list, description="Gold writes that changed nothing, with the reason."
    )


def refused_by_benchmark(task: Tau2Task, index: int, call: GoldCall) -> bool:
    """True when the benchmark's own tool refuses the ``index``-th gold write of the task."""
    if task.set_name == "tau2":
        return ("tau2", task.task_id, call.name) in EXPECTED_DENIALS
    return index in ORIGINAL_TOOL_REFUSALS.get(task.ref, frozenset())


def state_hash(db: Path) -> str:
    """sha256 of every user and order document (canonical JSON, ordered by id)."""
    digest = hashlib.sha256()
    with closing(sqlite3.connect(db)) as conn:
        for table, key in (("retail_users", "user_id"), ("retail_orders", "order_id")):
            digest.update(f"#{table}\n".encode())
            for ident, doc in conn.execute(f"SELECT {key}, doc FROM {table} ORDER BY {key}"):
                canonical = json.dumps(json.loads(doc), sort_keys=True, separators=(",", ":"))
                digest.update(f"{ident}\t{canonical}\n".encode())
    return digest.hexdigest()


_IDENTIFYING = frozenset({"find_user_id_by_email", "find_user_id_by_name_zip", "get_user_details"})
_USER_ID = re.compile(r"\b[a-z]+_[a-z]+_\d{4}\b")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+\w")
_ZIP = re.compile(r"\b\d{5}\b")
_CAPITALIZED_PAIR = re.compile(r"\b([A-Z][a-z]+) ([A-Z][a-z]+)\b")


class UnknownUserError(ArbiterError):
    """Neither the gold calls nor the user's scenario identify the task's user."""


async def session_user(client: CapabilityClient, task: Tau2Task) -> str:
    """The user the session is bound to.

    As the conformance check decides it when the gold calls identify someone (lookups,
    ``get_user_details``, the original set's ``user_id``, the first write's order);
    else (a few tau2 tasks have no such call) from what the scenario says the user
    knows: a user id, an email, or a first and last name with a zip code.
    """
    if task.user_id or task.writes or any(a.name in _IDENTIFYING for a in task.actions):
        gold = tuple(GoldAction(a.name, a.arguments) for a in task.actions)
        try:
            return await _session_user(client, Task(task.ref, task.user_id, gold))
        except IndexError:
            pass  # lookups only, and none found anyone: the scenario may still say who
    said = " ".join(filter(None, (task.scenario.known_info, task.scenario.instruction)))
    attempts: list[tuple[str, dict[str, str]]] = [
        (f"/retail/users/{quote(uid)}", {}) for uid in _USER_ID.findall(said)
    ]
    attempts += [("/retail/users", {"email": email}) for email in _EMAIL.findall(said)]
    attempts += [
        ("/retail/users", {"first_name": first, "last_name": last, "zip": code})
        for code in _ZIP.findall(said)
        for first, last in _CAPITALIZED_PAIR.findall(said)
    ]
    for path, params in attempts:
        try:
            found = await client.get(path, params=params or None)
        except CapabilityError:
            continue
        return str(found["user_id"])
    raise UnknownUserError(f"task {task.ref}: no gold call or scenario fact identifies the user")


async def expected_state(env: RetailEnv, task: Tau2Task) -> ExpectedState:
    """Apply the task's gold writes to a fresh copy; return who the user is and the hash."""
    db = fresh_db(env, f"expected-{task.ref.replace(':', '-')}")
    applied: list[str] = []
    unchanged: list[str] = []
    async with retail_client(db) as client:
        user_id = await session_user(client, task)
        ctx = session_context(client, user_id, f"expected-{task.ref}")
        for index, call in enumerate(task.writes):
            label = f"{index}:{call.name}"
            if refused_by_benchmark(task, index, call):
                unchanged.append(f"{label} (the benchmark's tool refuses it)")
                continue
            spec = get_retail_tool(call.name)
            assert spec is not None  # every write is a retail action tool
            try:
                args = spec.parse_args(call.arguments)
                await spec.run(args, ctx.for_execution(f"gold-{task.ref}-{index}"))
            except (ArbiterError, ValueError) as exc:
                unchanged.append(f"{label} (rejected: {exc})")
                continue
            applied.append(label)
    digest = state_hash(db)
    discard(db)
    return ExpectedState(user_id=user_id, state_hash=digest, applied=applied, unchanged=unchanged)
