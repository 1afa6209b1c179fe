"""The steps of each intent: given this turn's results so far, the next tool calls or the answer.

Each flow moves forward only on which tools already ran this turn, never on whether
they succeeded, so a flow that gets back what it asked for always reaches an answer
in a few steps (at most three rounds of calls, see ``planner.MAX_ROUNDS``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from agent.offline import answers, outcomes
from agent.offline.answers import label
from agent.offline.format import percent
from agent.offline.intents import Intent, IntentKind, SearchSlots
from agent.offline.turn import Turn

Call = tuple[str, dict[str, Any]]
Step = str | list[Call]
Flow = Callable[[Intent, Turn], Step]

SEARCH_LIMIT = 5


def target_sku(intent: Intent, turn: Turn) -> str | None:
    """The item meant: an explicit SKU, else "the second one" / "it" from the previous answer."""
    if intent.skus:
        return intent.skus[0]
    listed = turn.skus_in_previous_answer()
    if intent.ordinal is not None and listed:
        index = intent.ordinal
        return listed[index] if -len(listed) <= index < len(listed) else None
    return turn.last_sku_in_history()


def _search_call(slots: SearchSlots, intent: Intent) -> Call:
    attributes = [{"name": name, "value": value} for name, value in slots.attributes]
    return (
        "search_products",
        {
            "query": slots.query or "",
            "category": slots.category,
            "brand": None,
            "min_price": slots.min_price,
            "max_price": slots.max_price,
            "attributes": attributes,
            "in_stock_only": intent.fulfillment is not None,
            "limit": SEARCH_LIMIT,
        },
    )


def search(intent: Intent, turn: Turn) -> Step:
    """Search, then prices (and delivery options when required) for the top results."""
    searches = turn.results("search_products")
    if not searches:
        return [_search_call(intent.search, intent)]
    last = searches[-1]
    if not last.has("items"):
        return answers.read_failed(last, "the catalog results")
    items = [
        item
        for item in last.data.get("items") or []
        if isinstance(item, dict) and isinstance(item.get("sku"), str)
    ][:SEARCH_LIMIT]
    # Free words the catalog did not know ("comfy", "women's") should not hide
    # everything the stated filters allow: retry once without them.
    relaxed = replace(intent.search, query=None)
    can_relax = intent.search.query is not None and intent.search.filtered
    if not items:
        if can_relax and len(searches) == 1:
            return [_search_call(relaxed, intent)]
        return answers.no_matches(intent.search)
    if not turn.ran("get_price"):
        calls: list[Call] = []
        for item in items:
            calls.append(("get_price", {"sku": item["sku"]}))
            if intent.fulfillment:
                calls.append(("get_delivery_options", {"sku": item["sku"], "quantity": 1}))
        return calls
    return answers.search_answer(
        intent,
        items,
        turn.by_sku("get_price"),
        turn.by_sku("get_delivery_options"),
        turn.names(),
        relaxed if len(searches) > 1 else None,
    )


def _searchable(intent: Intent) -> bool:
    return intent.search.filtered or intent.search.query is not None


def price_check(intent: Intent, turn: Turn) -> Step:
    """Price of one item, or of the top matches when the shopper named no item."""
    sku = target_sku(intent, turn)
    if sku is None:
        return search(intent, turn) if _searchable(intent) else answers.ask_item("price")
    result = turn.last("get_price")
    if result is None:
        return [("get_price", {"sku": sku})]
    return answers.price_answer(sku, result, intent.wants_competitor, turn.names())


def availability(intent: Intent, turn: Turn) -> Step:
    """Stock and delivery options of one item for the shopper's region."""
    sku = target_sku(intent, turn)
    if sku is None:
        return search(intent, turn) if _searchable(intent) else answers.ask_item("check")
    if not turn.ran("check_inventory"):
        return [
            ("check_inventory", {"sku": sku}),
            ("get_delivery_options", {"sku": sku, "quantity": intent.quantity or 1}),
        ]
    return answers.availability_answer(
        sku,
        turn.last("check_inventory"),
        turn.last("get_delivery_options"),
        intent.fulfillment,
        turn.names(),
    )


def promo(intent: Intent, turn: Turn) -> Step:
    """Apply a code, or list the codes on offer when none was given."""
    if intent.code:
        result = turn.last("apply_promotion")
        if result is None:
            return [("apply_promotion", {"code": intent.code})]
        doing = f"apply {intent.code}"
        return outcomes.action_answer(
            result, doing, turn.names(), outcomes.promo_applied(intent.code)
        )
    listing = turn.last("list_promotions")
    if listing is None:
        return [("list_promotions", {"category": intent.search.category})]
    if not listing.has("items"):
        return answers.read_failed(listing, "the current promotions")
    return answers.promotions_answer(listing.data)


def discount(intent: Intent, turn: Turn) -> Step:
    """A goodwill/loyalty discount or a price match on one item; policy sets the limits."""
    sku = target_sku(intent, turn)
    if sku is None:
        cart = turn.last("get_cart")
        if cart is None:
            return [("get_cart", {})]
        if not cart.has("lines"):
            return answers.read_failed(cart, "your cart")
        lines = cart.data.get("lines") or []
        if len(lines) != 1:
            ask = answers.ask_item("discount")
            return f"{answers.cart_answer(cart.data)}\n{ask}" if lines else ask
        sku = str(lines[0].get("sku"))
    result = turn.last("offer_discount")
    names = turn.names()
    if result is None:
        if intent.kind == "price_match":
            args: dict[str, Any] = {"sku": sku, "percent": None, "reason": "price_match"}
            return [("offer_discount", {**args, "competitor": intent.competitor})]
        args = {"sku": sku, "percent": intent.percent, "reason": intent.discount_reason}
        return [("offer_discount", {**args, "competitor": None})]
    if intent.kind == "price_match":
        doing = f"price match {label(sku, names)}"
    elif intent.percent is not None:
        doing = f"give {percent(intent.percent)} off {label(sku, names)}"
    else:
        doing = f"give a discount on {label(sku, names)}"
    return outcomes.action_answer(result, doing, names, outcomes.discount_applied(sku, names))


def add_to_cart(intent: Intent, turn: Turn) -> Step:
    """Add the meant item to the cart."""
    sku = target_sku(intent, turn)
    if sku is None:
        return answers.ask_item("add to your cart")
    result = turn.last("add_to_cart")
    if result is None:
        return [("add_to_cart", {"sku": sku, "quantity": intent.quantity or 1})]
    names = turn.names()
    doing = f"add {label(sku, names)} to your cart"
    return outcomes.action_answer(result, doing, names, outcomes.added(sku, names))


def remove_from_cart(intent: Intent, turn: Turn) -> Step:
    """Remove the meant item from the cart."""
    sku = target_sku(intent, turn)
    if sku is None:
        return answers.ask_item("remove from your cart")
    result = turn.last("remove_from_cart")
    if result is None:
        return [("remove_from_cart", {"sku": sku})]
    names = turn.names()
    doing = f"remove {label(sku, names)} from your cart"
    return outcomes.action_answer(result, doing, names, outcomes.removed(sku, names))


def cart(intent: Intent, turn: Turn) -> Step:
    """The cart's contents and totals."""
    result = turn.last("get_cart")
    if result is None:
        return [("get_cart", {})]
    if not result.has("lines"):
        return answers.read_failed(result, "your cart")
    return answers.cart_answer(result.data)


def order_status(intent: Intent, turn: Turn) -> Step:
    """One order's status, or the most recent orders when no id was given."""
    if intent.order_id:
        result = turn.last("get_order")
        if result is None:
            return [("get_order", {"order_id": intent.order_id})]
        if not result.has("order_id", "status"):
            return answers.read_failed(result, f"order {intent.order_id}")
        return answers.order_answer(result.data)
    listing = turn.last("list_orders")
    if listing is None:
        return [("list_orders", {})]
    if not listing.has("items"):
        return answers.read_failed(listing, "your orders")
    return answers.orders_answer(listing.data)


_ORDER_VERBS = {"return": "return", "refund": "get a refund for", "cancel": "cancel"}


def order_action(intent: Intent, turn: Turn) -> Step:
    """Return, refund or cancel: read the order first, then propose the action."""
    verb = _ORDER_VERBS[intent.kind]
    order_id = intent.order_id or turn.last_order_in_history()
    if order_id is None:
        listing = turn.last("list_orders")
        if listing is None:
            return [("list_orders", {})]
        if not listing.has("items"):
            return answers.read_failed(listing, "your orders")
        return answers.orders_answer(listing.data, f"Which order would you like to {verb}?")
    order = turn.last("get_order")
    if order is None:
        return [("get_order", {"order_id": order_id})]
    if not order.has("status"):
        return answers.read_failed(order, f"order {order_id}")
    names = turn.names()
    if intent.kind == "return":
        on_order = [str(ln.get("sku")) for ln in order.data.get("lines") or []]
        skus = [s for s in intent.skus if s in on_order] or on_order
        call: Call = ("request_return", {"order_id": order_id, "skus": skus})
        executed = outcomes.returned(order_id)
    elif intent.kind == "refund":
        args = {"order_id": order_id, "amount": intent.amount}
        call = ("request_refund", {**args, "method": intent.refund_method})
        executed = outcomes.refunded(order_id)
    else:
        call = ("cancel_order", {"order_id": order_id})
        executed = outcomes.cancelled(order_id)
    result = turn.last(call[0])
    if result is None:
        return [(call[0], {**call[1], "reason": intent.reason})]
    return outcomes.action_answer(result, f"{verb} order {order_id}", names, executed)


def handoff(intent: Intent, turn: Turn) -> Step:
    """Open a ticket for a person on the team."""
    result = turn.last("escalate_to_human")
    if result is None:
        args = {"summary": intent.reason, "order_id": intent.order_id}
        return [("escalate_to_human", {**args, "priority": intent.priority})]
    doing = "reach a person on our team"
    return outcomes.action_answer(result, doing, turn.names(), outcomes.escalated)


def accept_offer(intent: Intent, turn: Turn) -> Step:
    """The shopper agreed to the alternative offered in the previous answer: propose it."""
    offer = intent.offer
    assert offer is not None
    result = turn.last(offer.action)
    if result is None:
        return [(offer.action, offer.arguments())]
    names = turn.names()
    if offer.action == "add_to_cart":
        doing = f"add {label(offer.sku, names)} to your cart"
        return outcomes.action_answer(result, doing, names, outcomes.added(offer.sku, names))
    # No percent in this sentence: on a denial, no tool result of this turn may hold it.
    doing = f"apply that discount on {label(offer.sku, names)}"
    return outcomes.action_answer(result, doing, names, outcomes.discount_applied(offer.sku, names))


FLOWS: dict[IntentKind, Flow] = {
    "greeting": lambda intent, turn: answers.greeting(),
    "accept_offer": accept_offer,
    "decline_offer": lambda intent, turn: answers.declined(),
    "handoff": handoff,
    "promo": promo,
    "cancel": order_action,
    "refund": order_action,
    "return": order_action,
    "order_status": order_status,
    "price_match": discount,
    "discount": discount,
    "remove_from_cart": remove_from_cart,
    "add_to_cart": add_to_cart,
    "cart": cart,
    "availability": availability,
    "price_check": price_check,
    "search": search,
    "unknown": lambda intent, turn: answers.cannot_help(),
}
