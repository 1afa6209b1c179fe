"""The policy file: rules as data, schema-validated at load, versioned by content hash.

A rule names its ``kind`` (which pure function evaluates it), its ``params``, its
``effect`` and the action types it covers. Loading reports every error with its path
in the file (``rules[2].params.default_percent: ...``) so a risk owner can fix the
file without reading code.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from arbiter.errors import ConfigError
from guardrails.rule_base import ANY_ACTION as ANY_ACTION
from guardrails.rule_kinds import RULE_KINDS
from guardrails.rule_kinds import Rule as Rule

DEFAULT_POLICY_PATH = Path(__file__).parent / "policies" / "default.yaml"


class Policy(BaseModel):
    """A whole policy file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, description="Human name of this policy.")
    rules: list[Rule] = Field(min_length=1)

    @field_validator("rules")
    @classmethod
    def _unique_ids(cls, rules: list[Rule]) -> list[Rule]:
        seen: set[str] = set()
        for rule in rules:
            if rule.id in seen:
                raise ValueError(f"duplicate rule id {rule.id!r}")
            seen.add(rule.id)
        return rules

    def rules_for(self, action_type: str) -> list[Rule]:
        """Rules that cover an action type, in file order (indexed once per policy)."""
        index = self._index()
        found = index.get(action_type)
        if found is None:
            found = index[action_type] = [r for r in self.rules if r.covers(action_type)]
        return found

    def _index(self) -> dict[str, list[Rule]]:
        # A policy is immutable, so its per-action rule lists can be computed once.
        index: dict[str, list[Rule]] | None = self.__dict__.get("_rules_by_action")
        if index is None:
            index = self.__dict__["_rules_by_action"] = {}
        return index


@dataclass(frozen=True)
class LoadedPolicy:
    """A validated policy with its version (sha256 of the file's bytes)."""

    policy: Policy
    version: str
    source: str
    raw: bytes = b""


class PolicyError(ConfigError):
    """The policy file is unreadable or invalid; ``problems`` lists each with its path."""

    def __init__(self, source: str, problems: list[str]) -> None:
        super().__init__(f"invalid policy {source}: " + "; ".join(problems))
        self.source = source
        self.problems = problems


def load_policy(path: Path | None = None, *, known_actions: set[str] | None = None) -> LoadedPolicy:
    """Read, validate and hash a policy file (the bundled default when ``path`` is None)."""
    path = path or DEFAULT_POLICY_PATH
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise PolicyError(str(path), [f"cannot read file: {exc.strerror}"]) from exc
    return parse_policy(raw, source=str(path), known_actions=known_actions)


def parse_policy(
    raw: bytes, *, source: str = "<policy>", known_actions: set[str] | None = None
) -> LoadedPolicy:
    """Validate policy bytes; every problem is reported with its path in the document."""
    try:
        document: Any = yaml.safe_load(raw)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        raise PolicyError(source, [f"{where}not valid YAML"]) from exc
    try:
        policy = Policy.model_validate(document)
    except ValidationError as exc:
        raise PolicyError(source, [_describe(err) for err in exc.errors()]) from exc
    if known_actions is not None:
        problems = [
            f"rules[{i}].actions: unknown action type {name!r}"
            for i, rule in enumerate(policy.rules)
            for name in rule.actions
            if name != ANY_ACTION and name not in known_actions
        ]
        if problems:
            raise PolicyError(source, problems)
    return LoadedPolicy(
        policy=policy, version=hashlib.sha256(raw).hexdigest(), source=source, raw=raw
    )


def _describe(error: Any) -> str:
    parts: list[str] = []
    for item in error["loc"]:
        if isinstance(item, int):
            parts.append(f"[{item}]")
        elif item in RULE_KINDS:
            continue  # the discriminator tag pydantic inserts; not part of the file's path
        else:
            parts.append(f".{item}" if parts else str(item))
    return f"{''.join(parts) or '<root>'}: {error['msg']}"
