"""Which delivery options meet a shopper's requirement, and how to say so.

Times come from the fulfillment result (``ready_by``, in the location's own offset)
and are shown as that local clock time; "today" is said only when the option's
``ready_today`` is true.
"""

from __future__ import annotations

from typing import Any

from agent.offline.format import money
from agent.offline.intents import Fulfillment
from agent.offline.turn import parse_time

REQUIREMENT_WORDS: dict[Fulfillment, str] = {
    "pickup_today": "picked up in store today",
    "pickup": "picked up in store",
    "same_day": "delivered today",
    "next_day": "delivered by tomorrow",
}
_KINDS: dict[Fulfillment, tuple[str, ...]] = {
    "pickup_today": ("store_pickup",),
    "pickup": ("store_pickup",),
    "same_day": ("same_day",),
    "next_day": ("same_day", "next_day"),
}


def available_options(data: Any) -> list[dict[str, Any]]:
    """The available options of a ``get_delivery_options`` result, earliest first."""
    options = data.get("options") if isinstance(data, dict) else None
    if not isinstance(options, list):
        return []
    usable = [o for o in options if isinstance(o, dict) and o.get("available")]
    return sorted(usable, key=_ready_key)


def qualifying(options: list[dict[str, Any]], requirement: Fulfillment) -> list[dict[str, Any]]:
    """Options that satisfy ``requirement``, earliest first."""
    kinds = _KINDS[requirement]
    return [
        o
        for o in options
        if o.get("kind") in kinds
        and (requirement != "pickup_today" or o.get("ready_today") is True)
    ]


def closest(options: list[dict[str, Any]], requirement: Fulfillment) -> dict[str, Any] | None:
    """The best alternative when nothing qualifies: same family (pickup/delivery) first."""
    pickup = requirement in ("pickup_today", "pickup")
    family = [o for o in options if (o.get("kind") == "store_pickup") == pickup]
    pool = family or options
    return min(pool, key=_ready_key) if pool else None


def describe(option: dict[str, Any]) -> str:
    """``pickup at Seattle Store, ready today by <ready_by>`` and the like."""
    kind = option.get("kind")
    ready = clock_time(option.get("ready_by"), today=bool(option.get("ready_today")))
    when = f"ready today by {ready}" if option.get("ready_today") else f"ready by {ready}"
    place = option.get("location_name") or option.get("location_id")
    if kind == "store_pickup":
        text = f"pickup at {place}, {when}"
    else:
        label = {"same_day": "same-day", "next_day": "next-day"}.get(str(kind), str(kind))
        arrives = (
            f"arrives today by {ready}" if option.get("ready_today") else f"arrives by {ready}"
        )
        text = f"{label} delivery, {arrives}"
    price = option.get("price")
    if isinstance(price, int | float) and price > 0:
        text += f" ({money(price)})"
    return text


def clock_time(value: Any, *, today: bool) -> str:
    """``1:00 PM`` for today, ``Wed Nov 25, 10:00 AM`` otherwise, in the time's own offset."""
    moment = parse_time(value)
    if moment is None:
        return str(value)
    hour = moment.strftime("%I:%M %p").lstrip("0")
    return hour if today else f"{moment.strftime('%a %b')} {moment.day}, {hour}"


def _ready_key(option: dict[str, Any]) -> float:
    # ties keep the service's order: it lists the nearest locations first
    moment = parse_time(option.get("ready_by"))
    return moment.timestamp() if moment and moment.tzinfo else float("inf")
