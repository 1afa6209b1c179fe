"""Append-only SQLite store of DecisionRecords, chained by hash.

Each record stores the hash of the record before it; its own hash covers its content
and that link, so editing or removing any stored record breaks the chain from there
on. Appends serialize on ``BEGIN IMMEDIATE`` so concurrent writers keep one chain.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from agent.record import DecisionRecord
from arbiter.sqlite import connect, immediate

_SCHEMA = """
CREATE TABLE IF NOT EXISTS decision_records (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    turn_id     TEXT NOT NULL UNIQUE,
    session_id  TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    prev_hash   TEXT NOT NULL,
    record_hash TEXT NOT NULL,
    record      TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS decision_records_session ON decision_records (session_id, seq);
"""
GENESIS = "0" * 64


def record_hash(record: DecisionRecord, prev_hash: str) -> str:
    """sha256 over the canonical record (without its own hash) and the previous hash."""
    body = record.model_dump(mode="json", exclude={"record_hash", "prev_hash"})
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(f"{prev_hash}\n{canonical}".encode()).hexdigest()


class AuditStore:
    """The embedded audit store."""

    def __init__(self, path: Path) -> None:
        self._path = path
        with connect(self._path) as conn:
            conn.executescript(_SCHEMA)

    def append(self, record: DecisionRecord) -> DecisionRecord:
        """Chain and store a record; appending the same turn twice keeps the first."""
        with connect(self._path) as conn, immediate(conn):
            existing = conn.execute(
                "SELECT record FROM decision_records WHERE turn_id = ?", (record.turn_id,)
            ).fetchone()
            if existing is not None:
                return DecisionRecord.model_validate_json(existing[0])
            row = conn.execute(
                "SELECT record_hash FROM decision_records ORDER BY seq DESC LIMIT 1"
            ).fetchone()
            prev = row[0] if row else GENESIS
            chained = record.model_copy(
                update={"prev_hash": prev, "record_hash": record_hash(record, prev)}
            )
            conn.execute(
                "INSERT INTO decision_records (turn_id, session_id, customer_id, created_at,"
                " prev_hash, record_hash, record) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    chained.turn_id,
                    chained.session_id,
                    chained.principal.customer_id,
                    chained.finished_at.isoformat(),
                    prev,
                    chained.record_hash,
                    chained.model_dump_json(),
                ),
            )
            return chained

    def get(self, turn_id: str) -> DecisionRecord | None:
        """One record by turn id."""
        with connect(self._path) as conn:
            row = conn.execute(
                "SELECT record FROM decision_records WHERE turn_id = ?", (turn_id,)
            ).fetchone()
        return DecisionRecord.model_validate_json(row[0]) if row else None

    def for_session(self, session_id: str) -> list[DecisionRecord]:
        """A session's records, oldest first."""
        with connect(self._path) as conn:
            rows = conn.execute(
                "SELECT record FROM decision_records WHERE session_id = ? ORDER BY seq",
                (session_id,),
            ).fetchall()
        return [DecisionRecord.model_validate_json(r[0]) for r in rows]

    def count(self) -> int:
        """How many records are stored."""
        with connect(self._path) as conn:
            return int(conn.execute("SELECT COUNT(*) FROM decision_records").fetchone()[0])
