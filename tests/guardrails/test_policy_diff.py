from pathlib import Path

from typer.testing import CliRunner

from arbiter.cli import app
from guardrails.policy import DEFAULT_POLICY_PATH, parse_policy
from guardrails.policy_diff import diff_policies

BASE = DEFAULT_POLICY_PATH.read_bytes()


def test_added_removed_and_changed_rules_are_named() -> None:
    candidate = BASE.replace(b"running-shoes: 20", b"running-shoes: 5")
    candidate = candidate.replace(b"  - id: price.map_floor", b"  - id: price.map_floor_v2")
    result = diff_policies(parse_policy(BASE), parse_policy(candidate))
    assert [r["id"] for r in result.added] == ["price.map_floor_v2"]
    assert [r["id"] for r in result.removed] == ["price.map_floor"]
    [change] = result.changed
    assert change.rule_id == "discount.max_percent"
    assert [(c.path, c.before, c.after) for c in change.changes] == [
        ("params.by_category.running-shoes", 20.0, 5.0)
    ]


def test_comments_change_the_version_but_not_the_rules() -> None:
    result = diff_policies(parse_policy(BASE), parse_policy(BASE + b"\n# note\n"))
    assert result.identical and result.version_a != result.version_b


def test_cli_exit_codes(tmp_path: Path) -> None:
    candidate = tmp_path / "c.yaml"
    candidate.write_bytes(BASE.replace(b"max_amount: 60", b"max_amount: 40"))
    runner = CliRunner()
    changed = runner.invoke(app, ["policy", "diff", str(DEFAULT_POLICY_PATH), str(candidate)])
    assert changed.exit_code == 1 and "params.max_amount: 60.0 -> 40.0" in changed.output
    same = runner.invoke(
        app, ["policy", "diff", str(DEFAULT_POLICY_PATH), str(DEFAULT_POLICY_PATH)]
    )
    assert same.exit_code == 0 and "no rule differs" in same.output
    broken = tmp_path / "b.yaml"
    broken.write_text("name: x\nrules: []\n")
    bad = runner.invoke(app, ["policy", "diff", str(DEFAULT_POLICY_PATH), str(broken)])
    assert bad.exit_code == 2 and "rules" in bad.output
