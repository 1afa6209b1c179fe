"""Audit tooling as a user runs it: prompts, chain verify/export/prune, receipts, trace."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from arbiter.cli import app
from prompts.registry import get_template
from sandbox.seed import SAMPLE_CUSTOMER_ID
from tests.conftest import SANDBOX_NOW

runner = CliRunner()


@pytest.fixture
def data_dir(tmp_path: Path, seeded_sandbox: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    shutil.copy(seeded_sandbox, tmp_path / "sandbox.sqlite")
    monkeypatch.setenv("ARBITER_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("ARBITER_SANDBOX_CLOCK", SANDBOX_NOW)
    return tmp_path


def _ask(text: str) -> dict[str, object]:
    result = runner.invoke(app, ["ask", text, "--customer", SAMPLE_CUSTOMER_ID, "--json"])
    assert result.exit_code == 0, result.output
    record: dict[str, object] = json.loads(result.stdout)["record"]
    return record


@pytest.fixture
def turns(data_dir: Path) -> list[dict[str, object]]:
    """Three recorded turns: a greeting, an executed add_to_cart, a denied discount."""
    return [_ask("hello"), _ask("add RUN-00005 to my cart"), _ask("can I get 50% off RUN-00012?")]


def test_prompts_list_shows_every_template_with_its_hash() -> None:
    result = runner.invoke(app, ["prompts", "list"])
    assert result.exit_code == 0, result.output
    template = get_template("shopper.system")
    assert "shopper.system" in result.output and "respond.final" in result.output
    assert template.sha256[:12] in result.output


@pytest.mark.parametrize("ref", ["shopper.system", "shopper.system@1"])
def test_prompts_show_prints_front_matter_hash_and_body(ref: str) -> None:
    result = runner.invoke(app, ["prompts", "show", ref])
    assert result.exit_code == 0, result.output
    template = get_template("shopper.system", 1)
    assert f"sha256: {template.sha256}" in result.output and "lock:   matches" in result.output
    assert "id: shopper.system" in result.output and "version: 1" in result.output
    assert template.body.splitlines()[0] in result.output


@pytest.mark.parametrize(
    ("ref", "message"),
    [
        ("nope", "no prompt template nope"),
        ("shopper.system@9", "no prompt template shopper.system@9"),
        ("shopper.system@x", "the version after @ must be a number"),
    ],
)
def test_prompts_show_unknown_is_one_line_exit_2(ref: str, message: str) -> None:
    result = runner.invoke(app, ["prompts", "show", ref])
    assert result.exit_code == 2 and message in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_audit_verify_counts_an_intact_chain(turns: list[dict[str, object]]) -> None:
    result = runner.invoke(app, ["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert "ok: chain intact, 3 records verified" in result.output
    as_json = json.loads(runner.invoke(app, ["audit", "verify", "--json"]).stdout)
    assert as_json["ok"] and as_json["head_hash"] == turns[-1]["record_hash"]


def test_audit_verify_names_the_tampered_turn(
    data_dir: Path, turns: list[dict[str, object]]
) -> None:
    with sqlite3.connect(data_dir / "audit.sqlite") as conn:
        conn.execute(
            'UPDATE decision_records SET record = replace(record, \'"outcome":"allow"\','
            ' \'"outcome":"deny"\') WHERE seq = 2'
        )
    result = runner.invoke(app, ["audit", "verify"])
    assert result.exit_code == 1
    assert f"BROKEN at seq 2 (turn {turns[1]['turn_id']})" in result.output
    assert "content was changed" in result.output


def test_audit_verify_without_a_store_is_exit_2(data_dir: Path) -> None:
    result = runner.invoke(app, ["audit", "verify"])
    assert result.exit_code == 2 and "no audit store" in result.output
    assert not (data_dir / "audit.sqlite").exists()


def test_audit_export_jsonl_is_one_record_per_line_in_chain_order(
    turns: list[dict[str, object]],
) -> None:
    result = runner.invoke(app, ["audit", "export", "--since", "24h", "--format", "jsonl"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    records = [json.loads(line) for line in lines]
    assert [r["turn_id"] for r in records] == [t["turn_id"] for t in turns]
    assert all(
        b["prev_hash"] == a["record_hash"] for a, b in zip(records, records[1:], strict=False)
    )
    assert records == turns
    future = runner.invoke(app, ["audit", "export", "--since", "2999-01-01"])
    assert future.exit_code == 0 and future.stdout == ""


def test_audit_export_json_to_a_file(tmp_path: Path, turns: list[dict[str, object]]) -> None:
    target = tmp_path / "export.json"
    result = runner.invoke(app, ["audit", "export", "--format", "json", "--out", str(target)])
    assert result.exit_code == 0 and f"wrote 3 records to {target}" in result.output
    assert [r["turn_id"] for r in json.loads(target.read_text())] == [t["turn_id"] for t in turns]


def test_audit_export_rejects_a_bad_since(turns: list[dict[str, object]]) -> None:
    result = runner.invoke(app, ["audit", "export", "--since", "yesterday"])
    assert result.exit_code == 2 and "use a span like 24h" in result.output


def test_audit_receipt_writes_a_verifiable_file(
    tmp_path: Path, turns: list[dict[str, object]]
) -> None:
    turn_id = str(turns[1]["turn_id"])
    out_dir = tmp_path / "receipts"
    result = runner.invoke(app, ["audit", "receipt", turn_id, "--out", str(out_dir)])
    assert result.exit_code == 0, result.output
    (path,) = out_dir.iterdir()
    doc = json.loads(path.read_text())
    assert doc["action"]["type"] == "add_to_cart" and doc["record_hash"] == turns[1]["record_hash"]
    assert path.name == f"{turn_id}.{doc['action']['action_id']}.receipt.json"
    checked = runner.invoke(app, ["audit", "verify-receipt", str(path)])
    assert checked.exit_code == 0, checked.output
    assert f"ok: receipt for turn {turn_id}, add_to_cart" in checked.output

    doc["verdict"]["rule_ids"] = ["made.up"]
    path.write_text(json.dumps(doc))
    tampered = runner.invoke(app, ["audit", "verify-receipt", str(path)])
    assert (
        tampered.exit_code == 1 and "verdict.rule_ids does not match the record" in tampered.output
    )


def test_audit_receipt_for_a_turn_without_actions_writes_nothing(
    tmp_path: Path, turns: list[dict[str, object]]
) -> None:
    out_dir = tmp_path / "none"
    result = runner.invoke(
        app, ["audit", "receipt", str(turns[0]["turn_id"]), "--out", str(out_dir)]
    )
    assert result.exit_code == 0 and "executed no action" in result.output
    assert not out_dir.exists()
    unknown = runner.invoke(app, ["audit", "receipt", "turn_nope"])
    assert unknown.exit_code == 2 and "unknown turn turn_nope" in unknown.output


def test_verify_receipt_rejects_a_file_that_is_not_json(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{nope")
    result = runner.invoke(app, ["audit", "verify-receipt", str(bad)])
    assert result.exit_code == 2 and "is not JSON" in " ".join(result.output.split())


def test_trace_shows_tools_verdicts_and_executions(turns: list[dict[str, object]]) -> None:
    added = runner.invoke(app, ["trace", str(turns[1]["turn_id"])])
    assert added.exit_code == 0, added.output
    execution = turns[1]["executions"][0]  # type: ignore[index]
    for text in ("steps", "guard_input", "shopper.system@1", "add_to_cart", "verdict allow"):
        assert text in added.output
    assert f"key {execution['idempotency_key']}" in added.output
    assert "✓ verified" in added.output

    denied = runner.invoke(app, ["trace", str(turns[2]["turn_id"])])
    assert denied.exit_code == 0, denied.output
    verdict = turns[2]["verdicts"][0]  # type: ignore[index]
    rule_ids = [hit["rule_id"] for hit in verdict["hits"]]
    assert rule_ids and all(rule in denied.output for rule in rule_ids)
    assert "verdict deny" in denied.output and "exceeds the maximum" in denied.output

    priced = _ask("how much is RUN-00005?")
    read = runner.invoke(app, ["trace", str(priced["turn_id"])])
    assert read.exit_code == 0 and "tools (1)" in read.output
    assert 'get_price {"sku": "RUN-00005"} · ok ·' in read.output and "1 attempt" in read.output


def test_trace_unknown_turn_is_one_line_exit_2(turns: list[dict[str, object]]) -> None:
    result = runner.invoke(app, ["trace", "turn_nope"])
    assert result.exit_code == 2 and result.output.strip() == "error: unknown turn turn_nope"


def test_audit_prune_anchors_and_verify_still_passes(
    data_dir: Path, turns: list[dict[str, object]], monkeypatch: pytest.MonkeyPatch
) -> None:
    nothing = runner.invoke(app, ["audit", "prune", "--older-than", "30d"])
    assert nothing.exit_code == 0 and "nothing to prune" in nothing.output
    missing = runner.invoke(app, ["audit", "prune"])
    assert missing.exit_code == 2 and "ARBITER_AUDIT_RETENTION_DAYS" in missing.output

    pruned = runner.invoke(app, ["audit", "prune", "--older-than", "0s"])
    assert pruned.exit_code == 0, pruned.output
    assert "pruned 3 records" in pruned.output and "anchored at seq 3" in pruned.output
    _ask("hello")
    verified = runner.invoke(app, ["audit", "verify"])
    assert verified.exit_code == 0, verified.output
    assert "1 record verified" in verified.output and "anchored at seq 3" in verified.output

    monkeypatch.setenv("ARBITER_AUDIT_RETENTION_DAYS", "30")
    by_setting = runner.invoke(app, ["audit", "prune"])
    assert by_setting.exit_code == 0 and "nothing to prune" in by_setting.output
