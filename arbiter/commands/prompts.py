"""``arbiter prompts``: the versioned prompt templates, their hashes and lock status."""

from __future__ import annotations

from typing import Annotated

import typer

from arbiter.commands.common import fail, out

app = typer.Typer(help="Versioned prompt templates.", no_args_is_help=True)


@app.command("list")
def list_templates() -> None:
    """Every template: id, version, description, sha256 prefix and lock status."""
    from rich.table import Table
    from rich.text import Text

    from prompts.registry import load_templates, read_lock

    lock = read_lock()
    table = Table("id", "version", "description", "sha256", "lock")
    for template in sorted(load_templates().values(), key=lambda t: (t.meta.id, t.meta.version)):
        locked = lock.get(template.ref)
        status = "ok" if locked == template.sha256 else ("missing" if locked is None else "DIFFERS")
        table.add_row(
            Text(template.meta.id),
            str(template.meta.version),
            Text(template.meta.description),
            template.sha256[:12],
            status,
        )
    out.print(table)


@app.command("show")
def show(
    ref: Annotated[str, typer.Argument(metavar="ID[@VERSION]", help="e.g. shopper.system@1")],
) -> None:
    """Front matter, sha256 and body of one template (the highest version by default)."""
    import yaml

    from arbiter.errors import ConfigError
    from prompts.registry import get_template, read_lock

    template_id, _, raw_version = ref.partition("@")
    if raw_version and not raw_version.isdigit():
        raise fail(f"{ref}: the version after @ must be a number", code=2)
    try:
        template = get_template(template_id, int(raw_version) if raw_version else None)
    except ConfigError as exc:
        raise fail(str(exc), code=2) from None
    locked = read_lock().get(template.ref)
    lock = "matches" if locked == template.sha256 else f"DIFFERS (lock has {locked})"
    front = yaml.safe_dump(template.meta.model_dump(), sort_keys=False, allow_unicode=True)
    for text in (
        f"# {template.ref}  ({template.path.name})",
        f"sha256: {template.sha256}",
        f"lock:   {lock if locked else 'not in templates.lock.json'}",
        "---",
        front.rstrip("\n"),
        "---",
        template.body.rstrip("\n"),
    ):
        out.print(text, highlight=False, markup=False, soft_wrap=True)
