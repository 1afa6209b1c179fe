"""Money conversion: the database holds integer cents, the API speaks dollars."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal


def cents(dollars: float) -> int:
    """Dollars (``49.99``) to integer cents, rounding half up."""
    return int((Decimal(str(dollars)) * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def dollars(amount_cents: int) -> float:
    """Integer cents to a two-decimal dollar amount."""
    return round(amount_cents / 100, 2)


def percent_of(amount_cents: int, percent: float) -> int:
    """``percent`` % of an amount in cents, rounded half up to the cent."""
    exact = Decimal(amount_cents) * Decimal(str(percent)) / 100
    return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))
