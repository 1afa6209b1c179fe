"""The audit hash chain: how a record is hashed, and how a stored chain is checked.

A record's hash is ``sha256(prev_hash + "\\n" + canonical(body))`` where ``body`` is
the record as JSON without its two hash fields and ``canonical`` is
``json.dumps(sort_keys=True, separators=(",", ":"), ensure_ascii=False)``. The body
is taken from the record's JSON text (what the store keeps), so anyone holding that
text — an export line, a receipt — recomputes the hash without Arbiter's models.

Checking walks rows in ``seq`` order. ``seq`` is an AUTOINCREMENT key, so a kept
chain has no holes: a missing number is a deleted record, even when the rows around
it still link. Pruning removes a prefix and leaves an :class:`Anchor` (the last
pruned record's seq and hash); checking then starts from the anchor.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from agent.record import DecisionRecord

GENESIS = "0" * 64
HASH_FIELDS = ("prev_hash", "record_hash")

BreakReason = Literal["content_mismatch", "broken_link", "gap"]


def canonical_json(value: Any) -> str:
    """The one JSON form that is hashed: sorted keys, no spaces, UTF-8 kept as is."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def chain_hash(prev_hash: str, body: dict[str, Any]) -> str:
    """sha256 hex of ``prev_hash + "\\n" + canonical_json(body)``."""
    return hashlib.sha256(f"{prev_hash}\n{canonical_json(body)}".encode()).hexdigest()


def body_of(record_json: dict[str, Any]) -> dict[str, Any]:
    """A record's JSON object without its hash fields: what its hash covers."""
    return {k: v for k, v in record_json.items() if k not in HASH_FIELDS}


def record_hash(record: DecisionRecord, prev_hash: str) -> str:
    """sha256 over the canonical record (without its own hash) and the previous hash.

    The body goes through the record's JSON text, exactly as the store keeps it, so
    the hash recomputed later from stored or exported JSON is the same.
    """
    return chain_hash(prev_hash, body_of(json.loads(record.model_dump_json())))


class Anchor(BaseModel):
    """Where the kept chain starts after pruning: the last pruned record."""

    seq: int = Field(description="seq of the last pruned record.")
    record_hash: str = Field(description="Its record_hash: the first kept record's prev_hash.")
    pruned_at: datetime = Field(description="When the prune ran.")
    pruned_count: int = Field(description="How many records that prune removed.")
    before: datetime = Field(description="The cutoff: records finished before it were pruned.")


class ChainBreak(BaseModel):
    """The first place the chain does not hold."""

    seq: int = Field(description="seq of the offending (or first missing) record.")
    turn_id: str | None = Field(description="Its turn id; None when the record is missing.")
    reason: BreakReason = Field(
        description="content_mismatch: the record was edited; broken_link: its prev_hash "
        "is not the previous record's hash; gap: records are missing."
    )
    detail: str = Field(description="One sentence for humans.")


class ChainReport(BaseModel):
    """What :meth:`AuditStore.verify` found."""

    ok: bool
    checked: int = Field(description="Records checked (all kept records when ok).")
    first_broken: ChainBreak | None = None
    anchor: Anchor | None = Field(default=None, description="Where checking started, if pruned.")
    head_seq: int | None = Field(default=None, description="seq of the last record checked.")
    head_hash: str | None = Field(default=None, description="record_hash of that record.")


@dataclass(frozen=True)
class StoredRow:
    """One row of the store as written: index columns plus the record's JSON text."""

    seq: int
    turn_id: str
    session_id: str
    customer_id: str
    created_at: str
    prev_hash: str
    record_hash: str
    record: str

    @property
    def finished_at(self) -> datetime:
        """The ``created_at`` column as an aware datetime (the record's finished_at)."""
        return parse_moment(self.created_at)


def parse_moment(value: str) -> datetime:
    """An ISO timestamp as an aware datetime (naive ones are taken as UTC)."""
    moment = datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def check_chain(
    rows: Iterable[StoredRow], *, anchor: Anchor | None, highest_seq: int
) -> ChainReport:
    """Walk rows in seq order; stop at the first break.

    ``highest_seq`` is the largest seq ever issued (SQLite's ``sqlite_sequence``): a
    value above the last row means records were removed from the end.
    """
    expected_seq = anchor.seq + 1 if anchor else 1
    expected_prev = anchor.record_hash if anchor else GENESIS
    checked = 0
    head: StoredRow | None = None

    def report(broken: ChainBreak | None) -> ChainReport:
        return ChainReport(
            ok=broken is None,
            checked=checked,
            first_broken=broken,
            anchor=anchor,
            head_seq=head.seq if head else None,
            head_hash=head.record_hash if head else None,
        )

    for row in rows:
        if row.seq != expected_seq:
            missing = f"seq {expected_seq}" + (
                f"-{row.seq - 1}" if row.seq - 1 > expected_seq else ""
            )
            return report(
                ChainBreak(
                    seq=expected_seq,
                    turn_id=None,
                    reason="gap",
                    detail=f"record {missing} is missing (next kept is seq {row.seq},"
                    f" turn {row.turn_id})",
                )
            )
        problem = _row_problem(row, expected_prev)
        if problem is not None:
            reason, detail = problem
            return report(
                ChainBreak(seq=row.seq, turn_id=row.turn_id, reason=reason, detail=detail)
            )
        checked += 1
        head = row
        expected_seq, expected_prev = row.seq + 1, row.record_hash
    if highest_seq >= expected_seq:
        return report(
            ChainBreak(
                seq=expected_seq,
                turn_id=None,
                reason="gap",
                detail=f"records seq {expected_seq}-{highest_seq} were removed from the end",
            )
        )
    return report(None)


def _row_problem(row: StoredRow, expected_prev: str) -> tuple[BreakReason, str] | None:
    if row.prev_hash != expected_prev:
        return "broken_link", (
            f"prev_hash {row.prev_hash[:12]}… does not match the previous record's hash"
            f" {expected_prev[:12]}…"
        )
    try:
        stored = json.loads(row.record)
    except json.JSONDecodeError as exc:
        return "content_mismatch", f"the record is not valid JSON ({exc.msg})"
    if not isinstance(stored, dict):
        return "content_mismatch", "the record is not a JSON object"
    recomputed = chain_hash(row.prev_hash, body_of(stored))
    if recomputed != row.record_hash:
        return "content_mismatch", (
            f"stored record_hash {row.record_hash[:12]}…, recomputed {recomputed[:12]}…"
        )
    embedded = {name: stored.get(name) for name in HASH_FIELDS}
    if embedded != {"prev_hash": row.prev_hash, "record_hash": row.record_hash}:
        return "content_mismatch", "the hash fields inside the record differ from the row's"
    mismatched = _index_mismatch(row, stored)
    if mismatched:
        return "content_mismatch", f"the row's {mismatched} column differs from the record"
    return None


def _index_mismatch(row: StoredRow, stored: dict[str, Any]) -> str | None:
    """The first index column that does not match the (hashed) record, if any."""
    principal = stored.get("principal")
    customer = principal.get("customer_id") if isinstance(principal, dict) else None
    if stored.get("turn_id") != row.turn_id:
        return "turn_id"
    if stored.get("session_id") != row.session_id:
        return "session_id"
    if customer != row.customer_id:
        return "customer_id"
    try:
        same_time = parse_moment(str(stored.get("finished_at"))) == row.finished_at
    except ValueError:
        same_time = False
    return None if same_time else "created_at"
