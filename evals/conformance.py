"""Policy conformance on the tau-bench retail domain: ``python -m evals.conformance``.

For every task of a peer set, a fresh copy of that set's database (a template built
once and copied per task), served in-process by the retail app; then each gold write
action in order:

1. the violating variants of that action (``evals.retail_variants``) are evaluated
   against the state just before it — each must be denied, by the rule it breaks;
2. the gold action itself becomes a ``ProposedAction`` and gets a ``Verdict`` from the
   ``Validator`` under the retail policy, reading facts through the real tools and
   HTTP client; when allowed it is executed through its tool, when denied it is a
   false block (or an expected denial, for the two tau2 gold writes the benchmark's
   own tool refuses).

The session's user is the one the task's gold lookups authenticate
(``find_user_id_by_*``, else ``get_user_details``), else the task's ``user_id`` (original
set; its task 64 names a different user than its instruction and lookups), else the
first order's owner.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from pydantic import ValidationError

from arbiter.errors import ArbiterError, CapabilityError
from evals.retail_variants import FAMILIES, DataIndex, Variant, generate
from guardrails.budget import SqliteBudgetLedger
from guardrails.policy import LoadedPolicy, load_policy
from guardrails.rules.retail import RETAIL_POLICY_PATH
from guardrails.validator import Validator
from guardrails.verdict import ProposedAction, Verdict
from sandbox.retail.app import create_retail_app
from sandbox.retail.db import load_retail_database, read_peer_data
from tools.client import IN_PROCESS_BASE_URL, CapabilityClient, RetryPolicy
from tools.retail import (
    RETAIL_ACTION_TYPES,
    get_retail_tool,
    read_retail_order,
    read_retail_product,
    read_retail_user,
)
from tools.spec import ToolContext

DEFAULT_PEERS = Path(__file__).resolve().parents[2] / "shared" / "peers"
SETS = {"tau2": "tau2-bench-retail", "original": "tau-bench-retail"}
ORIGINAL_SPLITS = ("test", "dev", "train")
EXPECTED_DENIALS = {
    ("tau2", "64", "exchange_delivered_order_items"): "exchange of a pending order",
    ("tau2", "105", "exchange_delivered_order_items"): "gift card balance too low",
}
"""Gold writes the benchmark's own tool refuses (tau2 SOURCE.md): a correct rule denies them."""


@dataclass(frozen=True)
class GoldAction:
    """One gold action of a task, as the peer data gives it."""

    name: str
    args: dict[str, Any]


@dataclass(frozen=True)
class Task:
    """A task's id, its user when the data names one, and its gold actions in order."""

    task_id: str
    user_id: str | None
    actions: tuple[GoldAction, ...]

    @property
    def writes(self) -> list[GoldAction]:
        """The gold write actions, in order."""
        return [a for a in self.actions if a.name in RETAIL_ACTION_TYPES]


@dataclass(frozen=True)
class GoldOutcome:
    """What the validator said about one gold write."""

    task_id: str
    index: int
    action: str
    outcome: str  # allowed | false_block | expected_denial
    rule_ids: tuple[str, ...] = ()
    reasons: tuple[str, ...] = ()
    execution_error: str | None = None


@dataclass(frozen=True)
class VariantOutcome:
    """What the validator said about one violating variant."""

    task_id: str
    family: str
    action: str
    expected_rule: str
    outcome: str  # caught | denied_other | missed
    rule_ids: tuple[str, ...] = ()


@dataclass
class SetReport:
    """Everything one conformance run over a peer set measured."""

    name: str
    tasks: int = 0
    gold: list[GoldOutcome] = field(default_factory=list)
    variants: list[VariantOutcome] = field(default_factory=list)
    task_errors: list[tuple[str, str]] = field(default_factory=list)
    seconds: float = 0.0

    def count(self, outcome: str) -> int:
        """Gold writes with this outcome."""
        return sum(1 for g in self.gold if g.outcome == outcome)

    @property
    def false_blocks(self) -> list[GoldOutcome]:
        """Gold writes a rule denied that should have passed."""
        return [g for g in self.gold if g.outcome == "false_block"]

    @property
    def execution_errors(self) -> list[GoldOutcome]:
        """Allowed gold writes the service then refused (should be none)."""
        return [g for g in self.gold if g.execution_error is not None]

    def family_counts(self) -> dict[str, dict[str, int]]:
        """Per variant family: generated, caught, denied_other, missed."""
        counts: dict[str, dict[str, int]] = {}
        for family in FAMILIES:
            rows = [v for v in self.variants if v.family == family]
            counts[family] = {
                "generated": len(rows),
                "caught": sum(1 for v in rows if v.outcome == "caught"),
                "denied_other": sum(1 for v in rows if v.outcome == "denied_other"),
                "missed": sum(1 for v in rows if v.outcome == "missed"),
            }
        return counts


def load_tasks(set_name: str, peers: Path = DEFAULT_PEERS) -> list[Task]:
    """The tasks of a peer set, in upstream order."""
    folder = peers / SETS[set_name]
    if set_name == "tau2":
        raw = json.loads((folder / "tasks.json").read_text())
        return [
            Task(
                str(t["id"]),
                None,
                tuple(
                    GoldAction(a["name"], a.get("arguments") or {})
                    for a in t["evaluation_criteria"]["actions"] or []
                ),
            )
            for t in raw
        ]
    tasks = []
    for split in ORIGINAL_SPLITS:
        raw = json.loads((folder / f"tasks_{split}.json").read_text())
        for i, t in enumerate(raw):
            actions = tuple(GoldAction(a["name"], a.get("kwargs") or {}) for a in t["actions"])
            tasks.append(Task(f"{split}:{i}", t["user_id"], actions))
    return tasks


@dataclass
class _Run:
    set_name: str
    template: Path
    workdir: Path
    policy: LoadedPolicy
    validator: Validator
    index: DataIndex
    report: SetReport


async def run_set(
    set_name: str,
    *,
    peers: Path = DEFAULT_PEERS,
    task_ids: Sequence[str] | None = None,
    concurrency: int = 4,
    workdir: Path | None = None,
) -> SetReport:
    """Run the conformance check over one peer set (or the named tasks of it)."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    tasks = load_tasks(set_name, peers)
    if task_ids is not None:
        wanted = set(task_ids)
        tasks = [t for t in tasks if t.task_id in wanted]
    with _workdir(workdir) as root:
        source = peers / SETS[set_name]
        template = load_retail_database(source, root / f"{set_name}-template.sqlite")
        policy = load_policy(RETAIL_POLICY_PATH)
        ledger = SqliteBudgetLedger(root / "budget.sqlite")
        run = _Run(
            set_name,
            template,
            root,
            policy,
            Validator(policy, ledger),
            DataIndex.build(*read_peer_data(source)),
            SetReport(set_name, tasks=len(tasks)),
        )
        gate = asyncio.Semaphore(concurrency)

        async def one(task: Task) -> None:
            async with gate:
                try:
                    await _run_task(run, task)
                except Exception as exc:  # recorded; one broken task must not end the run
                    run.report.task_errors.append((task.task_id, f"{type(exc).__name__}: {exc}"))

        await asyncio.gather(*(one(t) for t in tasks))
    run.report.gold.sort(key=lambda g: (_order_key(g.task_id), g.index))
    run.report.variants.sort(key=lambda v: _order_key(v.task_id))
    run.report.seconds = loop.time() - started
    return run.report


def _order_key(task_id: str) -> tuple[int, int]:
    split, _, number = task_id.rpartition(":")
    rank = ORIGINAL_SPLITS.index(split) if split in ORIGINAL_SPLITS else 0
    return rank, int(number)


@contextmanager
def _workdir(given: Path | None) -> Iterator[Path]:
    if given is not None:
        given.mkdir(parents=True, exist_ok=True)
        yield given
        return
    with tempfile.TemporaryDirectory(prefix="arbiter-conformance-") as tmp:
        yield Path(tmp)


async def _run_task(run: _Run, task: Task) -> None:
    writes = task.writes
    if not writes:
        return
    with _task_db(run, task) as db:
        app = create_retail_app(db)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=IN_PROCESS_BASE_URL) as http:
            client = CapabilityClient(http, retry=RetryPolicy(max_attempts=1))
            user_id = await _session_user(client, task)
            ctx = ToolContext(
                customer_id=user_id,
                session_id=f"conformance-{run.set_name}-{task.task_id}",
                channel="copilot",
                region="",
                postcode="",
                loyalty_tier="",
                client=client,
            )
            for i, gold in enumerate(writes):
                await _variants(run, task, gold, ctx)
                await _gold(run, task, i, gold, ctx)


@contextmanager
def _task_db(run: _Run, task: Task) -> Iterator[Path]:
    """A fresh copy of the template for one task, removed afterwards."""
    db = run.workdir / f"{run.set_name}-{task.task_id.replace(':', '-')}.sqlite"
    shutil.copy(run.template, db)
    try:
        yield db
    finally:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)


async def _session_user(client: CapabilityClient, task: Task) -> str:
    for action in task.actions:
        try:
            if action.name == "find_user_id_by_email":
                found = await client.get("/retail/users", params={"email": action.args["email"]})
                return str(found["user_id"])
            if action.name == "find_user_id_by_name_zip":
                found = await client.get("/retail/users", params=action.args)
                return str(found["user_id"])
        except CapabilityError:
            continue  # a lookup the user got wrong; the task's next lookup finds them
        if action.name == "get_user_details":
            return str(action.args["user_id"])
    if task.user_id is not None:
        return task.user_id
    first = task.writes[0]
    if "order_id" in first.args:
        return str((await read_retail_order(client, first.args["order_id"]))["user_id"])
    return str(first.args.get("user_id", ""))


def _proposal(action_id: str, name: str, params: dict[str, Any]) -> ProposedAction:
    return ProposedAction(
        id=action_id, type=name, params=params, call_id=action_id, llm_call_index=0
    )


async def _gold(run: _Run, task: Task, index: int, gold: GoldAction, ctx: ToolContext) -> None:
    spec = get_retail_tool(gold.name)
    assert spec is not None
    action_id = f"{run.set_name}-{task.task_id}-{index}"
    try:
        args = spec.parse_args(gold.args)
    except ValidationError as exc:
        hit = f"schema: {exc.errors()[0]['loc']} {exc.errors()[0]['msg']}"
        run.report.gold.append(
            GoldOutcome(task.task_id, index, gold.name, "false_block", ("schema",), (hit,))
        )
        return
    verdict = await run.validator.evaluate(_proposal(action_id, gold.name, args.model_dump()), ctx)
    if verdict.outcome != "allow":
        expected = (run.set_name, task.task_id, gold.name) in EXPECTED_DENIALS
        run.report.gold.append(
            GoldOutcome(
                task.task_id,
                index,
                gold.name,
                "expected_denial" if expected else "false_block",
                tuple(verdict.rule_ids),
                tuple(verdict.reasons),
            )
        )
        return
    error = None
    try:
        await spec.run(args, ctx.for_execution(f"{action_id}-exec"))
    except ArbiterError as exc:
        error = str(exc)
    run.report.gold.append(GoldOutcome(task.task_id, index, gold.name, "allowed", (), (), error))


async def _variants(run: _Run, task: Task, gold: GoldAction, ctx: ToolContext) -> None:
    spec = get_retail_tool(gold.name)
    assert spec is not None
    try:
        params = spec.parse_args(gold.args).model_dump()
    except ValidationError:
        return
    client = ctx.client
    try:
        user = await read_retail_user(client, ctx.customer_id)
        order = None
        products: dict[str, dict[str, Any]] = {}
        if "order_id" in params:
            order = await read_retail_order(client, params["order_id"])
            for pid in sorted({str(x["product_id"]) for x in order["items"]}):
                products[pid] = await read_retail_product(client, pid)
    except ArbiterError:
        return  # the gold action names something that does not exist: no baseline
    variants = generate(
        gold.name, params, user=user, order=order, products=products, index=run.index
    )
    for n, variant in enumerate(variants):
        verdict = await _evaluate_variant(run, variant, ctx, f"{task.task_id}-v{n}")
        run.report.variants.append(
            VariantOutcome(
                task.task_id,
                variant.family,
                variant.action_type,
                variant.expected_rule,
                _variant_outcome(variant, verdict),
                tuple(verdict.rule_ids),
            )
        )


async def _evaluate_variant(run: _Run, variant: Variant, ctx: ToolContext, vid: str) -> Verdict:
    http = ctx.client.http
    restores: list[tuple[str, dict[str, Any]]] = []
    try:
        for change in variant.setup:
            response = await http.put(change.path, json=change.body)
            response.raise_for_status()
            restores.append((change.path, {change.restore: response.json()[change.restore]}))
        action = _proposal(f"{run.set_name}-{vid}", variant.action_type, variant.params)
        return await run.validator.evaluate(action, ctx)
    finally:
        for path, body in reversed(restores):
            (await http.put(path, json=body)).raise_for_status()


def _variant_outcome(variant: Variant, verdict: Verdict) -> str:
    if verdict.outcome == "allow":
        return "missed"
    return "caught" if variant.expected_rule in verdict.rule_ids else "denied_other"


def main(argv: Sequence[str] | None = None) -> int:
    """CLI: run the sets, print the summary; ``--markdown`` writes docs/conformance.md."""
    from evals.conformance_report import print_reports, write_markdown

    parser = argparse.ArgumentParser(prog="python -m evals.conformance", description=__doc__)
    parser.add_argument("--set", choices=("tau2", "original", "both"), default="both")
    parser.add_argument("--peers", type=Path, default=DEFAULT_PEERS, help="peer data folder")
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument(
        "--markdown",
        nargs="?",
        const=Path("docs/conformance.md"),
        type=Path,
        help="write the summary as Markdown (default docs/conformance.md)",
    )
    ns = parser.parse_args(argv)
    names = ["tau2", "original"] if ns.set == "both" else [ns.set]
    reports = [
        asyncio.run(run_set(name, peers=ns.peers, concurrency=ns.concurrency)) for name in names
    ]
    print_reports(reports)
    if ns.markdown is not None:
        write_markdown(reports, ns.markdown)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
