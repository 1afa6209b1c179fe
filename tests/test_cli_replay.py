"""`arbiter replay` and `arbiter policy simulate` as an operator runs them."""

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


@pytest.fixture
def recorded(tmp_path: Path, seeded_sandbox: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """A conversation with an executed 10% discount and a denied 50% one; its turn ids."""
    shutil.copy(seeded_sandbox, tmp_path / "sandbox.sqlite")
    monkeypatch.setenv("ARBITER_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("ARBITER_SANDBOX_CLOCK", SANDBOX_NOW)
    first = runner.invoke(
        app, ["ask", "add RUN-00005 to my cart", "-c", SAMPLE_CUSTOMER_ID, "--json"]
    )
    session = json.loads(first.stdout)["record"]["session_id"]
    turns = [json.loads(first.stdout)["record"]["turn_id"]]
    for text in ("can I get 10% off RUN-00005?", "can I get 50% off RUN-00005?"):
        result = runner.invoke(app, ["ask", text, "--session", session, "--json"])
        turns.append(json.loads(result.stdout)["record"]["turn_id"])
    return turns


@pytest.fixture
def strict_policy(tmp_path: Path) -> Path:
    path = tmp_path / "strict.yaml"
    path.write_bytes(
        DEFAULT_POLICY_PATH.read_bytes().replace(b"running-shoes: 20", b"running-shoes: 5")
    )
    return path


def test_replay_reproduces_the_recorded_verdicts(recorded: list[str]) -> None:
    for turn_id in recorded:
        result = runner.invoke(app, ["replay", turn_id])
        assert result.exit_code == 0, result.output
        assert "verdicts identical: yes" in result.output
        assert "prompts identical: yes" in result.output


def test_replay_under_another_policy_shows_the_difference(
    recorded: list[str], strict_policy: Path
) -> None:
    result = runner.invoke(app, ["replay", recorded[1], "--policy", str(strict_policy), "--json"])
    assert result.exit_code == 0
    report = json.loads(result.stdout)
    [verdict] = report["verdicts"]
    assert (verdict["recorded"], verdict["replayed"]) == ("allow", "deny")
    assert verdict["replayed_rules"] == ["discount.max_percent"]


def test_replay_of_an_unknown_turn_is_one_line(recorded: list[str]) -> None:
    result = runner.invoke(app, ["replay", "turn_nope"])
    assert result.exit_code == 2 and "no recorded turn turn_nope" in result.output


def test_simulation_finds_the_discount_a_stricter_policy_blocks(
    recorded: list[str], strict_policy: Path
) -> None:
    result = runner.invoke(
        app, ["policy", "simulate", str(strict_policy), "--since", "1h", "--json"]
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["turns"] == 3
    [finding] = report["findings"]
    assert finding["change"] == "would block" and finding["turn_id"] == recorded[1]
    assert finding["type"] == "offer_discount"
    lenient = runner.invoke(app, ["policy", "simulate", str(DEFAULT_POLICY_PATH), "--json"])
    assert json.loads(lenient.stdout)["findings"] == []
