"""What both audit stores share: the chain step, reads, verify and prune, written once.

The SQL uses ``?`` placeholders and one schema (``decision_records`` and
``audit_anchors``). A store says how it reaches its database: a connection for reads,
a transaction that serialises writers (appends and prunes), a consistent snapshot for
verify, how the next ``seq`` is issued and the highest one ever issued.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from typing import Any, Protocol

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
)
from agent.record import DecisionRecord
from arbiter.errors import ArbiterError

ROW = "seq, turn_id, session_id, customer_id, created_at, prev_hash, record_hash, record"


class AuditChainError(ArbiterError):
    """The chain is broken where an operation needs it intact (pruning)."""


class Cursor(Protocol):
    """What a sqlite3 or psycopg cursor offers here."""

    rowcount: int

    def fetchone(self) -> Any: ...
    def fetchall(self) -> list[Any]: ...
    def __iter__(self) -> Iterator[Any]: ...


class Conn(Protocol):
    """A sqlite3 or psycopg connection."""

    def execute(self, sql: Any, params: Sequence[Any] = ...) -> Any: ...


class ChainStore(ABC):
    """An append-only, hash-chained store of DecisionRecords (no update or delete API)."""

    @abstractmethod
    def close(self) -> None:
        """Release what the store holds."""

    @abstractmethod
    def _read(self) -> AbstractContextManager[Conn]:
        """A connection for reads."""

    @abstractmethod
    def _write(self) -> AbstractContextManager[Conn]:
        """A transaction no other append or prune (in any process) runs beside."""

    @abstractmethod
    def _snapshot(self) -> AbstractContextManager[Conn]:
        """A transaction that sees one state of the whole chain."""

    @abstractmethod
    def _issue_seq(self, conn: Conn) -> int:
        """The next seq, inside ``_write`` (never one issued before)."""

    @abstractmethod
    def _highest_seq(self, conn: Conn) -> int:
        """The largest seq ever issued (a higher one than the last row means a lost tail)."""

    def _q(self, sql: str) -> str:
        """The statement in this database's placeholder style."""
        return sql

    def _run(self, conn: Conn, sql: str, *args: Any) -> Cursor:
        cursor: Cursor = conn.execute(self._q(sql), args)
        return cursor

    def append(self, record: DecisionRecord) -> DecisionRecord:
        """Chain and store a record; appending the same turn twice keeps the first."""
        body = body_of(json.loads(record.model_dump_json()))  # serialized once
        with self._write() as conn:
            existing = self._run(
                conn, "SELECT record FROM decision_records WHERE turn_id = ?", record.turn_id
            ).fetchone()
            if existing is not None:
                return DecisionRecord.model_validate_json(existing[0])
            row = self._run(
                conn, "SELECT record_hash FROM decision_records ORDER BY seq DESC LIMIT 1"
            ).fetchone()
            anchor = self._anchor(conn) if row is None else None
            prev = row[0] if row else (anchor.record_hash if anchor else GENESIS)
            digest = chain_hash(prev, body)
            self._run(
                conn,
                f"INSERT INTO decision_records ({ROW}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                self._issue_seq(conn),
                record.turn_id,
                record.session_id,
                record.principal.customer_id,
                record.finished_at.isoformat(),
                prev,
                digest,
                canonical_json({**body, "prev_hash": prev, "record_hash": digest}),
            )
        return record.model_copy(update={"prev_hash": prev, "record_hash": digest})

    def get(self, turn_id: str) -> DecisionRecord | None:
        """One record by turn id."""
        row = self.get_row(turn_id)
        return DecisionRecord.model_validate_json(row.record) if row else None

    def get_row(self, turn_id: str) -> StoredRow | None:
        """One record as stored (its JSON text is what the hash covers)."""
        with self._read() as conn:
            row = self._run(
                conn, f"SELECT {ROW} FROM decision_records WHERE turn_id = ?", turn_id
            ).fetchone()
        return StoredRow(*row) if row else None

    def for_session(self, session_id: str) -> list[DecisionRecord]:
        """A session's records, oldest first."""
        with self._read() as conn:
            rows = self._run(
                conn,
                "SELECT record FROM decision_records WHERE session_id = ? ORDER BY seq",
                session_id,
            ).fetchall()
        return [DecisionRecord.model_validate_json(r[0]) for r in rows]

    def count(self) -> int:
        """How many records are stored."""
        with self._read() as conn:
            return int(self._run(conn, "SELECT COUNT(*) FROM decision_records").fetchone()[0])

    def iter_rows(self, since: datetime | None = None) -> Iterator[StoredRow]:
        """Stored rows in chain order, those finished at or after ``since`` (all if None)."""
        since = aware(since) if since else None
        with self._read() as conn:  # streamed: an export need not hold the whole chain
            for row in self._run(conn, f"SELECT {ROW} FROM decision_records ORDER BY seq"):
                stored = StoredRow(*row)
                if since is None or stored.finished_at >= since:
                    yield stored

    def iter_since(self, since: datetime | None = None) -> Iterator[DecisionRecord]:
        """Records in chain order, those finished at or after ``since`` (all if None)."""
        for row in self.iter_rows(since):
            yield DecisionRecord.model_validate_json(row.record)

    def anchor(self) -> Anchor | None:
        """The latest retention anchor, or None if nothing was ever pruned."""
        with self._read() as conn:
            return self._anchor(conn)

    def verify(self) -> ChainReport:
        """Walk the kept chain from the anchor (or genesis); name the first break."""
        with self._snapshot() as conn:  # appends during the walk are not seen
            rows = self._run(conn, f"SELECT {ROW} FROM decision_records ORDER BY seq")
            return check_chain(
                (StoredRow(*r) for r in rows),
                anchor=self._anchor(conn),
                highest_seq=self._highest_seq(conn),
            )

    def prune(self, before: datetime, *, now: datetime | None = None) -> int:
        """Remove the oldest records finished before ``before``; anchor the chain.

        Only a prefix of the chain goes: pruning stops at the first record that is not
        older than ``before``, so a newer record is never removed. The prefix is checked
        first (pruning must not hide tampering); delete and anchor are one transaction.
        """
        before = aware(before)
        with self._write() as conn:
            prefix: list[StoredRow] = []
            rows = self._run(conn, f"SELECT {ROW} FROM decision_records ORDER BY seq")
            for raw in rows:
                row = StoredRow(*raw)
                if row.finished_at >= before:
                    break
                prefix.append(row)
            if not prefix:
                return 0
            report = check_chain(prefix, anchor=self._anchor(conn), highest_seq=0)
            if report.first_broken is not None:
                broken = report.first_broken
                raise AuditChainError(
                    f"refusing to prune: the chain is broken at seq {broken.seq}"
                    f" ({broken.reason}: {broken.detail})"
                )
            last = prefix[-1]
            pruned = self._run(conn, "DELETE FROM decision_records WHERE seq <= ?", last.seq)
            self._run(
                conn,
                "INSERT INTO audit_anchors (seq, record_hash, pruned_at, pruned_count, before)"
                " VALUES (?, ?, ?, ?, ?)",
                last.seq,
                last.record_hash,
                (now or datetime.now(UTC)).isoformat(),
                pruned.rowcount,
                before.isoformat(),
            )
            return int(pruned.rowcount)

    def _anchor(self, conn: Conn) -> Anchor | None:
        row = self._run(
            conn,
            "SELECT seq, record_hash, pruned_at, pruned_count, before FROM audit_anchors"
            " ORDER BY id DESC LIMIT 1",
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


def aware(moment: datetime) -> datetime:
    """A datetime with a zone (naive ones are taken as UTC)."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
