"""Answer text for a proposed action, from the envelope validation/execution returned.

Only an ``executed`` envelope is reported as done. A denial is explained with the
policy's own reasons; an allowed alternative is offered as a question and never
proposed in the same turn (the shopper has not agreed to it yet).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from agent.offline.answers import cart_totals, label
from agent.offline.format import money, percent
from agent.offline.offers import offer_from_repair, offer_sentence
from agent.offline.turn import Result

Executed = Callable[[Any], str]


def action_answer(result: Result, doing: str, names: dict[str, str], executed: Executed) -> str:
    """The answer for one action proposal; ``doing`` completes "I couldn't …"."""
    status = result.status
    if status == "executed":
        return executed(result.data if isinstance(result.data, dict) else {})
    if status == "denied":
        return _denied(result, doing, names)
    if status == "pending_approval":
        return (
            f"Your request to {doing} needs approval from a member of our team, "
            "so it has not happened yet. You'll see the outcome once it's reviewed."
        )
    if status in ("rejected", "expired"):
        return _not_approved(result, doing)
    error = result.envelope.get("error")
    message = error.get("message") if isinstance(error, dict) else None
    if status == "failed":
        detail = f": {_sentence(message)}" if message else "."
        return f"I couldn't {doing} — the request didn't go through{detail} Nothing was changed."
    if result.error_code == "out_of_scope":
        return "I can only act on the signed-in customer's own orders and account."
    if result.error_code in ("invalid_arguments", "not_found") and message:
        return f"I couldn't {doing}: {_sentence(message)} Nothing was changed."
    return f"I couldn't {doing} right now, so nothing was changed. Please try again in a moment."


def _not_approved(result: Result, doing: str) -> str:
    if result.status == "expired":
        return (
            f"Your request to {doing} needed a person's approval and nobody decided in time, "
            "so nothing was changed."
        )
    comment = str(result.envelope.get("comment") or "").strip()
    why = f' They said: "{comment}"' if comment else ""
    return (
        f"A member of our team reviewed your request to {doing} and declined it, "
        f"so nothing was changed.{why}"
    )


def _denied(result: Result, doing: str, names: dict[str, str]) -> str:
    reasons = [_sentence(str(r)) for r in result.envelope.get("reasons") or []]
    why = " ".join(reasons) if reasons else "it isn't allowed by our policy."
    lines = [f"I can't {doing}: {why}"]
    repair = result.envelope.get("repair")
    alternative = repair.get("alternative") if isinstance(repair, dict) else None
    offer = offer_from_repair(
        result.call.name,
        result.call.arguments,
        alternative if isinstance(alternative, dict) else None,
    )
    if offer is not None:
        lines.append(offer_sentence(offer, label(offer.sku, names)))
    return "\n".join(lines)


def _sentence(text: str | None) -> str:
    text = (text or "").strip()
    return text if text.endswith((".", "!", "?")) else f"{text}."


def cart_line(cart: dict[str, Any], sku: str) -> dict[str, Any] | None:
    """The cart line of ``sku``."""
    return next((ln for ln in cart.get("lines") or [] if ln.get("sku") == sku), None)


def added(sku: str, names: dict[str, str]) -> Executed:
    """Confirmation of ``add_to_cart``."""

    def render(cart: Any) -> str:
        line = cart_line(cart, sku)
        if line is None:
            return f"Added {label(sku, names)} to your cart. {cart_totals(cart)}"
        item = f"{line.get('name')} ({sku})"
        return (
            f"Added {item} to your cart — you now have {line.get('quantity')}, "
            f"line total {money(line.get('line_total'))}.\n{cart_totals(cart)}"
        )

    return render


def removed(sku: str, names: dict[str, str]) -> Executed:
    """Confirmation of ``remove_from_cart``."""
    return lambda cart: f"Removed {label(sku, names)} from your cart. {cart_totals(cart)}"


def promo_applied(code: str) -> Executed:
    """Confirmation of ``apply_promotion``."""
    return lambda cart: f"Applied {code}. {cart_totals(cart)}"


def discount_applied(sku: str, names: dict[str, str]) -> Executed:
    """Confirmation of ``offer_discount``, with the line's new price."""

    def render(cart: Any) -> str:
        line = cart_line(cart, sku)
        if line is None or not line.get("discount_percent"):
            return f"Done — the discount on {label(sku, names)} is applied. {cart_totals(cart)}"
        return (
            f"Done — {percent(line['discount_percent'])} off {line.get('name')} ({sku}); "
            f"the line total is now {money(line.get('line_total'))}.\n{cart_totals(cart)}"
        )

    return render


def refunded(order_id: str) -> Executed:
    """Confirmation of ``request_refund``."""

    def render(refund: Any) -> str:
        method = "a gift card" if refund.get("method") == "gift_card" else "your original payment"
        amount = f"of {money(refund['amount'])} " if refund.get("amount") is not None else ""
        ref = f" (refund {refund['refund_id']})" if refund.get("refund_id") else ""
        return f"Your refund {amount}for order {order_id} has been issued to {method}{ref}."

    return render


def returned(order_id: str) -> Executed:
    """Confirmation of ``request_return``."""

    def render(ret: Any) -> str:
        lines = [f"Your return for order {order_id} is authorized (return {ret.get('return_id')})."]
        if ret.get("label_url"):
            lines.append(f"Return label: {ret['label_url']}")
        return "\n".join(lines)

    return render


def cancelled(order_id: str) -> Executed:
    """Confirmation of ``cancel_order``."""
    return lambda order: f"Order {order_id} is now {order.get('status', 'cancelled')}."


def escalated(data: Any) -> str:
    """Confirmation of ``escalate_to_human``."""
    ticket = f" (ticket {data['ticket_id']})" if data.get("ticket_id") else ""
    return (
        f"I've passed this to a person on our support team{ticket}. They will follow up with you."
    )
