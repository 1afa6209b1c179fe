"""Policy conformance on the tau-bench retail peer data (evals.conformance)."""

from __future__ import annotations

from pathlib import Path

import pytest

from evals.conformance import DEFAULT_PEERS, SETS, run_set
from evals.conformance_report import markdown, write_markdown
from evals.retail_variants import FAMILIES

pytestmark = pytest.mark.skipif(
    not all((DEFAULT_PEERS / folder).is_dir() for folder in SETS.values()),
    reason="peer data (../shared/peers) not present",
)

ORIGINAL_SAMPLE = [
    "test:0",
    "test:1",
    "test:12",
    "test:13",
    "test:18",
    "test:64",
    "test:91",
    "test:106",
    "test:108",
    "train:24",
    "train:5",
]


async def test_every_tau2_gold_write_is_allowed_and_every_variant_denied(tmp_path: Path) -> None:
    report = await run_set("tau2", workdir=tmp_path, concurrency=4)

    assert report.tasks == 114
    assert report.task_errors == []
    assert len(report.gold) == 176
    assert report.false_blocks == []
    assert report.execution_errors == []
    expected = {
        (g.task_id, g.action): g.rule_ids for g in report.gold if g.outcome == "expected_denial"
    }
    assert expected == {
        ("64", "exchange_delivered_order_items"): ("retail.delivered_only",),
        ("105", "exchange_delivered_order_items"): ("retail.gift_card_covers",),
    }
    missed = [v for v in report.variants if v.outcome != "caught"]
    assert missed == []
    counts = report.family_counts()
    for family, (_, in_issue) in FAMILIES.items():
        if in_issue:
            assert counts[family]["generated"] > 0, family


async def test_original_sample_lists_false_blocks_with_reasons(tmp_path: Path) -> None:
    report = await run_set("original", task_ids=ORIGINAL_SAMPLE, workdir=tmp_path)

    assert report.task_errors == []
    assert report.execution_errors == []
    blocks = {(g.task_id, g.index): g for g in report.false_blocks}
    expected_rules = {
        ("test:12", 0): "retail.refund_destination",
        ("test:13", 0): "retail.refund_destination",
        ("test:18", 0): "retail.different_option",
        ("test:64", 0): "retail.delivered_only",
        ("test:91", 1): "retail.different_option",
        ("test:106", 0): "retail.gift_card_covers",
        ("test:108", 0): "retail.different_option",
        ("train:24", 0): "retail.gift_card_covers",
        ("train:5", 1): "retail.different_option",
    }
    assert set(blocks) == set(expected_rules)
    for key, rule in expected_rules.items():
        assert blocks[key].rule_ids == (rule,)
        assert blocks[key].reasons and all(blocks[key].reasons)
    assert all(v.outcome == "caught" for v in report.variants)

    text = markdown([report])
    assert "False blocks (9)" in text
    assert "task defect: the gold maps an item to the identical item" in text


def test_write_markdown_replaces_only_the_generated_section(tmp_path: Path) -> None:
    from evals.conformance import SetReport

    path = tmp_path / "conformance.md"
    path.write_text("intro\n<!-- conformance:begin -->\nSTALE\n<!-- conformance:end -->\nafter\n")
    write_markdown([SetReport("tau2", tasks=1)], path)
    text = path.read_text()
    assert text.startswith("intro\n<!-- conformance:begin -->\n### tau2")
    assert "STALE" not in text
    assert text.endswith("<!-- conformance:end -->\nafter\n")
