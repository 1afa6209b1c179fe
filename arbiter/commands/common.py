"""What every command module shares: consoles, error handling, the sample customer."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import TypeVar

import typer
from rich.console import Console

from arbiter.errors import ArbiterError, InputError

T = TypeVar("T")

out = Console()
err = Console(stderr=True)


def run(coro_fn: Callable[[], Awaitable[T]]) -> T:
    """Run a coroutine; ArbiterErrors become one line on stderr and a non-zero exit."""
    try:
        return asyncio.run(_call(coro_fn))
    except InputError as exc:
        raise fail(str(exc), code=2) from None
    except ArbiterError as exc:
        raise fail(str(exc), code=1) from None


def fail(message: str, *, code: int = 1) -> typer.Exit:
    """Print one error line; return the Exit for the caller to raise."""
    err.print("[red]error:[/red] ", end="")
    err.print(message, highlight=False, markup=False)
    return typer.Exit(code)


async def _call(coro_fn: Callable[[], Awaitable[T]]) -> T:
    return await coro_fn()


def customer_or_sample(customer: str | None) -> str:
    """The given customer, or the sample one (said on stderr)."""
    if customer:
        return customer
    from sandbox.seed import SAMPLE_CUSTOMER_ID

    err.print(f"No --customer given: chatting as sample customer {SAMPLE_CUSTOMER_ID}.")
    return str(SAMPLE_CUSTOMER_ID)


_SPAN = re.compile(r"^(\d+)\s*([smhdw])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_since(value: str, *, now: datetime | None = None) -> datetime:
    """``24h``, ``7d``, ``30m`` ago, or an ISO date/time; raises typer.BadParameter."""
    now = now or datetime.now(UTC)
    match = _SPAN.match(value.strip().lower())
    if match:
        return now - timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise typer.BadParameter(
            f"{value!r}: use a span like 24h or 7d, or an ISO date", param_hint="--since"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
