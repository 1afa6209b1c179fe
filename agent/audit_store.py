"""Append-only SQLite store of DecisionRecords, chained by hash.

Each record stores the hash of the record before it; its own hash covers its content
and that link, so editing or removing any stored record breaks the chain from there
on (the hashing and the check live in :mod:`agent.audit_chain`). Appends serialize on
``BEGIN IMMEDIATE`` so concurrent writers keep one chain.

There is no update or delete API. The one exception is retention: :meth:`prune`
removes the oldest records in one transaction and keeps an anchor (the last pruned
record's seq and hash), so :meth:`verify` still checks everything that is kept.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from agent.audit_chain import (
    GENESIS,
    Anchor,
    ChainReport,
    StoredRow,
    body_of,
    canonical_json,
    chain_hash,
    check_chain,
    parse_moment,
    record_hash,
)
from agent.record import DecisionRecord
from arbiter.errors import ArbiterError
from arbiter.sqlite import connect, immediate

__all__ = ["GENESIS", "AuditChainError", "AuditStore", "record_hash"]

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
CREATE TABLE IF NOT EXISTS audit_anchors (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    seq          INTEGER NOT NULL,
    record_hash  TEXT NOT NULL,
    pruned_at    TEXT NOT NULL,
    pruned_count INTEGER NOT NULL,
    before       TEXT NOT NULL
);
"""
_ROW = "seq, turn_id, session_id, customer_id, created_at, prev_hash, record_hash, record"


class AuditChainError(ArbiterError):
    """The chain is broken where an operation needs it intact (pruning)."""


class AuditStore:
    """The embedded audit store."""

    def __init__(self, path: Path) -> None:
        self._path = path
        with connect(self._path) as conn:
            conn.executescript(_SCHEMA)
        # One long-lived writer: opening a connection per append cost more than the write.
        # WAL with synchronous=NORMAL survives a process crash at every commit; only a
        # power loss can drop the last commits, never corrupt or reorder the chain.
        self._writer = sqlite3.connect(
            path, timeout=10.0, isolation_level=None, check_same_thread=False
        )
        self._writer.execute("PRAGMA journal_mode=WAL")
        self._writer.execute("PRAGMA synchronous=NORMAL")
        self._write_lock = threading.Lock()

    def close(self) -> None:
        """Close the writer connection."""
        self._writer.close()

    def append(self, record: DecisionRecord) -> DecisionRecord:
        """Chain and store a record; appending the same turn twice keeps the first."""
        body = body_of(json.loads(record.model_dump_json()))  # serialized once
        with self._write_lock, immediate(self._writer) as conn:
            existing = conn.execute(
                "SELECT record FROM decision_records WHERE turn_id = ?", (record.turn_id,)
            ).fetchone()
            if existing is not None:
                return DecisionRecord.model_validate_json(existing[0])
            row = conn.execute(
                "SELECT record_hash FROM decision_records ORDER BY seq DESC LIMIT 1"
            ).fetchone()
            anchor = _anchor(conn) if row is None else None
            prev = row[0] if row else (anchor.record_hash if anchor else GENESIS)
            digest = chain_hash(prev, body)
            conn.execute(
                "INSERT INTO decision_records (turn_id, session_id, customer_id, created_at,"
                " prev_hash, record_hash, record) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    record.turn_id,
                    record.session_id,
                    record.principal.customer_id,
                    record.finished_at.isoformat(),
                    prev,
                    digest,
                    canonical_json({**body, "prev_hash": prev, "record_hash": digest}),
                ),
            )
        return record.model_copy(update={"prev_hash": prev, "record_hash": digest})

    def get(self, turn_id: str) -> DecisionRecord | None:
        """One record by turn id."""
        row = self.get_row(turn_id)
        return DecisionRecord.model_validate_json(row.record) if row else None

    def get_row(self, turn_id: str) -> StoredRow | None:
        """One record as stored (its JSON text is what the hash covers)."""
        with connect(self._path) as conn:
            row = conn.execute(
                f"SELECT {_ROW} FROM decision_records WHERE turn_id = ?", (turn_id,)
            ).fetchone()
        return StoredRow(*row) if row else None

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

    def iter_rows(self, since: datetime | None = None) -> Iterator[StoredRow]:
        """Stored rows in chain order, those finished at or after ``since`` (all if None)."""
        since = _aware(since) if since else None
        with connect(self._path) as conn:
            for row in conn.execute(f"SELECT {_ROW} FROM decision_records ORDER BY seq"):
                stored = StoredRow(*row)
                if since is None or stored.finished_at >= since:
                    yield stored

    def iter_since(self, since: datetime | None = None) -> Iterator[DecisionRecord]:
        """Records in chain order, those finished at or after ``since`` (all if None)."""
        for row in self.iter_rows(since):
            yield DecisionRecord.model_validate_json(row.record)

    def anchor(self) -> Anchor | None:
        """The latest retention anchor, or None if nothing was ever pruned."""
        with connect(self._path) as conn:
            return _anchor(conn)

    def verify(self) -> ChainReport:
        """Walk the kept chain from the anchor (or genesis); name the first break."""
        with connect(self._path) as conn:
            conn.execute("BEGIN")  # one snapshot: appends during the walk are not seen
            try:
                rows = (
                    StoredRow(*r)
                    for r in conn.execute(f"SELECT {_ROW} FROM decision_records ORDER BY seq")
                )
                return check_chain(rows, anchor=_anchor(conn), highest_seq=_highest_seq(conn))
            finally:
                conn.execute("COMMIT")

    def prune(self, before: datetime, *, now: datetime | None = None) -> int:
        """Remove the oldest records finished before ``before``; anchor the chain.

        Only a prefix of the chain goes: pruning stops at the first record that is not
        older than ``before``, so a newer record is never removed. The prefix is checked
        first (pruning must not hide tampering); delete and anchor are one transaction.
        """
        before = _aware(before)
        with connect(self._path) as conn, immediate(conn):
            last: StoredRow | None = None
            for raw in conn.execute(f"SELECT {_ROW} FROM decision_records ORDER BY seq"):
                row = StoredRow(*raw)
                if row.finished_at >= before:
                    break
                last = row
            if last is None:
                return 0
            anchor = _anchor(conn)
            prefix = (
                StoredRow(*r)
                for r in conn.execute(
                    f"SELECT {_ROW} FROM decision_records WHERE seq <= ? ORDER BY seq",
                    (last.seq,),
                )
            )
            report = check_chain(prefix, anchor=anchor, highest_seq=0)
            if report.first_broken is not None:
                broken = report.first_broken
                raise AuditChainError(
                    f"refusing to prune: the chain is broken at seq {broken.seq}"
                    f" ({broken.reason}: {broken.detail})"
                )
            pruned = conn.execute("DELETE FROM decision_records WHERE seq <= ?", (last.seq,))
            conn.execute(
                "INSERT INTO audit_anchors (seq, record_hash, pruned_at, pruned_count, before)"
                " VALUES (?, ?, ?, ?, ?)",
                (
                    last.seq,
                    last.record_hash,
                    (now or datetime.now(UTC)).isoformat(),
                    pruned.rowcount,
                    before.isoformat(),
                ),
            )
            return int(pruned.rowcount)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _anchor(conn: sqlite3.Connection) -> Anchor | None:
    row = conn.execute(
        "SELECT seq, record_hash, pruned_at, pruned_count, before FROM audit_anchors"
        " ORDER BY id DESC LIMIT 1"
    ).fetchone()
    if row is None:
        return None
    return Anchor(
        seq=row[0],
        record_hash=row[1],
        pruned_at=parse_moment(row[2]),
        pruned_count=row[3],
        before=parse_moment(row[4]),
    )


def _highest_seq(conn: sqlite3.Connection) -> int:
    """The largest seq ever issued; AUTOINCREMENT never reuses one."""
    row = conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'decision_records'").fetchone()
    return int(row[0]) if row else 0
