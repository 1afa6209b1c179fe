"""``arbiter policy``: check policy files (and, later, simulate them)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from arbiter.commands.common import err, out

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
