"""``arbiter replay`` and ``arbiter policy simulate``: recorded turns, re-decided."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from arbiter.commands.common import fail, out, parse_since, run
from arbiter.settings import Settings

if TYPE_CHECKING:
    from guardrails.policy import LoadedPolicy


def replay(
    turn_id: Annotated[str, typer.Argument(help="Turn to re-run (see `arbiter ask --json`).")],
    policy: Annotated[
        Path | None, typer.Option(help="Replay under this policy instead of the recorded one.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Re-run a recorded turn from its record: same model outputs, same facts, no services.

    Exits 1 when replaying under the recorded policy does not reproduce every verdict.
    """
    from agent.replay import replay_turn
    from arbiter.commands.audit import open_store

    settings = Settings()
    store = open_store(settings)
    record = store.get(turn_id)
    if record is None:
        raise fail(f"no recorded turn {turn_id}", code=2)
    loaded = _load(policy) if policy else archived_policy(settings, record.policy_version)
    if loaded is None:
        raise fail(f"policy {record.policy_version[:12]} is not in the archive; pass --policy FILE")
    report = run(lambda: replay_turn(record, loaded))
    if as_json:
        sys.stdout.write(report.model_dump_json(indent=2) + "\n")
    else:
        table = Table(title=f"replay of {turn_id} under policy {loaded.version[:12]}")
        for column in ("action", "recorded", "replayed", "same"):
            table.add_column(column)
        for v in report.verdicts:
            table.add_row(
                f"{v.type} {json.dumps(v.params, sort_keys=True)}",
                _verdict(v.recorded, v.recorded_rules),
                _verdict(v.replayed, v.replayed_rules),
                "yes" if v.same else "NO",
            )
        out.print(table)
        out.print(
            f"verdicts identical: {_yes(report.verdicts_identical)} · prompts identical: "
            f"{_yes(report.prompts_identical)} · answer identical: {_yes(report.answer_identical)}"
        )
        if report.diverged:
            out.print(f"diverged: {report.diverged}", markup=False)
    same_policy = loaded.version == record.policy_version
    if same_policy and not (report.verdicts_identical and report.diverged is None):
        raise typer.Exit(1)


def simulate(
    candidate: Annotated[Path, typer.Argument(help="Candidate policy YAML.")],
    since: Annotated[str, typer.Option(help="Window: 24h, 7d, or an ISO date.")] = "24h",
    as_json: Annotated[bool, typer.Option("--json", help="Print the findings as JSON.")] = False,
) -> None:
    """What-if: replay every recorded turn in the window under a candidate policy."""
    from agent.replay import replay_many
    from arbiter.commands.audit import open_store

    settings = Settings()
    loaded = _load(candidate)
    start = parse_since(since)
    records = [r for r in open_store(settings).iter_since(start) if r.proposals]
    reports = run(lambda: replay_many(records, loaded))
    findings = []
    for report in reports:
        for v in report.verdicts:
            change = None
            if v.executed_originally and v.replayed == "deny":
                change = "would block"
            elif v.executed_originally and v.replayed == "require_approval":
                change = "would escalate"
            elif v.recorded == "deny" and v.replayed == "allow":
                change = "would allow"
            if change:
                findings.append({"turn_id": report.turn_id, "change": change, **v.model_dump()})
    if as_json:
        sys.stdout.write(json.dumps({"turns": len(reports), "findings": findings}, indent=2) + "\n")
        return
    table = Table(title=f"policy {loaded.version[:12]} over {len(reports)} recorded turns")
    for column in ("turn", "action", "change", "recorded", "candidate"):
        table.add_column(column)
    for f in findings:
        table.add_row(
            f["turn_id"],
            f"{f['type']} {json.dumps(f['params'], sort_keys=True)}",
            f["change"],
            _verdict(f["recorded"], f["recorded_rules"]),
            _verdict(f["replayed"], f["replayed_rules"]),
        )
    out.print(table)
    counts = {
        c: sum(1 for f in findings if f["change"] == c)
        for c in ("would block", "would escalate", "would allow")
    }
    out.print(", ".join(f"{n} {c}" for c, n in counts.items()))


def archived_policy(settings: Settings, version: str) -> LoadedPolicy | None:
    """A policy version from the configured archive (PostgreSQL or the data directory)."""
    from arbiter.tables import PostgresTables
    from guardrails.policy_archive import PolicyArchive

    if not settings.database_url:
        archive = PolicyArchive.at(settings.path("audit.sqlite"))
        try:
            return archive.get(version)
        finally:
            archive.close()
    from guardrails.ledger.postgres import open_pool

    pool = open_pool(settings.database_url, max_size=1)
    try:
        return PolicyArchive(PostgresTables(pool)).get(version)
    finally:
        pool.close()


def _load(path: Path) -> LoadedPolicy:
    from guardrails.policy import PolicyError, load_policy
    from tools.registry import ACTION_TOOLS

    try:
        return load_policy(path, known_actions={t.name for t in ACTION_TOOLS})
    except PolicyError as exc:
        raise fail("; ".join(exc.problems) + f" ({exc.source})") from None


def _verdict(outcome: str | None, rules: list[str]) -> str:
    if outcome is None:
        return "-"
    return f"{outcome} ({', '.join(rules)})" if rules else outcome


def _yes(flag: bool) -> str:
    return "yes" if flag else "NO"
