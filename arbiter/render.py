"""Terminal rendering of a turn: the answer, then a compact panel of what happened."""

from __future__ import annotations

from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from agent.record import DecisionRecord


def render_turn(console: Console, record: DecisionRecord) -> None:
    """Print the answer and a panel of tools called, verdicts and executions."""
    console.print(Text("arbiter> ", style="bold cyan") + Text(record.final_text))
    # every cell is a Text: model and tool output must never be parsed as rich markup
    console.print(Panel(_details(record), title="decision", title_align="left", style="dim"))


def _details(record: DecisionRecord) -> Group:
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold")
    table.add_column()
    tools = (
        ", ".join(f"{c.tool} ({c.status}, {c.duration_ms:.0f} ms)" for c in record.context)
        or "none"
    )
    table.add_row("tools", Text(tools))
    by_id = {p.id: p for p in record.proposals}
    for verdict in record.verdicts:
        action = by_id[verdict.action_id]
        rules = ", ".join(verdict.rule_ids) or "all rules passed"
        table.add_row("verdict", Text(f"{action.type}: {verdict.outcome} ({rules})"))
    for execution in record.executions:
        key = execution.idempotency_key
        table.add_row("executed", Text(f"{execution.type}: {execution.status} (key {key})"))
    if record.output_repaired:
        table.add_row("claim check", "answer repaired: unverified claims removed")
    table.add_row(
        "turn",
        Text(
            f"{record.turn_id} · session {record.session_id} · {record.duration_ms:.0f} ms"
            f" · policy {record.policy_version[:12]}"
        ),
    )
    return Group(table)
