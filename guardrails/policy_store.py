"""The policy in force, changed without a deploy: hot reload, API activation, shadow.

``PolicyStore`` holds the active policy (and optionally a shadow candidate) as one
immutable ``PolicyPin``. A turn takes the pin once, at its start, and evaluates every
proposal under it; a reload or activation swaps the store's pin for later turns and
never touches a pin already taken, so a turn's verdicts always come from exactly one
policy version.

``reload()`` is meant to be called once per turn: it costs one ``stat`` of the file
and re-reads it only when its mtime, size or inode changed. A file that no longer
parses leaves the old policy in force (fail safe); the error is logged and kept in
``last_error`` until a good version loads. Every activated version (active or shadow)
goes to the ``PolicyArchive`` so a record's policy hash can be resolved later.

``RuleSet`` is a policy prepared for evaluation: per action type, the covering rules
with their check functions resolved once, and for action types with scoped rules the
in-scope subset cached per (category, brand, region, tier, channel) — so the per
verdict cost of scopes is one dict lookup.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from guardrails.policy import LoadedPolicy, PolicyError, Rule, load_policy
from guardrails.policy_archive import PolicyArchive
from guardrails.rules import RULE_CHECKS, Check
from tools.spec import ToolContext

logger = logging.getLogger("arbiter.guardrails")

Applicable = tuple[list[Rule], tuple[tuple[Check, Rule], ...]]
"""The rules that apply to one proposal, and the same rules paired with their checks."""

_SCOPE_CACHE_LIMIT = 4096


class RuleSet:
    """One loaded policy, indexed for evaluation (built once per version, then read-only)."""

    __slots__ = ("_cache", "_plain", "_scoped", "loaded", "version")

    def __init__(self, loaded: LoadedPolicy) -> None:
        self.loaded = loaded
        self.version = loaded.version
        self._plain: dict[str, Applicable] = {}
        self._scoped: dict[str, list[Rule]] = {}
        self._cache: dict[tuple[str, str | None, str | None, str, str, str], Applicable] = {}

    def applicable(
        self, action_type: str, product: dict[str, Any] | None, ctx: ToolContext
    ) -> Applicable:
        """Rules covering the action type whose scope contains this product and session."""
        plain = self._plain.get(action_type)
        if plain is not None:
            return plain
        covering = self._scoped.get(action_type)
        if covering is None:
            covering = self.loaded.policy.rules_for(action_type)
            if all(rule.scope is None for rule in covering):
                self._plain[action_type] = _pair(covering)
                return self._plain[action_type]
            self._scoped[action_type] = covering
        category = brand = None
        if product is not None:
            category, brand = product.get("category"), product.get("brand")
        key = (action_type, category, brand, ctx.region, ctx.loyalty_tier, ctx.channel)
        found = self._cache.get(key)
        if found is None:
            if len(self._cache) >= _SCOPE_CACHE_LIMIT:
                self._cache.clear()
            found = self._cache[key] = _pair(
                [rule for rule in covering if in_scope(rule, product, ctx)]
            )
        return found


def in_scope(rule: Rule, product: dict[str, Any] | None, ctx: ToolContext) -> bool:
    """True when the rule's scope (if any) contains this product and session context."""
    scope = rule.scope
    if scope is None:
        return True
    if product is None and scope.needs_product:
        return False  # no product fact: category/brand-scoped rules do not apply
    return scope.matches(
        category=None if product is None else product.get("category"),
        brand=None if product is None else product.get("brand"),
        region=ctx.region,
        loyalty_tier=ctx.loyalty_tier,
        channel=ctx.channel,
    )


def _pair(rules: list[Rule]) -> Applicable:
    return rules, tuple((RULE_CHECKS[rule.kind], rule) for rule in rules)


@dataclass(frozen=True, slots=True)
class PolicyPin:
    """The policies one turn runs under: the enforced one and an optional shadow."""

    active: RuleSet
    shadow: RuleSet | None = None

    @property
    def version(self) -> str:
        """Version of the enforced policy."""
        return self.active.version


@dataclass(frozen=True)
class ReloadResult:
    """What a ``reload()`` did."""

    changed: bool
    version: str
    error: PolicyError | None = None


_Signature = tuple[int, int, int]
PIN_CHECK_S = 1.0
"""How often a process looks for activations made by other workers or replicas."""


class PolicyStore:
    """The active policy (and shadow candidate) of one process; swapped atomically."""

    def __init__(
        self,
        active: LoadedPolicy,
        *,
        path: Path | None = None,
        shadow: LoadedPolicy | None = None,
        shadow_path: Path | None = None,
        known_actions: set[str] | None = None,
        archive: PolicyArchive | None = None,
    ) -> None:
        self.path = path
        self.shadow_path = shadow_path
        self.known_actions = known_actions
        self.archive = archive
        self.last_error: PolicyError | None = None
        self.shadow_error: PolicyError | None = None
        self._lock = threading.Lock()
        self._signature = _stat(path)
        self._shadow_signature = _stat(shadow_path)
        self._keep(active)
        if shadow is not None:
            self._keep(shadow)
        self._pin = PolicyPin(RuleSet(active), RuleSet(shadow) if shadow else None)
        self.file_versions = {"active": active.version, "shadow": shadow.version if shadow else ""}
        """Versions of the policy files as last read: what a run-time activation pins against."""
        self._pins_seen: tuple[tuple[str, ...], ...] = ()
        self._pins_checked = time.monotonic()

    @property
    def active(self) -> LoadedPolicy:
        """The policy new turns are evaluated under."""
        return self._pin.active.loaded

    @property
    def shadow(self) -> LoadedPolicy | None:
        """The candidate evaluated beside the active policy, never enforced."""
        return self._pin.shadow.loaded if self._pin.shadow else None

    def pin(self) -> PolicyPin:
        """The policies in force now; a turn takes this once and keeps it."""
        return self._pin

    def activate(self, loaded: LoadedPolicy, *, by: str | None = None) -> None:
        """Make ``loaded`` the enforced policy for every later turn (archived first).

        With ``by`` (an operator's activation) it is pinned in the archive: it stays in
        force across restarts until the policy file itself changes.
        """
        self._keep(loaded)
        if by is not None and self.archive is not None:
            self.archive.set_pin(
                "active", loaded.version, file_version=self.file_versions["active"], by=by
            )
        with self._lock:
            if loaded.version != self._pin.active.version:
                self._pin = PolicyPin(RuleSet(loaded), self._pin.shadow)
            self.last_error = None
        logger.info("policy %s active (%s)", loaded.version[:12], loaded.source)

    def set_shadow(self, loaded: LoadedPolicy | None, *, by: str | None = None) -> None:
        """Evaluate ``loaded`` beside the active policy on later turns (None: stop).

        With ``by`` it is pinned like ``activate``'s.
        """
        if loaded is not None:
            self._keep(loaded)
        if by is not None and self.archive is not None:
            self.archive.set_pin(
                "shadow",
                loaded.version if loaded else None,
                file_version=self.file_versions["shadow"],
                by=by,
            )
        with self._lock:
            self._pin = PolicyPin(self._pin.active, RuleSet(loaded) if loaded else None)
            self.shadow_error = None
        logger.info("shadow policy %s", loaded.version[:12] if loaded else "off")

    def reload(self) -> ReloadResult:
        """Re-read the policy file (and the shadow file) if they changed since last seen.

        Also takes up, at most every ``PIN_CHECK_S``, what another process (a worker or a
        replica sharing the archive) activated over the API.
        """
        if time.monotonic() - self._pins_checked >= PIN_CHECK_S:
            self.follow_pins()
        if self.shadow_path is not None:
            self._reload_shadow(self.shadow_path)
        if self.path is None:
            return ReloadResult(changed=False, version=self._pin.version)
        signature = _stat(self.path)
        if signature == self._signature:
            return ReloadResult(changed=False, version=self._pin.version, error=self.last_error)
        self._signature = signature
        try:
            loaded = load_policy(self.path, known_actions=self.known_actions)
        except PolicyError as exc:
            self.last_error = exc
            logger.error(
                "policy reload rejected, keeping %s: %s",
                self._pin.version[:12],
                "; ".join(exc.problems),
            )
            return ReloadResult(changed=False, version=self._pin.version, error=exc)
        changed = loaded.version != self._pin.version
        self.file_versions["active"] = loaded.version
        self.activate(loaded)
        return ReloadResult(changed=changed, version=loaded.version)

    def _reload_shadow(self, path: Path) -> None:
        signature = _stat(path)
        if signature == self._shadow_signature:
            return
        self._shadow_signature = signature
        try:
            loaded = load_policy(path, known_actions=self.known_actions)
        except PolicyError as exc:
            self.shadow_error = exc
            logger.error("shadow policy reload rejected: %s", "; ".join(exc.problems))
            return
        self.file_versions["shadow"] = loaded.version
        if self.shadow is None or loaded.version != self.shadow.version:
            self.set_shadow(loaded)

    def follow_pins(self) -> None:
        """Take up the operator's run-time activations kept in the archive.

        Made by this process before a restart, or by another worker or replica: the
        active pin counts only for a file-backed policy, and only while that file is the
        one the pin was made against (an edited file wins).
        """
        if self.archive is None:
            return
        self._pins_checked = time.monotonic()
        stamp = self.archive.pins_stamp()
        if stamp == self._pins_seen:
            return
        self._pins_seen = stamp
        if self.path is not None:
            active = self.archive.pin("active", file_version=self.file_versions["active"])
            pinned = active[0] if active is not None else None
            if pinned is not None and pinned.version != self.active.version:
                self.activate(pinned)
        shadow = self.archive.pin("shadow", file_version=self.file_versions["shadow"])
        if shadow is not None:
            now = self.shadow.version if self.shadow else None
            if (shadow[0].version if shadow[0] else None) != now:
                self.set_shadow(shadow[0])

    def _keep(self, loaded: LoadedPolicy) -> None:
        if self.archive is not None:
            self.archive.keep(loaded)


def _stat(path: Path | None) -> _Signature:
    if path is None:
        return (0, 0, 0)
    try:
        st = os.stat(path)
    except OSError:
        return (-1, -1, -1)  # unreadable: load_policy reports why
    return (st.st_mtime_ns, st.st_size, st.st_ino)
