"""Terminal rendering of a turn: the answer and a compact panel, or the full trace tree."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text
from rich.tree import Tree

from agent.record import DecisionRecord

if TYPE_CHECKING:
    from agent.results import TurnResult


def render_result(console: Console, result: TurnResult) -> None:
    """A finished turn as ``render_turn``; a paused one as what it waits for."""
    if result.recorded is not None:
        render_turn(console, result.recorded)
        return
    console.print(Text("arbiter> ", style="bold cyan") + Text(result.text))
    hint = Text(
        "Decide with `arbiter approvals approve ID` or `arbiter approvals reject ID`"
        " (or in the operator console).",
        style="dim",
    )
    console.print(hint)


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


def render_trace(console: Console, record: DecisionRecord) -> None:
    """Print a turn as a tree: steps, LLM calls, tools, proposals with verdicts, claims."""
    console.print(trace_tree(record))


def trace_tree(record: DecisionRecord) -> Tree:
    """The turn as a rich Tree; every label is a Text, so recorded content is never markup."""
    root = Tree(
        Text.assemble(
            ("turn ", "bold"),
            record.turn_id,
            f" · session {record.session_id} · customer {record.principal.customer_id}"
            f" ({record.principal.channel}) · policy {record.policy_version[:12]}"
            f" · {record.duration_ms:.1f} ms",
        )
    )
    root.add(Text.assemble(("message ", "bold"), _clip(record.user_message)))
    steps = root.add(Text("steps", style="bold"))
    for timing in record.timings:
        steps.add(Text(f"{timing.node} · {timing.duration_ms:.1f} ms"))
    _llm_calls(root, record)
    _tools(root, record)
    _proposals(root, record)
    claims = root.add(Text(f"claim checks ({len(record.claim_checks)})", style="bold"))
    for claim in record.claim_checks:
        mark, style = ("✓ verified", "green") if claim.verified else ("✗ unverified", "red")
        detail = f" ({claim.detail})" if claim.detail else ""
        claims.add(Text.assemble((mark, style), f" {claim.kind}: ", _clip(claim.text), detail))
    answer = "answer (repaired)" if record.output_repaired else "answer"
    root.add(Text.assemble((f"{answer} ", "bold"), _clip(record.final_text)))
    if record.error:
        root.add(Text.assemble(("error ", "bold red"), record.error))
    return root


def _llm_calls(root: Tree, record: DecisionRecord) -> None:
    branch = root.add(Text(f"llm calls ({len(record.llm_calls)})", style="bold"))
    for call in record.llm_calls:
        usage = call.usage
        tokens = f"{usage.input_tokens} in / {usage.output_tokens} out" if usage else "n/a"
        node = branch.add(
            Text(
                f"#{call.index} {call.template_id}@{call.template_version}"
                f" ({call.template_sha256[:12]}) · {call.endpoint_kind} {call.model}"
                f" · tokens {tokens} · {call.latency_ms:.1f} ms · {call.finish_reason or '-'}"
            )
        )
        for tool_call in call.tool_calls:
            node.add(Text(f"→ {tool_call.name} {_args(tool_call.arguments)}"))


def _tools(root: Tree, record: DecisionRecord) -> None:
    branch = root.add(Text(f"tools ({len(record.context)})", style="bold"))
    for call in record.context:
        style = "green" if call.status == "ok" else "red"
        attempts = "attempt" if call.attempts == 1 else "attempts"
        label = Text.assemble(
            f"{call.tool} {_args(call.args)} · ",
            (call.status, style),
            f" · {call.duration_ms:.1f} ms · {call.attempts} {attempts} · {call.source_service}",
        )
        if call.error:
            label.append(f" · {call.error.get('code', '')}: {call.error.get('message', '')}")
        branch.add(label)


def _proposals(root: Tree, record: DecisionRecord) -> None:
    branch = root.add(Text(f"proposals ({len(record.proposals)})", style="bold"))
    styles = {"allow": "green", "deny": "red", "require_approval": "yellow"}
    for proposal in record.proposals:
        node = branch.add(
            Text(
                f"{proposal.id} {proposal.type} {_args(proposal.params)}"
                f" (llm #{proposal.llm_call_index})"
            )
        )
        for verdict in (v for v in record.verdicts if v.action_id == proposal.id):
            rules = ", ".join(verdict.rule_ids) or "no rule fired"
            judged = node.add(
                Text.assemble(
                    ("verdict ", "bold"),
                    (verdict.outcome, styles.get(verdict.outcome, "")),
                    f" · rules: {rules} · {len(verdict.facts)} facts",
                )
            )
            for reason in verdict.reasons:
                judged.add(Text(reason))
        for execution in (e for e in record.executions if e.action_id == proposal.id):
            label = Text.assemble(
                ("execution ", "bold"),
                execution.status,
                f" · key {execution.idempotency_key} · {execution.duration_ms:.1f} ms",
            )
            if execution.budget_entry:
                label.append(f" · budget {execution.budget_entry}")
            if execution.error:
                label.append(f" · {execution.error.get('message', '')}")
            node.add(label)


def _args(args: dict[str, Any]) -> str:
    return _clip(json.dumps(args, ensure_ascii=False, sort_keys=True), 80)


def _clip(text: str, limit: int = 160) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
