"""Portable decision receipts: one self-contained JSON document per executed action.

A receipt lets someone outside Arbiter — a merchant, a payment provider, an auditor —
check what was done and why without access to Arbiter's store or code. It carries
the whole decision record body as stored, so its ``record_hash`` can be recomputed,
and summary sections (action, verdict, budget, approval, lineage) that must be exact
copies of parts of that body. ``receipt_sha256`` seals the document itself.

Every section is derived from the record body by :func:`_sections`, the same code
for issuing and for checking: a receipt verifies only if re-deriving its sections
from its own record gives what it says.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from agent.audit_chain import StoredRow, body_of, canonical_json, chain_hash

RECEIPT_VERSION = "arbiter.receipt/1"
HOW_TO_VERIFY = (
    "canonical(x) = json.dumps(x, sort_keys=True, separators=(',', ':'), ensure_ascii=False)"
    " encoded as UTF-8; sha256 values are lowercase hex. "
    "1) record_hash == sha256(prev_hash + '\\n' + canonical(record)). "
    "2) receipt_sha256 == sha256(canonical(this document without the receipt_sha256 key)). "
    "3) turn, action, verdict, budget, approval and lineage are copies of parts of record: "
    "the execution, proposal and verdict whose action_id equals action.action_id, and "
    "record.llm_calls[proposal.llm_call_index]. "
    "4) record_hash must also appear in the operator's audit chain "
    "(`arbiter audit export`: the record with this turn_id, and the next record's prev_hash)."
)
_SECTIONS = ("turn", "action", "verdict", "budget", "approval", "lineage")
_LINEAGE_FIELDS = (
    "template_id",
    "template_version",
    "template_sha256",
    "rendered_messages_sha256",
    "model",
    "response_model",
    "endpoint_kind",
    "params",
    "response_id",
    "tool_schema_sha256",
)


class ReceiptError(ValueError):
    """The record does not hold what a receipt needs (e.g. no such executed action)."""


def build_receipts(row: StoredRow) -> list[dict[str, Any]]:
    """One receipt per executed action of a stored record (empty when none ran)."""
    stored: dict[str, Any] = json.loads(row.record)
    record = body_of(stored)
    executed = [e for e in record.get("executions", []) if e.get("status") == "executed"]
    return [
        _seal(
            {
                "receipt_version": RECEIPT_VERSION,
                **_sections(record, str(execution["action_id"])),
                "prev_hash": row.prev_hash,
                "record_hash": row.record_hash,
                "record": record,
                "how_to_verify": HOW_TO_VERIFY,
            }
        )
        for execution in executed
    ]


def receipt_sha256(doc: dict[str, Any]) -> str:
    """sha256 of the receipt's canonical JSON without its ``receipt_sha256`` field."""
    unsealed = {k: v for k, v in doc.items() if k != "receipt_sha256"}
    return hashlib.sha256(canonical_json(unsealed).encode()).hexdigest()


def verify_receipt(doc: Any) -> list[str]:
    """Every problem found in a receipt; an empty list means it is valid."""
    if not isinstance(doc, dict):
        return ["the receipt is not a JSON object"]
    if doc.get("receipt_version") != RECEIPT_VERSION:
        return [f"unknown receipt_version {doc.get('receipt_version')!r}"]
    required = ("prev_hash", "record_hash", "record", "receipt_sha256", *_SECTIONS)
    missing = [name for name in required if name not in doc]
    if missing:
        return [f"missing fields: {', '.join(missing)}"]
    problems: list[str] = []
    sealed = receipt_sha256(doc)
    if doc["receipt_sha256"] != sealed:
        problems.append(
            f"receipt_sha256 does not match the document (recomputed {sealed[:12]}…):"
            " the receipt was changed after it was issued"
        )
    record = doc["record"]
    if not isinstance(record, dict):
        return [*problems, "record is not a JSON object"]
    recomputed = chain_hash(str(doc["prev_hash"]), body_of(record))
    if doc["record_hash"] != recomputed:
        problems.append(
            f"record_hash does not match the record (recomputed {recomputed[:12]}…):"
            " the record body or prev_hash was changed"
        )
    action = doc["action"]
    action_id = action.get("action_id") if isinstance(action, dict) else None
    try:
        expected = _sections(record, str(action_id))
    except (ReceiptError, KeyError, TypeError, AttributeError, IndexError) as exc:
        return [*problems, f"the record does not back this receipt: {exc}"]
    for name in _SECTIONS:
        path = _first_difference(doc[name], expected[name], name)
        if path is not None:
            problems.append(f"{path} does not match the record")
    if expected["verdict"]["outcome"] != "allow":
        problems.append("the record shows no allow verdict for this executed action")
    return problems


def _sections(record: dict[str, Any], action_id: str) -> dict[str, Any]:
    """The receipt's summary sections for one action, derived from the record body."""
    execution = _by_action(record.get("executions", []), action_id, "executed action")
    if execution.get("status") != "executed":
        raise ReceiptError(f"action {action_id} was not executed ({execution.get('status')})")
    proposal = _by_action(record.get("proposals", []), action_id, "proposal", key="id")
    verdict = _by_action(record.get("verdicts", []), action_id, "verdict")
    index, calls = int(proposal["llm_call_index"]), record.get("llm_calls", [])
    call = calls[index] if 0 <= index < len(calls) else {}  # proposed by an MCP client
    hits = verdict.get("hits", [])
    approvals = [a for a in record.get("approvals", []) if a.get("action_id") == action_id]
    budget = verdict.get("budget")
    return {
        "turn": {
            "turn_id": record["turn_id"],
            "session_id": record["session_id"],
            "principal": record["principal"],
            "started_at": record["started_at"],
            "finished_at": record["finished_at"],
        },
        "action": {
            "action_id": action_id,
            "type": execution["type"],
            "params": execution["params"],
            "proposed_params": proposal["params"],
            "idempotency_key": execution["idempotency_key"],
            "status": execution["status"],
            "result": execution.get("result"),
            "started_at": execution["started_at"],
        },
        "verdict": {
            "outcome": verdict["outcome"],
            "rule_ids": [h["rule_id"] for h in hits],
            "reasons": [h["reason"] for h in hits],
            "policy_version": verdict["policy_version"],
            "facts": verdict.get("facts", []),
        },
        "budget": (
            None
            if budget is None and execution.get("budget_entry") is None
            else {"entry": execution.get("budget_entry"), "claim": budget}
        ),
        "approval": approvals[-1] if approvals else None,
        "lineage": {
            "llm_call_index": proposal["llm_call_index"],
            "tool_call_id": proposal["call_id"],
            **{name: call.get(name) for name in _LINEAGE_FIELDS},
        },
    }


def _by_action(
    items: list[dict[str, Any]], action_id: str, what: str, *, key: str = "action_id"
) -> dict[str, Any]:
    matches = [item for item in items if item.get(key) == action_id]
    if not matches:
        raise ReceiptError(f"no {what} {action_id} in the record")
    return matches[-1]


def _first_difference(got: Any, want: Any, path: str) -> str | None:
    """Dotted path of the first place two JSON values differ, or None if equal."""
    if isinstance(got, dict) and isinstance(want, dict):
        for name in sorted(set(got) | set(want)):
            if name not in got or name not in want:
                return f"{path}.{name}"
            found = _first_difference(got[name], want[name], f"{path}.{name}")
            if found:
                return found
        return None
    if isinstance(got, list) and isinstance(want, list) and len(got) == len(want):
        for index, (a, b) in enumerate(zip(got, want, strict=True)):
            found = _first_difference(a, b, f"{path}[{index}]")
            if found:
                return found
        return None
    return None if got == want and type(got) is type(want) else path


def _seal(doc: dict[str, Any]) -> dict[str, Any]:
    # sections share objects with the record body (deepcopy would keep that sharing):
    # a JSON round trip makes every part independent, as in the file that is written
    independent: dict[str, Any] = json.loads(json.dumps(doc))
    return {**independent, "receipt_sha256": receipt_sha256(independent)}
