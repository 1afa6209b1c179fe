"""Prompt templates as versioned files, rendered deterministically and hashed.

A template is a Markdown file with YAML front matter (``id``, ``version``,
``description``, ``model_params``, ``variables``) and a body using ``${name}``
placeholders. Rendering is plain substitution — no logic, no clock, no randomness —
so the same variables always give the same text and the same sha256.
``templates.lock.json`` pins each ``id@version`` to its text's sha256: editing a
template without bumping its version fails the test suite.
"""

from __future__ import annotations

import hashlib
import json
import string
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from arbiter.errors import ConfigError

TEMPLATE_DIR = Path(__file__).parent / "templates"
LOCK_FILE = Path(__file__).parent / "templates.lock.json"


class TemplateMeta(BaseModel):
    """Front matter of a template file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(min_length=1)
    version: int = Field(ge=1)
    description: str
    model_params: dict[str, Any] = Field(default_factory=dict)
    variables: list[str] = Field(default_factory=list)


@dataclass(frozen=True)
class PromptTemplate:
    """A loaded template and the sha256 of its whole file."""

    meta: TemplateMeta
    body: str
    sha256: str
    path: Path

    @property
    def ref(self) -> str:
        """``id@version``."""
        return f"{self.meta.id}@{self.meta.version}"

    def render(self, **variables: str) -> RenderedPrompt:
        """Substitute variables; a missing or unexpected variable is an error."""
        unexpected = set(variables) - set(self.meta.variables)
        if unexpected:
            raise ConfigError(f"{self.ref}: unexpected variables {sorted(unexpected)}")
        try:
            text = string.Template(self.body).substitute(variables)
        except KeyError as exc:
            raise ConfigError(f"{self.ref}: missing variable {exc.args[0]}") from exc
        return RenderedPrompt(template=self, text=text)


@dataclass(frozen=True)
class RenderedPrompt:
    """Rendered text plus the lineage of the template it came from."""

    template: PromptTemplate
    text: str


def parse_template(path: Path) -> PromptTemplate:
    """Load one template file."""
    raw = path.read_text(encoding="utf-8")
    if not raw.startswith("---\n"):
        raise ConfigError(f"{path}: template must start with '---' front matter")
    head, _, body = raw[4:].partition("\n---\n")
    try:
        meta = TemplateMeta.model_validate(yaml.safe_load(head))
    except (yaml.YAMLError, ValidationError) as exc:
        raise ConfigError(f"{path}: invalid front matter: {exc}") from exc
    return PromptTemplate(meta=meta, body=body.strip() + "\n", sha256=sha256_text(raw), path=path)


@cache
def load_templates(directory: Path = TEMPLATE_DIR) -> dict[str, PromptTemplate]:
    """Every template in a directory, keyed by ``id@version``."""
    templates = [parse_template(p) for p in sorted(directory.glob("*.md"))]
    return {t.ref: t for t in templates}


def get_template(template_id: str, version: int | None = None) -> PromptTemplate:
    """A template by id, at a version or the highest one."""
    matches = [t for t in load_templates().values() if t.meta.id == template_id]
    if version is not None:
        matches = [t for t in matches if t.meta.version == version]
    if not matches:
        wanted = f"{template_id}@{version}" if version else template_id
        raise ConfigError(f"no prompt template {wanted}")
    return max(matches, key=lambda t: t.meta.version)


def sha256_text(text: str) -> str:
    """sha256 hex of UTF-8 text."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def messages_sha256(messages: list[dict[str, Any]]) -> str:
    """sha256 of rendered messages in canonical JSON: the exact input the model saw."""
    canonical = json.dumps(messages, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return sha256_text(canonical)


def read_lock() -> dict[str, str]:
    """The pinned ``id@version -> sha256`` map."""
    data: dict[str, str] = json.loads(LOCK_FILE.read_text(encoding="utf-8"))
    return data
