"""Number formats the claim checker can match against tool results."""

from __future__ import annotations

from typing import Any


def money(value: Any) -> str:
    """``$89.99``: two decimals and no thousands separator, so the figure reads back as one."""
    return f"${float(value):.2f}"


def percent(value: Any) -> str:
    """``10%`` when whole, ``12.5%`` otherwise."""
    number = float(value)
    return f"{int(number)}%" if number.is_integer() else f"{number:g}%"


def user_number(value: float) -> str:
    """A number the shopper wrote, echoed back in the same form (``120``, ``99.5``)."""
    return f"{int(value)}" if float(value).is_integer() else f"{value:g}"
