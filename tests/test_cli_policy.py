"""`arbiter policy explain` and `arbiter policy validate` as a risk owner runs them."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from arbiter.cli import app
from guardrails.policy import DEFAULT_POLICY_PATH
from sandbox.seed import SAMPLE_CUSTOMER_ID
from tests.conftest import SANDBOX_NOW

runner = CliRunner()
DISCOUNT = json.dumps(
    {"type": "offer_discount", "params": {"sku": "RUN-00005", "percent": 30, "reason": "goodwill"}}
)


@pytest.fixture(autouse=True)
def data_dir(tmp_path: Path, seeded_sandbox: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    shutil.copy(seeded_sandbox, tmp_path / "sandbox.sqlite")
    monkeypatch.setenv("ARBITER_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("ARBITER_SANDBOX_CLOCK", SANDBOX_NOW)
    return tmp_path


def test_explain_names_the_rules_that_fire_why_and_the_facts(data_dir: Path) -> None:
    result = runner.invoke(app, ["policy", "explain", DISCOUNT, "--customer", SAMPLE_CUSTOMER_ID])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "policy arbiter-default" in out and "deny" in out
    assert "discount.max_percent" in out and "FIRED" in out
    assert "maximum of 20% for running-shoes" in out and "[limit 20, actual 30, headroom 0]" in out
    assert "price.margin_floor" in out and "passed" in out
    assert "product RUN-00005 (catalog)" in out and "price RUN-00005 (pricing)" in out


def test_explain_json_lists_every_covering_rule(data_dir: Path) -> None:
    result = runner.invoke(
        app, ["policy", "explain", DISCOUNT, "--customer", SAMPLE_CUSTOMER_ID, "--json"]
    )
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert body["outcome"] == "deny" and body["rules_evaluated"] is True
    rules = {r["rule_id"]: r for r in body["rules"]}
    assert set(rules) >= {"discount.max_percent", "price.margin_floor", "budget.session_discount"}
    cap = rules["discount.max_percent"]
    assert cap["fired"] and cap["repair"]["limit"] == 20 and cap["repair"]["actual"] == 30
    assert not rules["price.margin_floor"]["fired"]
    assert {f["kind"] for f in body["facts"]} >= {"product", "price", "budget"}
    assert (
        body["policy_version"] == body["policy_version"].lower()
        and len(body["policy_version"]) == 64
    )


def test_explain_under_a_candidate_policy_shows_scopes(data_dir: Path) -> None:
    candidate = data_dir / "candidate.yaml"
    candidate.write_text(
        DEFAULT_POLICY_PATH.read_text()
        + """
  - id: discount.apparel_cap
    kind: max_discount_percent
    actions: [offer_discount]
    params: {default_percent: 25}
    scope: {categories: [apparel]}
"""
    )
    result = runner.invoke(
        app,
        [
            "policy",
            "explain",
            DISCOUNT,
            "-c",
            SAMPLE_CUSTOMER_ID,
            "--policy",
            str(candidate),
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    rules = {r["rule_id"]: r for r in json.loads(result.stdout)["rules"]}
    scoped = rules["discount.apparel_cap"]
    assert scoped["scope"] == {"categories": ["apparel"]}
    assert scoped["in_scope"] is False and scoped["fired"] is False


def test_explain_rejects_bad_input(data_dir: Path) -> None:
    not_json = runner.invoke(app, ["policy", "explain", "{nope", "-c", SAMPLE_CUSTOMER_ID])
    assert not_json.exit_code == 2 and "not valid JSON" in not_json.output
    unknown = runner.invoke(
        app, ["policy", "explain", '{"type": "teleport", "params": {}}', "-c", SAMPLE_CUSTOMER_ID]
    )
    assert unknown.exit_code == 2 and "unknown action type 'teleport'" in unknown.output
    bad = runner.invoke(
        app,
        ["policy", "explain", '{"type": "offer_discount", "params": {}}', "-c", SAMPLE_CUSTOMER_ID],
    )
    assert bad.exit_code == 2 and "invalid params for offer_discount" in bad.output


def test_explain_an_unknown_customer_fails_plainly(data_dir: Path) -> None:
    result = runner.invoke(app, ["policy", "explain", DISCOUNT, "-c", "C9999999"])
    assert result.exit_code != 0 and "unknown customer" in result.output


def test_validate_names_a_bad_scope_field(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        DEFAULT_POLICY_PATH.read_text().replace(
            "    actions: [offer_discount]\n    params:\n      default_percent: 15",
            "    actions: [offer_discount]\n    scope: {colour: [red], channels: [kiosk]}\n"
            "    params:\n      default_percent: 15",
        )
    )
    result = runner.invoke(app, ["policy", "validate", str(bad)])
    assert result.exit_code == 1
    assert "rules[1].scope.colour" in result.output
    assert "rules[1].scope.channels[0]" in result.output
