"""``arbiter policy``: check, compare and explain policy files (simulate: commands.replay)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, cast

import typer

from arbiter.commands.common import err, fail, out, run

if TYPE_CHECKING:
    from arbiter.settings import Settings
    from guardrails.explain import Explanation
    from guardrails.policy import LoadedPolicy
    from tools.spec import Channel

app = typer.Typer(help="Policy files.", no_args_is_help=True)


@app.command("validate")
def validate(
    file: Annotated[Path, typer.Argument(help="Policy YAML file.")],
) -> None:
    """Check a policy file; every problem is printed with its path in the file."""
    from guardrails.policy import PolicyError, load_policy
    from tools.registry import ACTION_TOOLS

    try:
        loaded = load_policy(file, known_actions={t.name for t in ACTION_TOOLS})
    except PolicyError as exc:
        err.print(f"[red]invalid policy[/red] {exc.source}:", highlight=False)
        for problem in exc.problems:
            err.print(f"  - {problem}", highlight=False, markup=False)
        raise typer.Exit(1) from None
    out.print(
        f"ok: {loaded.policy.name}, {len(loaded.policy.rules)} rules, version {loaded.version}"
    )


@app.command("diff")
def diff(
    a: Annotated[Path, typer.Argument(help="The current policy file.")],
    b: Annotated[Path, typer.Argument(help="The candidate policy file.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the diff as JSON.")] = False,
) -> None:
    """Rules added, removed and changed from A to B (exit 1 when they differ)."""
    from guardrails.policy_diff import diff_policies

    result = diff_policies(_load_or_exit(a), _load_or_exit(b))
    if as_json:
        out.print_json(result.model_dump_json())
    else:
        out.print(f"{a} ({result.version_a[:12]}) -> {b} ({result.version_b[:12]})", markup=False)
        for rule in result.added:
            out.print(
                f"+ {rule['id']} ({rule['kind']}, {rule['effect']}, actions "
                f"{', '.join(rule['actions'])})",
                markup=False,
            )
        for rule in result.removed:
            out.print(f"- {rule['id']} ({rule['kind']})", markup=False)
        for change in result.changed:
            out.print(f"~ {change.rule_id}", markup=False)
            for field in change.changes:
                out.print(
                    f"    {field.path}: {json.dumps(field.before)} -> {json.dumps(field.after)}",
                    markup=False,
                )
        if result.reordered:
            out.print("rules were reordered")
        if result.identical:
            out.print("no rule differs")
    if not result.identical:
        raise typer.Exit(1)


@app.command("explain")
def explain(
    action_json: Annotated[
        str,
        typer.Argument(
            help='The proposed action: {"type": "offer_discount", "params": {"sku": ..., ...}}.'
        ),
    ],
    customer: Annotated[str, typer.Option("--customer", "-c", help="Customer id to act for.")],
    policy: Annotated[
        Path | None, typer.Option(help="Explain under this policy instead of the active one.")
    ] = None,
    channel: Annotated[str, typer.Option(help="Session channel: shopper or copilot.")] = "shopper",
    as_json: Annotated[bool, typer.Option("--json", help="Print the explanation as JSON.")] = False,
) -> None:
    """Which rules cover a proposed action, which fire and why, on live facts; nothing runs."""
    from arbiter.settings import Settings

    action = _parse_action(action_json)
    if channel != "shopper" and channel != "copilot":
        raise fail(f"--channel must be shopper or copilot, not {channel!r}", code=2)
    session_channel = cast("Channel", channel)
    loaded = _load_or_exit(policy) if policy else None
    result = run(lambda: _explain(Settings(), action, customer, session_channel, loaded))
    if as_json:
        out.print_json(result.model_dump_json())
        return
    _print_explanation(result)


def _parse_action(text: str) -> dict[str, Any]:
    try:
        action = json.loads(text)
    except json.JSONDecodeError as exc:
        raise fail(f"ACTION_JSON is not valid JSON: {exc.msg}", code=2) from None
    if (
        not isinstance(action, dict)
        or not isinstance(action.get("type"), str)
        or not isinstance(action.get("params", {}), dict)
    ):
        raise fail('ACTION_JSON must look like {"type": "...", "params": {...}}', code=2)
    return action


async def _explain(
    settings: Settings,
    action: dict[str, Any],
    customer: str,
    channel: Channel,
    policy: LoadedPolicy | None,
) -> Explanation:
    import uuid

    from agent.record import Principal
    from agent.runtime import Arbiter
    from arbiter.errors import InputError
    from guardrails.explain import explain
    from guardrails.verdict import ProposedAction
    from tools.registry import ACTION_TOOLS

    spec = next((t for t in ACTION_TOOLS if t.name == action["type"]), None)
    if spec is None:
        known = ", ".join(sorted(t.name for t in ACTION_TOOLS))
        raise InputError(f"unknown action type {action['type']!r}; one of: {known}")
    try:
        params = spec.parse_args(action.get("params", {})).model_dump(mode="json")
    except ValueError as exc:
        raise InputError(f"invalid params for {spec.name}: {exc}") from None
    proposal = ProposedAction(
        id="explain-1", type=spec.name, params=params, call_id="explain", llm_call_index=0
    )
    async with Arbiter.open(settings, policy=policy) as arbiter:
        principal = Principal(customer_id=customer, channel=channel)
        # A throwaway session: nothing is stored, and its discount budget is untouched.
        ctx, _ = await arbiter.tool_context(principal, f"explain-{uuid.uuid4().hex[:12]}")
        pin = arbiter.policies.pin()
        verdict = await arbiter.deps.validator.evaluate(proposal, ctx, pin=pin)
        return explain(verdict, pin.active, proposal, ctx)


def _print_explanation(result: Explanation) -> None:
    from rich.table import Table

    colour = {"allow": "green", "deny": "red", "require_approval": "yellow"}[result.outcome]
    out.print(
        f"{result.action_type} {json.dumps(result.resolved_params, sort_keys=True)}",
        markup=False,
        highlight=False,
        soft_wrap=True,
    )
    out.print(
        f"policy {result.policy_name} ({result.policy_version[:12]}): "
        f"[{colour}]{result.outcome}[/{colour}]",
        highlight=False,
    )
    table = Table(title="rules covering " + result.action_type)
    widest = max((len(rule.rule_id) for rule in result.rules), default=4)
    table.add_column("rule", no_wrap=True, min_width=widest)  # ids are what people search for
    for column in ("kind", "effect", "applies", "fired"):
        table.add_column(column)
    for rule in result.rules:
        applies = "yes" if rule.in_scope else "no (out of scope)"
        if not result.rules_evaluated:
            applies, fired = "not evaluated", "-"
        else:
            fired = "FIRED" if rule.fired else "passed" if rule.in_scope else "-"
        table.add_row(rule.rule_id, rule.kind, rule.effect, applies, fired)
    out.print(table)
    for rule in result.rules:
        if rule.reason is None:
            continue
        why = f"{rule.rule_id} ({rule.effect}): {rule.reason}"
        if rule.repair is not None:
            numbers = [
                f"{name} {value:g}"
                for name, value in (
                    ("limit", rule.repair.limit),
                    ("actual", rule.repair.actual),
                    ("headroom", rule.repair.headroom),
                )
                if value is not None
            ]
            if numbers:
                why += f" [{', '.join(numbers)}]"
            if rule.repair.alternative:
                why += f"; allowed instead: {json.dumps(rule.repair.alternative, sort_keys=True)}"
        out.print(why, markup=False, highlight=False, soft_wrap=True)
    for hit in result.system:
        out.print(f"system check {hit['rule_id']}: {hit['reason']}", markup=False, soft_wrap=True)
    if result.facts:
        out.print("facts used:")
        for fact in result.facts:
            out.print(
                f"  {fact.kind} {fact.key} ({fact.source}): "
                f"{json.dumps(fact.value, sort_keys=True, default=str)}",
                markup=False,
                highlight=False,
                soft_wrap=True,
            )


def _load_or_exit(path: Path) -> LoadedPolicy:
    from guardrails.policy import PolicyError, load_policy
    from tools.registry import ACTION_TOOLS

    try:
        return load_policy(path, known_actions={t.name for t in ACTION_TOOLS})
    except PolicyError as exc:
        err.print(f"[red]invalid policy[/red] {exc.source}:", highlight=False)
        for problem in exc.problems:
            err.print(f"  - {problem}", highlight=False, markup=False)
        raise typer.Exit(2) from None
