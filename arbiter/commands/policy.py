"""``arbiter policy``: check policy files (and, later, simulate them)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from arbiter.commands.common import err, out

if TYPE_CHECKING:
    from guardrails.policy import LoadedPolicy

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
    import json

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
