"""Decision receipts: one per executed action, verifiable with nothing but the document."""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Callable
from typing import Any

import pytest

from agent.audit_chain import GENESIS
from agent.receipts import HOW_TO_VERIFY, RECEIPT_VERSION, build_receipts, verify_receipt
from agent.runtime import Arbiter
from sandbox.seed import SAMPLE_CUSTOMER_ID


async def _receipts(arbiter: Arbiter, *messages: str) -> tuple[str, list[dict[str, Any]]]:
    session = await arbiter.start_session(SAMPLE_CUSTOMER_ID)
    turn_id = ""
    for message in messages:
        turn_id = (await arbiter.ask(session.session_id, message)).record.turn_id
    row = arbiter.deps.audit.get_row(turn_id)
    assert row is not None
    return turn_id, build_receipts(row)


async def test_an_executed_add_to_cart_gets_one_valid_receipt(arbiter: Arbiter) -> None:
    turn_id, receipts = await _receipts(arbiter, "hello", "add RUN-00005 to my cart")
    (doc,) = receipts
    assert verify_receipt(doc) == []
    assert doc["receipt_version"] == RECEIPT_VERSION and doc["how_to_verify"] == HOW_TO_VERIFY
    action = doc["action"]
    assert action["type"] == "add_to_cart" and action["status"] == "executed"
    assert action["params"] == {"sku": "RUN-00005", "quantity": 1}
    assert action["idempotency_key"] == f"arb-{turn_id}-{action['action_id']}"
    assert action["result"]["lines"][0]["sku"] == "RUN-00005"
    verdict = doc["verdict"]
    assert verdict["outcome"] == "allow" and len(verdict["policy_version"]) == 64
    assert {f["kind"] for f in verdict["facts"]} >= {"product", "stock"}
    assert doc["approval"] is None and doc["budget"] is None
    lineage = doc["lineage"]
    assert lineage["template_id"] == "shopper.system" and lineage["endpoint_kind"] == "offline"
    assert len(lineage["rendered_messages_sha256"]) == 64 and lineage["tool_call_id"]
    assert doc["prev_hash"] != GENESIS and doc["turn"]["turn_id"] == turn_id


async def test_record_hash_is_recomputable_from_the_receipt_alone(arbiter: Arbiter) -> None:
    turn_id, (doc,) = await _receipts(arbiter, "add RUN-00005 to my cart")
    # the recipe, exactly as how_to_verify states it, with only the standard library
    canonical = json.dumps(doc["record"], sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    recomputed = hashlib.sha256(f"{doc['prev_hash']}\n{canonical}".encode()).hexdigest()
    stored = arbiter.deps.audit.get(turn_id)
    assert stored is not None and recomputed == doc["record_hash"] == stored.record_hash
    unsealed = {k: v for k, v in doc.items() if k != "receipt_sha256"}
    sealed = json.dumps(unsealed, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert hashlib.sha256(sealed.encode()).hexdigest() == doc["receipt_sha256"]


async def test_a_receipt_survives_a_json_round_trip(arbiter: Arbiter) -> None:
    _, (doc,) = await _receipts(arbiter, "add RUN-00005 to my cart")
    assert verify_receipt(json.loads(json.dumps(doc, indent=2, ensure_ascii=False))) == []


async def test_a_turn_without_an_executed_action_has_no_receipt(arbiter: Arbiter) -> None:
    _, receipts = await _receipts(arbiter, "how much is RUN-00005?")
    assert receipts == []


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(doc: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        target: Any = doc
        for name in parents:
            target = target[int(name)] if isinstance(target, list) else target[name]
        target[last] = value

    return change


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (_set("action.params.quantity", 5), "action.params.quantity does not match the record"),
        (_set("action.idempotency_key", "k"), "action.idempotency_key does not match the record"),
        (_set("verdict.outcome", "deny"), "verdict.outcome does not match the record"),
        (_set("verdict.rule_ids", ["x"]), "verdict.rule_ids does not match the record"),
        (_set("lineage.model", "gpt-9"), "lineage.model does not match the record"),
        (_set("record.final_text", "edited"), "record_hash does not match the record"),
        (_set("record.executions.0.params.quantity", 7), "record_hash does not match"),
        (_set("prev_hash", "1" * 64), "record_hash does not match the record"),
        (_set("record_hash", "a" * 64), "record_hash does not match the record"),
        (_set("receipt_version", "v0"), "unknown receipt_version 'v0'"),
    ],
)
async def test_altering_any_field_is_reported(
    arbiter: Arbiter, change: Callable[[dict[str, Any]], None], expected: str
) -> None:
    _, (original,) = await _receipts(arbiter, "add RUN-00005 to my cart")
    doc = copy.deepcopy(original)
    change(doc)
    problems = verify_receipt(doc)
    assert problems and any(expected in p for p in problems), problems
    if doc["receipt_version"] == RECEIPT_VERSION:
        assert any("receipt_sha256 does not match" in p for p in problems)


async def test_a_resealed_forgery_is_still_caught_by_the_record(arbiter: Arbiter) -> None:
    _, (original,) = await _receipts(arbiter, "add RUN-00005 to my cart")
    doc = copy.deepcopy(original)
    doc["action"]["params"]["quantity"] = 50
    unsealed = {k: v for k, v in doc.items() if k != "receipt_sha256"}
    canonical = json.dumps(unsealed, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    doc["receipt_sha256"] = hashlib.sha256(canonical.encode()).hexdigest()
    assert verify_receipt(doc) == ["action.params.quantity does not match the record"]


def test_malformed_documents_are_problems_not_crashes() -> None:
    assert verify_receipt([]) == ["the receipt is not a JSON object"]
    assert verify_receipt({"receipt_version": RECEIPT_VERSION}) == [
        "missing fields: prev_hash, record_hash, record, receipt_sha256, turn, action,"
        " verdict, budget, approval, lineage"
    ]
