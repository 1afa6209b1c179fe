"""The budget ledger's interface and scope names, shared by every backend.

A claim names a scope (one session, one customer on one day, one promotion campaign,
everything on one day), an amount and that scope's cap. ``reserve_many`` takes all the
claims of one action under one entry id and reserves them atomically: every scope
stays within its cap, or nothing is reserved. Entries are keyed by the action's id,
so a retried reservation is a no-op; reservations never committed expire.

Backends keep a running committed total per scope (so a check never sums a day's
history) plus the live reservations, and take a write lock per scope before reading
them: the cap holds across threads, processes and replicas.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import NamedTuple, Protocol

CAP_EPSILON = 1e-9
"""Float slack when comparing a total with its cap (amounts are money, cents at most)."""


class Claim(NamedTuple):
    """What one action takes from one budget scope."""

    scope: str
    amount: float
    cap: float


ClaimLike = tuple[str, float, float]
"""A ``Claim`` or a plain ``(scope, amount, cap)`` tuple."""


class BudgetLedger(Protocol):
    """Atomic money ledger per scope (a session, a customer-day, a campaign, a day)."""

    def spent(self, scope: str) -> float:
        """Committed plus live reserved amount in a scope."""
        ...

    def reserve(self, scope: str, entry_id: str, amount: float, cap: float) -> bool:
        """Reserve ``amount`` if the scope stays within ``cap``; idempotent per entry_id."""
        ...

    def reserve_many(self, claims: Sequence[ClaimLike], entry_id: str) -> bool:
        """Reserve every claim, each within its scope's cap, or none; idempotent per entry_id."""
        ...

    def commit(self, entry_id: str) -> None:
        """Make a reservation permanent (the action executed)."""
        ...

    def release(self, entry_id: str) -> None:
        """Give a reservation back (the action failed or was not executed)."""
        ...

    def close(self) -> None:
        """Release connections; the ledger is not used afterwards."""
        ...


def checked_claims(claims: Sequence[ClaimLike]) -> list[Claim]:
    """Claims sorted by scope (the lock order), each scope once, amounts non-negative."""
    typed = sorted((Claim(*c) for c in claims), key=lambda c: c.scope)
    if not typed:
        raise ValueError("a reservation needs at least one claim")
    scopes = [c.scope for c in typed]
    if len(set(scopes)) != len(scopes):
        raise ValueError(f"a scope is claimed twice: {scopes}")
    if any(c.amount < 0 for c in typed):
        raise ValueError("a claim's amount cannot be negative")
    return typed


def session_scope(session_id: str) -> str:
    """Ledger scope of one session's budget."""
    return f"session:{session_id}"


def customer_day_scope(customer_id: str, day: date | None = None) -> str:
    """Ledger scope of one customer's budget for one UTC day."""
    return f"customer:{customer_id}:{(day or _today()).isoformat()}"


def campaign_scope(campaign_id: str) -> str:
    """Ledger scope of one promotion campaign's budget."""
    return f"campaign:{campaign_id}"


def global_day_scope(day: date | None = None) -> str:
    """Ledger scope of everything spent on one UTC day."""
    return f"global:{(day or _today()).isoformat()}"


def _today() -> date:
    return datetime.now(UTC).date()
