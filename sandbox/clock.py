"""The sandbox clock, so that "pick up today" means the same thing on every run.

The clock lives in the ``meta`` table: either ``real`` (wall clock) or ``anchored``
(a sandbox moment paired with the wall-clock instant it was set, after which it
advances in real time). Seeding anchors it at 10:30 in the retailer's time zone on
the seed day; ``ARBITER_SANDBOX_CLOCK`` or ``POST /admin/clock`` re-anchor it.
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

RETAILER_TZ = ZoneInfo("America/Chicago")
ENV_VAR = "ARBITER_SANDBOX_CLOCK"


@dataclass(frozen=True)
class ClockSpec:
    """A parsed ``ARBITER_SANDBOX_CLOCK`` value: default, ``real`` or a fixed start."""

    real: bool = False
    start: datetime | None = None


def parse_spec(value: str | None) -> ClockSpec:
    """Parse ``None``/``""`` (default), ``real`` or an ISO-8601 time with an offset."""
    if value is None or not value.strip():
        return ClockSpec()
    if value.strip().lower() == "real":
        return ClockSpec(real=True)
    return ClockSpec(start=parse_iso(value.strip()))


def parse_iso(value: str) -> datetime:
    """Parse an ISO-8601 time that carries an offset (``Z`` accepted)."""
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        raise ValueError(f"time {value!r} has no UTC offset")
    return parsed.astimezone(UTC)


def iso(moment: datetime) -> str:
    """The API/database form of a time: UTC, seconds, ``+00:00``."""
    return moment.astimezone(UTC).replace(microsecond=0).isoformat()


def default_anchor(wall: datetime | None = None) -> datetime:
    """10:30 in the retailer's time zone on the (wall-clock) current day."""
    local_day = (wall or datetime.now(UTC)).astimezone(RETAILER_TZ).date()
    local = datetime(local_day.year, local_day.month, local_day.day, 10, 30, tzinfo=RETAILER_TZ)
    return local.astimezone(UTC)


def seed_moment(spec: ClockSpec) -> datetime:
    """The sandbox "now" a fresh seed is generated against under ``spec``."""
    if spec.start is not None:
        return spec.start
    if spec.real:
        return datetime.now(UTC).replace(microsecond=0)
    return default_anchor()


def write_clock(conn: sqlite3.Connection, *, real: bool, anchor: datetime | None) -> None:
    """Store the clock (caller owns the transaction)."""
    values = {
        "clock_mode": "real" if real else "anchored",
        "clock_anchor": iso(anchor) if anchor is not None else "",
        "clock_wall": repr(time.time()),
    }
    conn.executemany(
        "INSERT INTO meta (key, value) VALUES (?, ?) "
        "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        sorted(values.items()),
    )


def apply_spec(conn: sqlite3.Connection, spec: ClockSpec) -> None:
    """Re-anchor the clock for ``spec``; the default spec keeps the seeded anchor."""
    if spec.real:
        write_clock(conn, real=True, anchor=None)
    elif spec.start is not None:
        write_clock(conn, real=False, anchor=spec.start)


def now(conn: sqlite3.Connection) -> datetime:
    """The sandbox's current time (UTC)."""
    rows = dict(
        conn.execute(
            "SELECT key, value FROM meta WHERE key IN ('clock_mode', 'clock_anchor', 'clock_wall')"
        ).fetchall()
    )
    if rows.get("clock_mode") != "anchored":
        return datetime.now(UTC)
    elapsed = time.time() - float(rows["clock_wall"])
    return parse_iso(rows["clock_anchor"]) + timedelta(seconds=elapsed)


def clock_mode(conn: sqlite3.Connection) -> str:
    """``real`` or ``anchored``."""
    row = conn.execute("SELECT value FROM meta WHERE key = 'clock_mode'").fetchone()
    return str(row[0]) if row else "real"
