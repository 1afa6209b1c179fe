from pathlib import Path

import pytest

from guardrails.policy import DEFAULT_POLICY_PATH, PolicyError, load_policy, parse_policy
from tools.registry import ACTION_TOOLS

ACTIONS = {t.name for t in ACTION_TOOLS}


def test_default_policy_loads_and_version_is_content_hash() -> None:
    loaded = load_policy(known_actions=ACTIONS)
    assert loaded.policy.rules
    again = parse_policy(DEFAULT_POLICY_PATH.read_bytes())
    assert again.version == loaded.version
    edited = parse_policy(DEFAULT_POLICY_PATH.read_bytes() + b"\n# comment\n")
    assert edited.version != loaded.version


def test_every_problem_is_reported_with_its_path() -> None:
    raw = b"""
name: broken
rules:
  - id: a
    kind: max_discount_percent
    actions: [offer_discount]
    params: {default_percent: 150}
  - id: b
    kind: margin_floor
    actions: [offer_discount]
    params: {min_margin: 0.1, surprise: 1}
"""
    with pytest.raises(PolicyError) as info:
        parse_policy(raw)
    problems = info.value.problems
    assert any(p.startswith("rules[0].params.default_percent") for p in problems)
    assert any(p.startswith("rules[1].params.surprise") for p in problems)


def test_unknown_action_type_and_duplicate_ids_are_rejected() -> None:
    raw = b"""
name: x
rules:
  - {id: a, kind: stock_available, actions: [add_to_kart]}
"""
    with pytest.raises(PolicyError, match=r"rules\[0\].actions: unknown action type 'add_to_kart'"):
        parse_policy(raw, known_actions=ACTIONS)
    dup = b"""
name: x
rules:
  - {id: a, kind: stock_available, actions: [add_to_cart]}
  - {id: a, kind: delivery_confirmed, actions: [promise_delivery]}
"""
    with pytest.raises(PolicyError, match="duplicate rule id"):
        parse_policy(dup)


def test_invalid_yaml_names_the_line(tmp_path: Path) -> None:
    bad = tmp_path / "p.yaml"
    bad.write_text("name: x\nrules: [\n  - {id: a\n")
    with pytest.raises(PolicyError, match="line"):
        load_policy(bad)


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="cannot read file"):
        load_policy(tmp_path / "nope.yaml")
