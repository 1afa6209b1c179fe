"""Every policy version that ever decided something, kept by its hash, and the pins.

A DecisionRecord names its policy by sha256; replay and audits need the text behind
that name months later, after the file has changed. Versions are stored once each.
A pin is an operator's run-time activation (active or shadow slot); every process
that shares the archive follows it. The archive lives beside the audit chain: the
data directory's ``audit.sqlite``, or PostgreSQL with ``ARBITER_DATABASE_URL``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from arbiter.tables import SqliteTables, Tables
from guardrails.policy import LoadedPolicy, parse_policy


def _schema(kind: str) -> list[str]:
    blob = "BYTEA" if kind == "postgres" else "BLOB"
    return [
        f"""CREATE TABLE IF NOT EXISTS policy_versions (
            version    TEXT PRIMARY KEY,
            source     TEXT NOT NULL,
            content    {blob} NOT NULL,
            first_seen TEXT NOT NULL
        )""",
        """CREATE TABLE IF NOT EXISTS policy_pins (
            slot         TEXT PRIMARY KEY,
            version      TEXT,
            file_version TEXT NOT NULL,
            set_by       TEXT NOT NULL,
            set_at       TEXT NOT NULL
        )""",
    ]


class PolicyArchive:
    """Policy versions and pins, in SQLite or in the shared PostgreSQL database."""

    def __init__(self, tables: Tables) -> None:
        self._tables = tables
        tables.create(_schema(tables.kind))

    @classmethod
    def at(cls, path: Path) -> PolicyArchive:
        """The archive in a SQLite file (``close()`` it when done)."""
        return cls(SqliteTables(path))

    def close(self) -> None:
        """Release the connection (a shared pool stays open)."""
        self._tables.close()

    def keep(self, loaded: LoadedPolicy) -> None:
        """Store a version (no-op when it is already there)."""
        self._tables.run(
            "INSERT INTO policy_versions VALUES (?, ?, ?, ?) ON CONFLICT (version) DO NOTHING",
            (loaded.version, loaded.source, loaded.raw, datetime.now(UTC).isoformat()),
        )

    def get(self, version: str) -> LoadedPolicy | None:
        """The policy with that hash, parsed again, or None if never seen."""
        rows = self._tables.run(
            "SELECT source, content FROM policy_versions WHERE version = ?", (version,)
        ).rows
        if not rows:
            return None
        source, content = rows[0]
        return parse_policy(bytes(content), source=f"{source} (archived)")

    def set_pin(self, slot: str, version: str | None, *, file_version: str, by: str) -> None:
        """Remember an activation made at run time (``slot``: active or shadow; None: off).

        ``file_version`` is the policy file's version when it was made: the pin holds
        across restarts until that file changes.
        """
        self._tables.run(
            "INSERT INTO policy_pins VALUES (?, ?, ?, ?, ?) ON CONFLICT (slot) DO UPDATE SET"
            " version = excluded.version, file_version = excluded.file_version,"
            " set_by = excluded.set_by, set_at = excluded.set_at",
            (slot, version, file_version, by, datetime.now(UTC).isoformat()),
        )

    def pins_stamp(self) -> tuple[tuple[str, ...], ...]:
        """Every pin as stored: it changes whenever any process activates something."""
        rows = self._tables.run(
            "SELECT slot, COALESCE(version, ''), file_version, set_at FROM policy_pins"
            " ORDER BY slot"
        ).rows
        return tuple(tuple(str(v) for v in row) for row in rows)

    def pin(self, slot: str, *, file_version: str) -> tuple[LoadedPolicy | None] | None:
        """The pinned policy of a slot while its file is unchanged: ``(policy or None,)``."""
        rows = self._tables.run(
            "SELECT version, file_version FROM policy_pins WHERE slot = ?", (slot,)
        ).rows
        if not rows or rows[0][1] != file_version:
            return None
        version = rows[0][0]
        return (self.get(str(version)) if version else None,)
