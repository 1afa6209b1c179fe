"""Answer text composed from this turn's read results.

Every price, percentage, stock count and time in an answer is copied from a tool result
of the turn (formatted by ``format``) or echoes a number the shopper wrote; nothing
here computes a new figure. Canned texts contain no numbers at all.
"""

from __future__ import annotations

from typing import Any

from agent.offline import delivery
from agent.offline.format import money, percent, user_number
from agent.offline.intents import Fulfillment, Intent, SearchSlots
from agent.offline.turn import Result

CAPABILITIES = "\n".join(
    (
        "- find products by category, size, specs and budget, with pickup or delivery needs",
        "- check an item's price, stock, pickup and delivery options",
        "- add or remove cart items, apply a promo code, ask for a discount or a price match",
        "- check your orders and start a return, refund or cancellation",
        "- connect you with a person on our team",
    )
)
MAX_LISTED_ORDERS = 3


def greeting() -> str:
    """What the assistant can do."""
    return f"Hi! I'm the store assistant, running in offline mode. I can:\n{CAPABILITIES}"


def cannot_help() -> str:
    """The honest answer to a request outside what the assistant does."""
    return f"Sorry, I can't help with that here. What I can do:\n{CAPABILITIES}"


def ask_item(doing: str) -> str:
    """Ask which item the shopper means."""
    return (
        f"Which item would you like me to {doing}? "
        "Tell me its SKU, or ask me to search for it first."
    )


def declined() -> str:
    """The shopper said no to an offer."""
    return "No problem — I haven't changed anything. Anything else I can help with?"


def label(sku: str, names: dict[str, str]) -> str:
    """``Name (SKU)`` when the name is known, else the SKU."""
    return f"{names[sku]} ({sku})" if sku in names else sku


def read_failed(result: Result | None, what: str) -> str:
    """Honest answer when a read the answer depends on did not return data."""
    code = result.error_code if result else None
    if code == "out_of_scope":
        return (
            "I can only access the signed-in customer's own orders and account, "
            "so I can't look at that."
        )
    if code == "not_found":
        return f"I couldn't find {what}. Please check it and try again."
    return (
        f"I couldn't confirm {what} right now — the service didn't answer, "
        "so I won't guess. Please try again in a moment."
    )


def describe_search(slots: SearchSlots) -> str:
    """The shopper's constraints in words, echoing their own numbers."""
    parts = [slots.category.replace("-", " ") if slots.category else "products"]
    for name, value in slots.attributes:
        parts.append(
            {
                "size": f"size {value}",
                "ram_gb": f"{value}GB RAM",
                "screen_in": f"{value}-inch screen",
            }.get(name, value)
        )
    if slots.query:
        parts.append(f'matching "{slots.query}"')
    if slots.min_price is not None and slots.max_price is not None:
        low, high = user_number(slots.min_price), user_number(slots.max_price)
        parts.append(f"between ${low} and ${high}")
    elif slots.max_price is not None:
        parts.append(f"under ${user_number(slots.max_price)}")
    elif slots.min_price is not None:
        parts.append(f"over ${user_number(slots.min_price)}")
    return ", ".join(parts)


def no_matches(slots: SearchSlots) -> str:
    """Nothing in the catalog matched."""
    return (
        f"I couldn't find any {describe_search(slots)}. "
        "Try loosening a constraint (size, price or brand)."
    )


def search_answer(
    intent: Intent,
    items: list[dict[str, Any]],
    turn_prices: dict[str, Result],
    turn_deliveries: dict[str, Result],
    names: dict[str, str],
    relaxed: SearchSlots | None,
) -> str:
    """List search results with confirmed prices, filtered by the fulfillment requirement."""
    lines: list[str] = []
    if relaxed is not None:
        lines.append(
            f"Nothing matched {describe_search(intent.search)} exactly; "
            f"closest matches for {describe_search(relaxed)}:"
        )
    requirement = intent.fulfillment
    if requirement is None:
        if relaxed is None:
            lines.append(f"Here is what I found for {describe_search(intent.search)}:")
        lines += [f"- {_item_line(item, turn_prices, names)}" for item in items]
        lines.append('Say "add the first one" to put one in your cart.')
        return "\n".join(lines)
    return "\n".join(lines + _fulfillment_lines(intent, items, turn_prices, turn_deliveries, names))


def _fulfillment_lines(
    intent: Intent,
    items: list[dict[str, Any]],
    turn_prices: dict[str, Result],
    turn_deliveries: dict[str, Result],
    names: dict[str, str],
) -> list[str]:
    requirement = intent.fulfillment
    assert requirement is not None
    words = delivery.REQUIREMENT_WORDS[requirement]
    checked = [i for i in items if _has(turn_deliveries.get(i["sku"]), "options")]
    if not checked:
        return [
            f"I couldn't confirm pickup or delivery options right now, so I can't say which "
            f"of these can be {words}. Matches for {describe_search(intent.search)}:",
            *(f"- {_item_line(item, turn_prices, names)}" for item in items),
        ]
    matches: list[str] = []
    fallback: tuple[dict[str, Any], dict[str, Any]] | None = None
    for item in checked:
        options = delivery.available_options(turn_deliveries[item["sku"]].data)
        good = delivery.qualifying(options, requirement)
        if good:
            matches.append(
                f"- {_item_line(item, turn_prices, names)} — {delivery.describe(good[0])}"
            )
            continue
        alternative = delivery.closest(options, requirement)
        if alternative and fallback is None:
            fallback = (item, alternative)
    if matches:
        header = f"{describe_search(intent.search).capitalize()} that can be {words}:"
        return [header, *matches, 'Say "add the first one" to put one in your cart.']
    lines = [f"None of the {describe_search(intent.search)} I checked can be {words}."]
    if fallback:
        item, option = fallback
        best = f"{_item_line(item, turn_prices, names)} — {delivery.describe(option)}"
        lines.append(f"Best alternative: {best}")
    return lines


def _has(result: Result | None, key: str) -> bool:
    return result is not None and result.has(key)


def _item_line(item: dict[str, Any], turn_prices: dict[str, Result], names: dict[str, str]) -> str:
    sku = str(item.get("sku"))
    price = turn_prices.get(sku)
    if price is not None and price.ok and price.data.get("list_price") is not None:
        shown = money(price.data["list_price"])
    else:
        shown = "price not confirmed right now"
    return f"{label(sku, names)}: {shown}"


def price_answer(
    sku: str, result: Result | None, wants_competitor: bool, names: dict[str, str]
) -> str:
    """An item's current price, and competitor prices when asked for."""
    if result is None or not result.ok or result.data.get("list_price") is None:
        return read_failed(result, f"the price of {sku}")
    data = result.data
    lines = [f"{label(sku, names)} is {money(data['list_price'])}."]
    if wants_competitor:
        seen = [c for c in data.get("competitor_prices") or [] if isinstance(c, dict)]
        if seen:
            lines.append("Competitor prices on file:")
            lines += [
                f"- {c.get('competitor')}: {money(c.get('price'))} (seen {c.get('observed_at')})"
                for c in seen
            ]
        else:
            lines.append("I have no competitor prices on file for it.")
    return "\n".join(lines)


def availability_answer(
    sku: str,
    stock: Result | None,
    options: Result | None,
    requirement: Fulfillment | None,
    names: dict[str, str],
) -> str:
    """Stock and the available pickup/delivery options for the shopper's region."""
    if not _has(stock, "total_available") and not _has(options, "options"):
        return read_failed(stock or options, f"availability of {sku}")
    lines: list[str] = []
    if stock is not None and stock.has("total_available"):
        total = stock.data.get("total_available")
        lines.append(
            f"{label(sku, names)}: out of stock right now."
            if not total
            else f"{label(sku, names)}: {total} available in total."
        )
    else:
        lines.append(f"{label(sku, names)}: I couldn't confirm stock levels right now.")
    if options is None or not options.has("options"):
        lines.append("I couldn't confirm pickup or delivery options right now.")
        return "\n".join(lines)
    usable = delivery.available_options(options.data)
    region = options.data.get("region")
    if requirement is not None:
        good = delivery.qualifying(usable, requirement)
        words = delivery.REQUIREMENT_WORDS[requirement]
        if good:
            lines.append(f"Yes, it can be {words}: {delivery.describe(good[0])}.")
        else:
            lines.append(f"It can't be {words}.")
    if usable:
        lines.append(f"Options for your area ({region}):" if region else "Options for you:")
        lines += [f"- {text}" for text in dict.fromkeys(delivery.describe(o) for o in usable)]
    else:
        lines.append("No pickup or delivery option is available for your area right now.")
    return "\n".join(lines)


def cart_answer(cart: dict[str, Any]) -> str:
    """The cart's lines and totals."""
    cart_lines = cart.get("lines") or []
    if not cart.get("cart_id") or not cart_lines:
        return "Your cart is empty."
    lines = ["Your cart:"]
    for line in cart_lines:
        discount = line.get("discount_percent")
        off = f" ({percent(discount)} off)" if discount else ""
        item = f"{line.get('name')} ({line.get('sku')})"
        lines.append(f"- {line.get('quantity')} × {item}: {money(line.get('line_total'))}{off}")
    lines.append(cart_totals(cart))
    return "\n".join(lines)


def cart_totals(cart: dict[str, Any]) -> str:
    """``Subtotal $x, discounts $y, total $z.`` with the figures the Cart holds."""
    parts = [
        f"{word} {money(cart[key])}"
        for word, key in _CART_FIGURES
        if isinstance(cart.get(key), int | float) and (cart[key] or key != "discount_total")
    ]
    text = ", ".join(parts) + "."
    return text[0].upper() + text[1:] if parts else ""


_CART_FIGURES = (("subtotal", "subtotal"), ("discounts", "discount_total"), ("total", "total"))


def orders_answer(data: Any, question: str | None = None) -> str:
    """The most recent orders; ``question`` asks which one to act on."""
    items = [o for o in (data or {}).get("items") or [] if isinstance(o, dict)]
    if not items:
        return "I don't see any orders on your account."
    recent = sorted(items, key=lambda o: str(o.get("placed_at")), reverse=True)
    lines = [question or "Your most recent orders:"]
    lines += [
        f"- {o.get('order_id')}: {o.get('status')}, placed {o.get('placed_at')}{_total(o)}"
        for o in recent[:MAX_LISTED_ORDERS]
    ]
    if question is None:
        lines.append("Tell me an order number for its details.")
    return "\n".join(lines)


def order_answer(order: dict[str, Any]) -> str:
    """One order's status, tracking and total."""
    lines = [
        f"Order {order.get('order_id')} is {order.get('status')} "
        f"(placed {order.get('placed_at')}{_total(order)})."
    ]
    if order.get("delivered_at"):
        lines.append(f"Delivered {order['delivered_at']}.")
    tracking = order.get("tracking")
    if isinstance(tracking, dict):
        lines.append(
            f"Tracking: {tracking.get('carrier')} {tracking.get('number')}, "
            f"estimated arrival {tracking.get('eta')}."
        )
    if order.get("return_window_ends"):
        lines.append(f"Return window ends {order['return_window_ends']}.")
    return "\n".join(lines)


def _total(order: dict[str, Any]) -> str:
    return f", total {money(order['total'])}" if order.get("total") is not None else ""


def promotions_answer(data: Any) -> str:
    """The promotion codes currently offered."""
    items = [p for p in (data or {}).get("items") or [] if isinstance(p, dict)]
    codes = [p for p in items if p.get("kind") == "code" and p.get("active", True)]
    if not codes:
        return "There are no promo codes I can offer right now."
    lines = ["Promo codes you can try:"]
    lines += [f"- {p.get('code')}: {p.get('description')}" for p in codes]
    lines.append('Say "apply" and the code to use one.')
    return "\n".join(lines)
