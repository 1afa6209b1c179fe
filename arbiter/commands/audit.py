"""``arbiter audit``: check the hash chain, export it, prune it, issue and check receipts."""

from __future__ import annotations

import atexit
import json
import sys
from collections.abc import Iterator
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TextIO

import typer

from arbiter.commands.common import err, fail, out, parse_since
from arbiter.settings import Settings

if TYPE_CHECKING:
    from agent.audit_chain import ChainReport
    from agent.audit_store import AuditLog

app = typer.Typer(help="The decision audit store: verify, export, prune, receipts.")


class ExportFormat(StrEnum):
    """Export file formats."""

    jsonl = "jsonl"
    json = "json"


def local_store(settings: Settings) -> AuditLog | None:
    """The configured audit store, or None when no turn has been recorded yet.

    PostgreSQL with ``ARBITER_DATABASE_URL``, else the data directory's SQLite file.
    """
    if settings.database_url:
        from agent.audit_pg import PostgresAuditStore

        store = PostgresAuditStore.connect(settings.database_url)
        atexit.register(store.close)
        return store
    from agent.audit_store import AuditStore

    path = settings.data_dir / "audit.sqlite"
    return AuditStore(path) if path.exists() else None


def open_store(settings: Settings) -> AuditLog:
    """The configured audit store; exit 2 if there is none yet."""
    store = local_store(settings)
    if store is None:
        path = settings.data_dir / "audit.sqlite"
        raise fail(f"no audit store at {path} (no turn has been recorded yet)", code=2)
    return store


@app.command("verify")
def verify(
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Walk the hash chain; name the first broken record (exit 1) or count the intact ones."""
    report = open_store(Settings()).verify()
    if as_json:
        sys.stdout.write(report.model_dump_json(indent=2) + "\n")
    else:
        out.print(describe_report(report), highlight=False, markup=False, soft_wrap=True)
    if not report.ok:
        raise typer.Exit(1)


def describe_report(report: ChainReport) -> str:
    """One line (two with an anchor) saying whether the chain holds."""
    anchored = ""
    if report.anchor:
        anchor = report.anchor
        anchored = (
            f"\nanchored at seq {anchor.seq} ({anchor.record_hash[:12]}…): {anchor.pruned_count}"
            f" records pruned {anchor.pruned_at:%Y-%m-%d %H:%M} UTC"
        )
    broken = report.first_broken
    if broken is None:
        head = f", head seq {report.head_seq} {report.head_hash[:12]}…" if report.head_hash else ""
        return f"ok: chain intact, {_records(report.checked)} verified{head}{anchored}"
    turn = f"turn {broken.turn_id}" if broken.turn_id else "missing record"
    return (
        f"BROKEN at seq {broken.seq} ({turn}): {_REASONS[broken.reason]} — {broken.detail};"
        f" {_records(report.checked)} before it verified{anchored}"
    )


_REASONS = {
    "content_mismatch": "the record's content was changed",
    "broken_link": "broken link to the previous record",
    "gap": "records are missing",
}


def _records(count: int) -> str:
    return f"{count} record" if count == 1 else f"{count} records"


@app.command("export")
def export(
    since: Annotated[
        str | None, typer.Option(help="Only records finished since: 24h, 7d or an ISO date.")
    ] = None,
    fmt: Annotated[ExportFormat, typer.Option("--format", help="jsonl or json.")] = (
        ExportFormat.jsonl
    ),
    out_file: Annotated[
        Path | None, typer.Option("--out", help="Write here instead of stdout.")
    ] = None,
) -> None:
    """Print stored records in chain order, exactly as hashed (one per line for jsonl)."""
    store = open_store(Settings())
    rows = (row.record for row in store.iter_rows(parse_since(since) if since else None))
    if out_file is None:
        count = _write(sys.stdout, rows, fmt)
    else:
        with out_file.open("w", encoding="utf-8") as handle:
            count = _write(handle, rows, fmt)
        err.print(
            f"wrote {count} records to {out_file}", highlight=False, markup=False, soft_wrap=True
        )


def _write(handle: TextIO, rows: Iterator[str], fmt: ExportFormat) -> int:
    write = handle.write
    count = 0
    if fmt is ExportFormat.json:
        write("[")
    for text in rows:
        if fmt is ExportFormat.json:
            write(",\n" if count else "\n")
            write(text)
        else:
            write(text + "\n")
        count += 1
    if fmt is ExportFormat.json:
        write("\n]\n")
    return count


@app.command("prune")
def prune(
    older_than: Annotated[
        str | None,
        typer.Option(help="30d, 12h or an ISO date; default ARBITER_AUDIT_RETENTION_DAYS."),
    ] = None,
) -> None:
    """Remove records older than the cutoff; the chain is anchored, never broken."""
    from agent.audit_store import AuditChainError

    settings = Settings()
    if older_than is None:
        if settings.audit_retention_days is None:
            raise fail("give --older-than (or set ARBITER_AUDIT_RETENTION_DAYS)", code=2)
        older_than = f"{settings.audit_retention_days}d"
    try:
        cutoff = parse_since(older_than)
    except typer.BadParameter as exc:
        raise typer.BadParameter(str(exc.message), param_hint="--older-than") from None
    store = open_store(settings)
    try:
        pruned = store.prune(cutoff)
    except AuditChainError as exc:
        raise fail(str(exc), code=1) from None
    if not pruned:
        out.print(f"nothing to prune: no record finished before {cutoff:%Y-%m-%d %H:%M} UTC")
        return
    anchor = store.anchor()
    assert anchor is not None
    out.print(
        f"pruned {pruned} records finished before {cutoff:%Y-%m-%d %H:%M} UTC; chain anchored"
        f" at seq {anchor.seq} ({anchor.record_hash[:12]}…), {store.count()} records kept",
        highlight=False,
        soft_wrap=True,
    )


@app.command("receipt")
def receipt(
    turn_id: Annotated[str, typer.Argument(help="The turn whose executed actions to receipt.")],
    out_dir: Annotated[Path, typer.Option("--out", help="Directory for the receipt files.")] = Path(
        "."
    ),
) -> None:
    """Write one self-contained, verifiable JSON receipt per executed action of a turn."""
    from agent.receipts import build_receipts

    row = open_store(Settings()).get_row(turn_id)
    if row is None:
        raise fail(f"unknown turn {turn_id}", code=2)
    receipts = build_receipts(row)
    if not receipts:
        out.print(f"turn {turn_id} executed no action: no receipt written", highlight=False)
        return
    out_dir.mkdir(parents=True, exist_ok=True)
    for doc in receipts:
        action = doc["action"]
        path = out_dir / f"{turn_id}.{action['action_id']}.receipt.json"
        path.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        out.print(
            f"{path}  {action['type']} · key {action['idempotency_key']}"
            f" · receipt {doc['receipt_sha256'][:12]}…",
            highlight=False,
            markup=False,
            soft_wrap=True,
        )


@app.command("verify-receipt")
def verify_receipt_cmd(
    file: Annotated[Path, typer.Argument(help="A receipt written by `arbiter audit receipt`.")],
) -> None:
    """Check a receipt on its own (hashes and sections); also against the local store if any."""
    from agent.receipts import verify_receipt

    try:
        doc = json.loads(file.read_text(encoding="utf-8"))
    except OSError as exc:
        raise fail(f"cannot read {file}: {exc.strerror}", code=2) from None
    except json.JSONDecodeError as exc:
        raise fail(f"{file} is not JSON: {exc}", code=2) from None
    problems = verify_receipt(doc)
    if not problems:
        problems = _against_store(doc)
    if problems:
        err.print(f"[red]invalid receipt[/red] {file}:", highlight=False)
        for problem in problems:
            err.print(f"  - {problem}", highlight=False, markup=False, soft_wrap=True)
        raise typer.Exit(1)
    action = doc["action"]
    out.print(
        f"ok: receipt for turn {doc['turn']['turn_id']}, {action['type']} {action['action_id']}"
        f" (key {action['idempotency_key']}); record_hash {doc['record_hash'][:12]}… recomputed",
        highlight=False,
        markup=False,
        soft_wrap=True,
    )


def _against_store(doc: dict[str, object]) -> list[str]:
    """When this machine has the audit store and the turn, its stored hash must agree."""
    turn = doc.get("turn")
    store = local_store(Settings()) if isinstance(turn, dict) else None
    if store is None or not isinstance(turn, dict):
        return []
    row = store.get_row(str(turn.get("turn_id")))
    if row is None or row.record_hash == doc.get("record_hash"):
        return []
    return [f"record_hash differs from the local audit store's ({row.record_hash[:12]}…)"]
