"""Rendering of conformance reports: a rich table for the terminal, Markdown for the docs."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from rich.console import Console
from rich.table import Table

from evals.conformance import SetReport
from evals.retail_variants import FAMILIES

DEFECT_NOTES: dict[str, str] = {
    "retail.different_option": "task defect: the gold maps an item to the identical item; the "
    "policy allows only a new item of a different option (tau2 refuses this too)",
    "retail.gift_card_covers": "task defect: the gold pays with a gift card whose balance is "
    "below what it must cover",
    "retail.refund_destination": "task defect: the refund goes to a method the order was not "
    "paid with and that is not a gift card",
    "retail.delivered_only": "task defect: exchange of an order that is not delivered "
    "(still pending)",
}
"""Why a gold write denied by a rule breaks the policy, by the first rule that fired."""


def _pct(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "n/a"


def summary_rows(report: SetReport) -> list[tuple[str, str]]:
    """(measure, value) rows of one set's gold-action summary."""
    writes = len(report.gold)
    return [
        ("tasks", str(report.tasks)),
        ("gold write actions", str(writes)),
        ("allowed and executed", str(report.count("allowed"))),
        ("false blocks", str(report.count("false_block"))),
        ("expected denials", str(report.count("expected_denial"))),
        ("execution errors after allow", str(len(report.execution_errors))),
        ("tasks that could not run", str(len(report.task_errors))),
        ("variants generated", str(len(report.variants))),
        ("variants caught by their rule", str(sum(v.outcome == "caught" for v in report.variants))),
        ("run time", f"{report.seconds:.1f} s"),
    ]


def family_rows(report: SetReport) -> list[tuple[str, str, str, str, str, str, str]]:
    """(family, violates, issue, generated, caught, missed, catch rate) per family."""
    rows = []
    for family, counts in report.family_counts().items():
        what, listed = FAMILIES[family]
        rows.append(
            (
                family,
                what,
                "yes" if listed else "",
                str(counts["generated"]),
                str(counts["caught"]),
                str(counts["missed"] + counts["denied_other"]),
                _pct(counts["caught"], counts["generated"]),
            )
        )
    return rows


def print_reports(reports: Sequence[SetReport], console: Console | None = None) -> None:
    """Print each set's summary, variant families and false blocks."""
    console = console or Console()
    for report in reports:
        summary = Table(title=f"{report.name}: gold write actions")
        summary.add_column("measure")
        summary.add_column("value", justify="right")
        for row in summary_rows(report):
            summary.add_row(*row)
        console.print(summary)
        families = Table(title=f"{report.name}: violating variants")
        for name in ("family", "violates", "issue", "generated", "caught", "missed", "rate"):
            families.add_column(
                name,
                justify="right" if name in ("generated", "caught", "missed", "rate") else "left",
            )
        for frow in family_rows(report):
            families.add_row(*frow)
        console.print(families)
        if report.false_blocks:
            blocks = Table(title=f"{report.name}: false blocks")
            for name in ("task", "#", "action", "rules", "reason"):
                blocks.add_column(name)
            for g in report.false_blocks:
                blocks.add_row(
                    g.task_id, str(g.index), g.action, ", ".join(g.rule_ids), " ".join(g.reasons)
                )
            console.print(blocks)


def markdown(reports: Sequence[SetReport]) -> str:
    """The summary tables and the false-block list as Markdown."""
    out: list[str] = []
    for report in reports:
        out += [f"### {report.name}", "", "| measure | value |", "|---|---:|"]
        out += [f"| {m} | {v} |" for m, v in summary_rows(report)]
        out += [
            "",
            "| variant family | violates | in issue | generated | caught | missed | catch rate |",
            "|---|---|---|---:|---:|---:|---:|",
        ]
        out += ["| " + " | ".join(r) + " |" for r in family_rows(report)]
        out.append("")
        if report.false_blocks:
            out += [
                f"False blocks ({len(report.false_blocks)}):",
                "",
                "| task | write # | action | rules | reason | note |",
                "|---|---:|---|---|---|---|",
            ]
            for g in report.false_blocks:
                reason = " ".join(g.reasons).replace("|", "\\|")
                note = next((DEFECT_NOTES[r] for r in g.rule_ids if r in DEFECT_NOTES), "")
                out.append(
                    f"| {g.task_id} | {g.index} | {g.action} | {', '.join(g.rule_ids)} "
                    f"| {reason} | {note} |"
                )
            out.append("")
        expected = [g for g in report.gold if g.outcome == "expected_denial"]
        if expected:
            out += [
                "Expected denials: "
                + "; ".join(
                    f"task {g.task_id} {g.action} ({', '.join(g.rule_ids)})" for g in expected
                ),
                "",
            ]
    return "\n".join(out)


def write_markdown(reports: Sequence[SetReport], path: Path) -> None:
    """Replace the generated section of ``path`` (between markers), or write it whole."""
    begin, end = "<!-- conformance:begin -->", "<!-- conformance:end -->"
    generated = f"{begin}\n{markdown(reports)}\n{end}"
    if path.exists() and begin in (text := path.read_text()) and end in text:
        head, _, rest = text.partition(begin)
        _, _, tail = rest.partition(end)
        path.write_text(head + generated + tail)
    else:
        path.write_text(generated + "\n")
