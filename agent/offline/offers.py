"""Offers the planner makes after a denial, written so a later turn can read them back.

The planner is stateless: when policy denies a proposal with an allowed alternative,
the answer offers it as a question, and the only memory of that offer is the text.
``offer_sentence`` and ``parse_offer`` are therefore kept side by side; a "yes" in the
next turn turns the parsed offer into the proposal, nothing else does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

from agent.offline.format import percent

OfferAction = Literal["offer_discount", "add_to_cart"]
DiscountReason = Literal["goodwill", "price_match", "loyalty"]

_REASON_WORDS: dict[DiscountReason, str] = {
    "goodwill": "a goodwill discount",
    "loyalty": "a loyalty discount",
    "price_match": "a price match",
}
_WORD_REASONS = {words: reason for reason, words in _REASON_WORDS.items()}

# The item is "Name (SKU)" or a bare SKU when the name was not known.
_DISCOUNT_OFFER_RE = re.compile(
    r"I can offer (\d+(?:\.\d+)?)% off (?:[^\n]*?\()?([A-Z]{3}-\d{5})\)? as "
    r"(a goodwill discount|a loyalty discount|a price match)(?: with (.+?))? instead"
)
_ADD_OFFER_RE = re.compile(r"I can add (\d+) of (?:[^\n]*?\()?([A-Z]{3}-\d{5})\)? instead")


@dataclass(frozen=True)
class Offer:
    """An allowed alternative the shopper has been asked about."""

    action: OfferAction
    sku: str
    percent: float | None = None
    quantity: int | None = None
    reason: DiscountReason = "goodwill"
    competitor: str | None = None

    def arguments(self) -> dict[str, Any]:
        """Arguments of the action tool call that carries out this offer."""
        if self.action == "add_to_cart":
            return {"sku": self.sku, "quantity": self.quantity or 1}
        return {
            "sku": self.sku,
            "percent": self.percent,
            "reason": self.reason,
            "competitor": self.competitor,
        }


def offer_from_repair(
    action: str, arguments: dict[str, Any], alternative: dict[str, Any] | None
) -> Offer | None:
    """The offer a denial's ``repair.alternative`` allows, if it is one we can phrase."""
    if not alternative:
        return None
    merged = {**arguments, **alternative}
    sku = merged.get("sku")
    if not isinstance(sku, str):
        return None
    if action == "offer_discount" and isinstance(merged.get("percent"), int | float):
        reason = merged.get("reason")
        competitor = merged.get("competitor")
        return Offer(
            action="offer_discount",
            sku=sku,
            percent=float(merged["percent"]),
            reason=reason if reason in _REASON_WORDS else "goodwill",
            competitor=competitor if isinstance(competitor, str) and competitor else None,
        )
    if action == "add_to_cart" and isinstance(merged.get("quantity"), int):
        return Offer(action="add_to_cart", sku=sku, quantity=int(merged["quantity"]))
    return None


def offer_sentence(offer: Offer, label: str) -> str:
    """The question that offers ``offer``; ``label`` names the item and ends with its SKU."""
    if offer.action == "add_to_cart":
        return f"I can add {offer.quantity} of {label} instead — would you like that?"
    with_competitor = f" with {offer.competitor}" if offer.competitor else ""
    return (
        f"I can offer {percent(offer.percent or 0)} off {label} as "
        f"{_REASON_WORDS[offer.reason]}{with_competitor} instead — would you like that?"
    )


def parse_offer(text: str | None) -> Offer | None:
    """The offer made in an earlier answer, if that answer made one."""
    if not text:
        return None
    match = _DISCOUNT_OFFER_RE.search(text)
    if match:
        return Offer(
            action="offer_discount",
            sku=match.group(2),
            percent=float(match.group(1)),
            reason=_WORD_REASONS[match.group(3)],
            competitor=match.group(4),
        )
    match = _ADD_OFFER_RE.search(text)
    if match:
        return Offer(action="add_to_cart", sku=match.group(2), quantity=int(match.group(1)))
    return None
