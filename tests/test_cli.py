"""The CLI as a user runs it: answers, JSON records, one-line errors and exit codes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from arbiter.cli import app
from sandbox.seed import SAMPLE_CUSTOMER_ID
from tests.conftest import SANDBOX_NOW

runner = CliRunner()


@pytest.fixture
def data_dir(tmp_path: Path, seeded_sandbox: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    shutil.copy(seeded_sandbox, tmp_path / "sandbox.sqlite")
    monkeypatch.setenv("ARBITER_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("ARBITER_SANDBOX_CLOCK", SANDBOX_NOW)
    return tmp_path


def test_ask_json_prints_the_answer_and_the_full_record(data_dir: Path) -> None:
    result = runner.invoke(
        app, ["ask", "how much is RUN-00005?", "--customer", SAMPLE_CUSTOMER_ID, "--json"]
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    record = payload["record"]
    assert payload["answer"] == record["final_text"]
    assert record["principal"] == {"customer_id": SAMPLE_CUSTOMER_ID, "channel": "shopper"}
    call = record["llm_calls"][0]
    assert call["template_id"] == "shopper.system" and len(call["template_sha256"]) == 64
    assert call["endpoint_kind"] == "offline" and len(record["policy_version"]) == 64
    assert record["context"][0]["tool"] == "get_price" and record["record_hash"]


def test_ask_plain_shows_the_planner_and_the_decision_panel(data_dir: Path) -> None:
    result = runner.invoke(app, ["ask", "hello", "--customer", SAMPLE_CUSTOMER_ID])
    assert result.exit_code == 0
    assert "offline" in result.output and "decision" in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["ask", "hi", "--customer", "C9999"], "unknown customer 'C9999'"),
        (["ask", "   ", "--customer", SAMPLE_CUSTOMER_ID], "the message is empty"),
        (["ask", "x" * 5000, "--customer", SAMPLE_CUSTOMER_ID], "the limit is 4000"),
        (["ask", "hi", "--session", "ses_nope"], "unknown session ses_nope"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(data_dir: Path, args: list[str], message: str) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert message in result.output
    assert not (data_dir / "audit.sqlite").exists() or _records(data_dir) == 0


def test_malformed_policy_file_is_reported_with_its_path(
    data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "name: x\nrules:\n  - {id: a, kind: max_discount_percent, actions: [offer_discount],"
        " params: {default_percent: -5}}\n"
    )
    result = runner.invoke(app, ["policy", "validate", str(bad)])
    assert result.exit_code == 1 and "rules[0].params.default_percent" in result.output
    monkeypatch.setenv("ARBITER_POLICY_FILE", str(bad))
    asked = runner.invoke(app, ["ask", "hi", "--customer", SAMPLE_CUSTOMER_ID])
    assert asked.exit_code == 1 and "rules[0].params.default_percent" in asked.output


def test_policy_validate_accepts_the_default(data_dir: Path) -> None:
    result = runner.invoke(app, ["policy", "validate", "guardrails/policies/default.yaml"])
    assert result.exit_code == 0 and "ok:" in result.output


def test_unreachable_capability_services_fail_with_one_line(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ARBITER_SANDBOX_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("ARBITER_TOOL_MAX_ATTEMPTS", "2")
    result = runner.invoke(app, ["ask", "hi", "--customer", SAMPLE_CUSTOMER_ID])
    assert result.exit_code == 1
    assert "customers service unavailable" in result.output


def test_customers_lists_the_sample_customers(data_dir: Path) -> None:
    result = runner.invoke(app, ["customers", "--limit", "60"])
    assert result.exit_code == 0 and SAMPLE_CUSTOMER_ID in result.output
    assert result.output.count("C1") >= 50


def _records(data_dir: Path) -> int:
    import sqlite3

    with sqlite3.connect(data_dir / "audit.sqlite") as conn:
        return int(conn.execute("SELECT COUNT(*) FROM decision_records").fetchone()[0])


def test_a_session_continues_and_keeps_its_customer(data_dir: Path) -> None:
    first = runner.invoke(
        app, ["ask", "add RUN-00005 to my cart", "-c", SAMPLE_CUSTOMER_ID, "--json"]
    )
    session = json.loads(first.stdout)["record"]["session_id"]
    follow = runner.invoke(app, ["ask", "what's in my cart?", "--session", session, "--json"])
    assert follow.exit_code == 0 and "RUN-00005" in json.loads(follow.stdout)["answer"]
    other = runner.invoke(app, ["ask", "hi", "--session", session, "--customer", "C1002"])
    assert other.exit_code == 2 and f"belongs to customer {SAMPLE_CUSTOMER_ID}" in other.output
