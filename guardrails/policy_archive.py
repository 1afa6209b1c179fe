"""Every policy version that ever decided something, kept by its hash.

A DecisionRecord names its policy by sha256; replay and audits need the text behind
that name months later, after the file has changed. Versions are stored once each.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from arbiter.sqlite import connect
from guardrails.policy import LoadedPolicy, parse_policy

_SCHEMA = """
CREATE TABLE IF NOT EXISTS policy_versions (
    version    TEXT PRIMARY KEY,
    source     TEXT NOT NULL,
    content    BLOB NOT NULL,
    first_seen TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS policy_pins (
    slot         TEXT PRIMARY KEY,
    version      TEXT,
    file_version TEXT NOT NULL,
    set_by       TEXT NOT NULL,
    set_at       TEXT NOT NULL
);
"""


class PolicyArchive:
    """SQLite table of policy versions."""

    def __init__(self, path: Path) -> None:
        self._path = path
        with connect(path) as conn:
            conn.executescript(_SCHEMA)

    def keep(self, loaded: LoadedPolicy) -> None:
        """Store a version (no-op when it is already there)."""
        with connect(self._path) as conn:
            conn.execute(
                "INSERT OR IGNORE INTO policy_versions VALUES (?, ?, ?, ?)",
                (loaded.version, loaded.source, loaded.raw, datetime.now(UTC).isoformat()),
            )

    def get(self, version: str) -> LoadedPolicy | None:
        """The policy with that hash, parsed again, or None if never seen."""
        with connect(self._path) as conn:
            row = conn.execute(
                "SELECT source, content FROM policy_versions WHERE version = ?", (version,)
            ).fetchone()
        if row is None:
            return None
        return parse_policy(bytes(row[1]), source=f"{row[0]} (archived)")

    def set_pin(self, slot: str, version: str | None, *, file_version: str, by: str) -> None:
        """Remember an activation made at run time (``slot``: active or shadow; None: off).

        ``file_version`` is the policy file's version when it was made: the pin holds
        across restarts until that file changes.
        """
        with connect(self._path) as conn:
            conn.execute(
                "INSERT INTO policy_pins VALUES (?, ?, ?, ?, ?) ON CONFLICT (slot) DO UPDATE SET"
                " version = excluded.version, file_version = excluded.file_version,"
                " set_by = excluded.set_by, set_at = excluded.set_at",
                (slot, version, file_version, by, datetime.now(UTC).isoformat()),
            )

    def pins_stamp(self) -> tuple[tuple[str, ...], ...]:
        """Every pin as stored: it changes whenever any process activates something."""
        with connect(self._path) as conn:
            rows = conn.execute(
                "SELECT slot, COALESCE(version, ''), file_version, set_at FROM policy_pins"
                " ORDER BY slot"
            ).fetchall()
        return tuple(tuple(str(v) for v in row) for row in rows)

    def pin(self, slot: str, *, file_version: str) -> tuple[LoadedPolicy | None] | None:
        """The pinned policy of a slot while its file is unchanged: ``(policy or None,)``."""
        with connect(self._path) as conn:
            row = conn.execute(
                "SELECT version, file_version FROM policy_pins WHERE slot = ?", (slot,)
            ).fetchone()
        if row is None or row[1] != file_version:
            return None
        return (self.get(row[0]) if row[0] else None,)
