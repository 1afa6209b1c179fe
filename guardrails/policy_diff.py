"""What changed between two policies, rule by rule: added, removed, and changed fields."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from guardrails.policy import LoadedPolicy


class FieldChange(BaseModel):
    """One field of a rule, before and after (dotted path into the rule)."""

    path: str
    before: Any
    after: Any


class RuleChange(BaseModel):
    """A rule present in both policies whose content differs."""

    rule_id: str
    changes: list[FieldChange]


class PolicyDiff(BaseModel):
    """The difference from policy A to policy B."""

    version_a: str
    version_b: str
    added: list[dict[str, Any]] = Field(default_factory=list, description="Rules only in B.")
    removed: list[dict[str, Any]] = Field(default_factory=list, description="Rules only in A.")
    changed: list[RuleChange] = Field(default_factory=list)
    reordered: bool = Field(default=False, description="Same rules, different order.")

    @property
    def identical(self) -> bool:
        """No rule differs (the files may still differ in comments or layout)."""
        return not (self.added or self.removed or self.changed or self.reordered)


def diff_policies(a: LoadedPolicy, b: LoadedPolicy) -> PolicyDiff:
    """Compare two policies by rule id."""
    rules_a = {r.id: r.model_dump(mode="json") for r in a.policy.rules}
    rules_b = {r.id: r.model_dump(mode="json") for r in b.policy.rules}
    common = [rule_id for rule_id in rules_a if rule_id in rules_b]
    return PolicyDiff(
        version_a=a.version,
        version_b=b.version,
        added=[rule for rule_id, rule in rules_b.items() if rule_id not in rules_a],
        removed=[rule for rule_id, rule in rules_a.items() if rule_id not in rules_b],
        changed=[
            RuleChange(rule_id=rule_id, changes=changes)
            for rule_id in common
            if (changes := _field_changes(rules_a[rule_id], rules_b[rule_id]))
        ],
        reordered=common != [rule_id for rule_id in rules_b if rule_id in rules_a],
    )


def _field_changes(before: Any, after: Any, path: str = "") -> list[FieldChange]:
    if isinstance(before, dict) and isinstance(after, dict):
        changes: list[FieldChange] = []
        for key in sorted(set(before) | set(after)):
            sub = f"{path}.{key}" if path else str(key)
            changes += _field_changes(before.get(key), after.get(key), sub)
        return changes
    return [] if before == after else [FieldChange(path=path, before=before, after=after)]
