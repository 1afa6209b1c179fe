"""Operator controls: the policy (read, validate, activate, shadow) and the kill switch."""

from __future__ import annotations

from pathlib import PurePath
from typing import Annotated

from fastapi import APIRouter, Path, Response

from agent.runtime import Arbiter
from api.deps import ArbiterDep, Operator, Staff
from api.errors import ApiError
from api.schemas import (
    KillSwitchBody,
    PolicyBody,
    PolicyInfo,
    PolicyState,
    SwitchView,
    ValidationResult,
)
from arbiter.errors import InputError
from guardrails.kill_switch import checked_scope
from guardrails.policy import LoadedPolicy, PolicyError, parse_policy

router = APIRouter(prefix="/v1")


def _info(loaded: LoadedPolicy) -> PolicyInfo:
    return PolicyInfo(
        name=loaded.policy.name,
        version=loaded.version,
        source=PurePath(loaded.source.split(" ")[0]).name,  # never a server path
        rules=len(loaded.policy.rules),
    )


def _state(arbiter: Arbiter) -> PolicyState:
    store = arbiter.policies
    error = store.last_error
    return PolicyState(
        active=_info(store.active),
        shadow=_info(store.shadow) if store.shadow else None,
        last_reload_error=error.problems if error else None,
    )


def _candidate(arbiter: Arbiter, body: PolicyBody) -> LoadedPolicy:
    """The policy a body names: parsed from its YAML, or from the archive by version."""
    if (body.yaml is None) == (body.version is None):
        raise ApiError(422, "invalid_request", "give exactly one of yaml or version", field="yaml")
    if body.version is not None:
        archive = arbiter.policies.archive
        found = archive.get(body.version) if archive else None
        if found is None:
            raise ApiError(404, "not_found", f"no archived policy {body.version}", field="version")
        return found
    assert body.yaml is not None
    return parse_policy(
        body.yaml.encode(), source="api", known_actions=arbiter.policies.known_actions
    )


@router.get("/policy", tags=["policy"])
async def read_policy(arbiter: ArbiterDep, caller: Staff) -> PolicyState:
    """The enforced policy, the shadow candidate, and the last rejected reload."""
    arbiter.policies.reload()  # what another worker activated, or an edited file
    return _state(arbiter)


@router.post("/policy/validate", tags=["policy"])
async def validate_policy(body: PolicyBody, arbiter: ArbiterDep, caller: Staff) -> ValidationResult:
    """Check a candidate policy without changing anything; problems are named by path."""
    try:
        loaded = _candidate(arbiter, body)
    except PolicyError as exc:
        return ValidationResult(valid=False, problems=exc.problems)
    return ValidationResult(valid=True, version=loaded.version, rules=len(loaded.policy.rules))


@router.post("/policy/activate", tags=["policy"])
async def activate_policy(body: PolicyBody, arbiter: ArbiterDep, caller: Operator) -> PolicyState:
    """Enforce a candidate from the next turn on (turns in flight keep theirs)."""
    arbiter.policies.activate(_candidate(arbiter, body), by=caller.identity)
    return _state(arbiter)


@router.put("/policy/shadow", tags=["policy"])
async def set_shadow(body: PolicyBody, arbiter: ArbiterDep, caller: Operator) -> PolicyState:
    """Evaluate a candidate beside the enforced policy on every turn, recorded, never enforced."""
    arbiter.policies.set_shadow(_candidate(arbiter, body), by=caller.identity)
    return _state(arbiter)


@router.delete("/policy/shadow", tags=["policy"])
async def clear_shadow(arbiter: ArbiterDep, caller: Operator) -> PolicyState:
    """Stop shadow evaluation."""
    arbiter.policies.set_shadow(None, by=caller.identity)
    return _state(arbiter)


@router.get("/kill-switch", tags=["kill switch"])
async def read_switches(arbiter: ArbiterDep, caller: Staff) -> list[SwitchView]:
    """Switches that are on, most general first."""
    return [SwitchView.of(s) for s in arbiter.deps.validator.kill_switch.active()]


@router.post("/kill-switch", status_code=201, tags=["kill switch"])
async def set_switch(body: KillSwitchBody, arbiter: ArbiterDep, caller: Operator) -> SwitchView:
    """Stop an action type, a channel or everything, for every replica at its next verdict."""
    try:
        scope = checked_scope(body.scope)
    except InputError as exc:
        raise ApiError(422, "invalid_request", str(exc), field="scope") from None
    switch = arbiter.deps.validator.kill_switch.set(scope, body.reason, caller.identity)
    return SwitchView.of(switch)


@router.delete("/kill-switch/{scope}", status_code=204, tags=["kill switch"])
async def clear_switch(
    scope: Annotated[str, Path(max_length=80)], arbiter: ArbiterDep, caller: Operator
) -> Response:
    """Turn a switch off."""
    try:
        checked_scope(scope)
    except InputError as exc:
        raise ApiError(422, "invalid_request", str(exc), field="scope") from None
    if not arbiter.deps.validator.kill_switch.clear(scope):
        raise ApiError(404, "not_found", f"kill switch {scope!r} is not on")
    return Response(status_code=204)
