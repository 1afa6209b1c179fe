"""What the shopper asks for: intent classification and slot extraction over text.

Pure functions: ``classify(text, previous_answer)`` looks only at the current message
and the previous assistant answer (for "yes" to an offer). References such as "it" or
"the second one" are recorded here and resolved by the planner against the history.
The order of the checks in ``_kind`` is the precedence between overlapping intents.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Literal

from agent.offline import vocab as v
from agent.offline.offers import DiscountReason, Offer, parse_offer

IntentKind = Literal[
    "greeting",
    "accept_offer",
    "decline_offer",
    "handoff",
    "promo",
    "cancel",
    "refund",
    "return",
    "order_status",
    "price_match",
    "discount",
    "remove_from_cart",
    "add_to_cart",
    "cart",
    "availability",
    "price_check",
    "search",
    "unknown",
]
Fulfillment = Literal["pickup_today", "pickup", "same_day", "next_day"]
Priority = Literal["normal", "urgent"]

REASON_MAX_CHARS = 200
COMPETITOR_MAX_CHARS = 80
# Patterns scan only this much of a message: a few of them are quadratic on long runs
# of digits or words, and no shopping request needs more.
SCAN_MAX_CHARS = 1000


@dataclass(frozen=True)
class SearchSlots:
    """Constraints for ``search_products``."""

    category: str | None = None
    query: str | None = None
    attributes: tuple[tuple[str, str], ...] = ()
    min_price: float | None = None
    max_price: float | None = None

    @property
    def filtered(self) -> bool:
        """Whether a category, attribute or price constraint was stated."""
        return bool(self.category or self.attributes or self.min_price or self.max_price)


@dataclass(frozen=True)
class Intent:
    """One classified message with every slot found in it."""

    kind: IntentKind
    text: str
    skus: tuple[str, ...] = ()
    order_id: str | None = None
    ordinal: int | None = None
    refers_back: bool = False
    search: SearchSlots = field(default_factory=SearchSlots)
    fulfillment: Fulfillment | None = None
    quantity: int | None = None
    code: str | None = None
    percent: float | None = None
    amount: float | None = None
    competitor: str | None = None
    discount_reason: DiscountReason = "goodwill"
    wants_competitor: bool = False
    refund_method: Literal["original", "gift_card"] = "original"
    priority: Priority = "normal"
    offer: Offer | None = None

    @property
    def reason(self) -> str:
        """The shopper's own words, as the reason an action tool records."""
        return self.text.strip()[:REASON_MAX_CHARS]


def classify(text: str, previous_answer: str | None = None) -> Intent:
    """Classify ``text`` and extract its slots."""
    full_text, text = text, text[:SCAN_MAX_CHARS]
    skus = tuple(dict.fromkeys(m.upper() for m in v.SKU_RE.findall(text)))
    offer = parse_offer(previous_answer)
    search, fulfillment = extract_search(text)
    ordinal_match = v.ORDINAL_RE.search(text)
    percent_match = v.PERCENT_RE.search(text)
    money_match = v.MONEY_RE.search(text)
    base = Intent(
        kind="unknown",
        text=full_text,
        skus=skus,
        order_id=extract_order_id(text),
        ordinal=v.ORDINALS[ordinal_match.group(1).lower()] if ordinal_match else None,
        refers_back=bool(v.REFERENCE_RE.search(text)),
        search=search,
        fulfillment=fulfillment,
        quantity=extract_quantity(text),
        code=extract_code(text),
        percent=float(percent_match.group(1)) if percent_match else None,
        amount=float(money_match.group(1).replace(",", "")) if money_match else None,
        competitor=extract_competitor(text),
        discount_reason="loyalty" if v.LOYALTY_RE.search(text) else "goodwill",
        wants_competitor=bool(v.COMPETITOR_ASK_RE.search(text)),
        refund_method="gift_card" if v.GIFT_CARD_RE.search(text) else "original",
        priority="urgent" if v.URGENT_RE.search(text) else "normal",
        offer=offer,
    )
    return replace(base, kind=_kind(base))


def _kind(i: Intent) -> IntentKind:
    text = i.text[:SCAN_MAX_CHARS]
    has_item = bool(i.skus) or i.ordinal is not None or i.refers_back
    is_order = bool(i.order_id) or bool(v.ORDER_WORD_RE.search(text))
    has_query = i.search.query is not None
    checks: tuple[tuple[bool, IntentKind], ...] = (
        (i.offer is not None and bool(v.YES_RE.search(text)), "accept_offer"),
        (i.offer is not None and bool(v.NO_RE.search(text)), "decline_offer"),
        (bool(v.GREETING_RE.search(text)), "greeting"),
        (bool(v.HANDOFF_RE.search(text)), "handoff"),
        (i.code is not None, "promo"),
        (bool(v.CANCEL_RE.search(text)) and is_order, "cancel"),
        (bool(v.REFUND_RE.search(text)), "refund"),
        (bool(v.RETURN_RE.search(text)) and "policy" not in text.lower(), "return"),
        # "can RUN-00005 be delivered tomorrow?" asks about an item, not an order
        (
            bool(i.order_id) or (bool(v.ORDER_STATUS_RE.search(text)) and (is_order or not i.skus)),
            "order_status",
        ),
        (bool(v.PROMO_RE.search(text)), "promo"),
        (bool(v.PRICE_MATCH_RE.search(text)), "price_match"),
        (bool(v.DISCOUNT_RE.search(text)) or i.percent is not None, "discount"),
        (
            bool(v.REMOVE_RE.search(text)) and (has_item or bool(v.CART_RE.search(text))),
            "remove_from_cart",
        ),
        (bool(v.ADD_RE.search(text)) and has_item and not i.search.category, "add_to_cart"),
        (bool(v.CART_RE.search(text)), "cart"),
        (
            (bool(v.AVAILABILITY_RE.search(text)) or i.fulfillment is not None)
            and _about_one_item(i),
            "availability",
        ),
        (bool(v.PRICE_RE.search(text)) and _about_one_item(i), "price_check"),
        (i.search.filtered, "search"),
        (has_query and bool(v.SEARCH_RE.search(text) or v.PRICE_RE.search(text)), "search"),
        (has_query and bool(v.AVAILABILITY_RE.search(text)), "search"),
    )
    return next((kind for matched, kind in checks if matched), "unknown")


def _about_one_item(i: Intent) -> bool:
    """A question about a named or referred item rather than a search over the catalog."""
    if i.skus:
        return True
    return (i.ordinal is not None or i.refers_back) and not i.search.filtered


def extract_order_id(text: str) -> str | None:
    """``O100123`` from "O100123", "o100123" or "order #100123"."""
    match = v.ORDER_RE.search(text)
    if not match:
        return None
    return "O" + (match.group(1) or match.group(2))


def extract_quantity(text: str) -> int | None:
    """How many units ("add 2 of the first one", "two pairs", "quantity 3")."""
    for match in v.QUANTITY_RE.finditer(text):
        word = (match.group(1) or match.group(2) or "").lower()
        number = v.WORD_NUMBERS.get(word) or (int(word) if word.isdigit() else 0)
        if 0 < number <= 50:
            return number
    return None


def extract_code(text: str) -> str | None:
    """A promotion code, upper-cased, when the shopper clearly typed one."""
    for match in v.CODE_RE.finditer(text):
        after_keyword = bool(match.group(1)) or match.group(3) is not None
        token = match.group(2) or match.group(3)
        if token.lower() in v.CODE_FILLERS:
            continue
        looks_like_code = token.isupper() or (
            any(c.isdigit() for c in token) and any(c.isalpha() for c in token)
        )
        if after_keyword or looks_like_code:
            return token.upper()
    return None


def extract_competitor(text: str) -> str | None:
    """The competitor a price-match request names ("price match RunMart at $89")."""
    for match in v.COMPETITOR_NAME_RE.finditer(text):
        name = (match.group(1) or match.group(2) or "").strip()
        words = [w for w in name.split() if w not in v.COMPETITOR_STOP]
        if words and not v.SKU_RE.fullmatch(words[0]):
            return " ".join(words)[:COMPETITOR_MAX_CHARS]
    return None


def extract_fulfillment(text: str) -> Fulfillment | None:
    """The fulfillment requirement a message states, if any."""
    if v.PICKUP_TODAY_RE.search(text):
        return "pickup_today"
    if v.SAME_DAY_RE.search(text):
        return "same_day"
    if v.NEXT_DAY_RE.search(text):
        return "next_day"
    if v.PICKUP_RE.search(text):
        return "pickup"
    return None


def extract_search(text: str) -> tuple[SearchSlots, Fulfillment | None]:
    """Catalog constraints and the fulfillment requirement of a message."""
    rest = v.SKU_RE.sub(" ", text)
    rest = v.ORDER_RE.sub(" ", rest)
    attributes: list[tuple[str, str]] = []
    category = _category(rest)
    rest = v.CATEGORY_RE.sub(" ", rest)

    size = v.SIZE_RE.search(rest)
    if size:
        attributes.append(("size", size.group(1) or size.group(2)))
        rest = rest[: size.start()] + " " + rest[size.end() :]
    width = v.WIDTH_RE.search(rest)
    if width:
        attributes.append(("width", "wide" if width.group(1).lower() == "wide" else "standard"))
    surface = v.SURFACE_RE.search(text)
    if surface and category in (None, "running-shoes"):
        attributes.append(("surface", surface.group(1).lower()))
    gender = v.GENDER_RE.search(rest)
    if gender and category in (None, "running-shoes", "apparel"):
        value = "women" if gender.group(1) else "men" if gender.group(2) else "unisex"
        attributes.append(("gender", value))
    gpu = v.GPU_RE.search(rest)
    if gpu:
        suffix = " Ti" if gpu.group(3) else ""
        attributes.append(("gpu", f"{gpu.group(1).upper()} {gpu.group(2)}{suffix}"))
    ram = v.RAM_RE.search(rest)
    if ram:
        attributes.append(("ram_gb", ram.group(1)))
    screen = v.SCREEN_RE.search(rest)
    if screen and category in (None, "gaming-laptops"):
        attributes.append(("screen_in", screen.group(1)))
    for pattern in (v.GPU_RE, v.RAM_RE, v.SCREEN_RE, v.WIDTH_RE, v.SURFACE_RE, v.GENDER_RE):
        rest = pattern.sub(" ", rest)

    min_price, max_price, rest = _price_range(rest)
    for pattern in (v.PICKUP_TODAY_RE, v.SAME_DAY_RE, v.NEXT_DAY_RE, v.PICKUP_RE, v.PERCENT_RE):
        rest = pattern.sub(" ", rest)
    words = [
        w.strip("'-")
        for w in v.TOKEN_RE.findall(rest)
        if w.lower().strip("'-") not in v.STOPWORDS and len(w.strip("'-")) > 1
    ]
    slots = SearchSlots(
        category=category,
        query=" ".join(words) or None,
        attributes=tuple(attributes),
        min_price=min_price,
        max_price=max_price,
    )
    return slots, extract_fulfillment(text)


def _category(text: str) -> str | None:
    found = [v.category_of(m.group(1)) for m in v.CATEGORY_RE.finditer(text)]
    preferred = [c for c in v.CATEGORY_PRIORITY if c in found]
    candidates = preferred or found
    return candidates[0] if candidates else None


def _price_range(text: str) -> tuple[float | None, float | None, str]:
    """(min, max, text without the price phrases)."""
    low: float | None = None
    high: float | None = None
    between = v.BETWEEN_RE.search(text)
    if between:
        groups = [g for g in between.groups() if g]
        low, high = sorted(_number(g) for g in groups[:2])
        text = v.BETWEEN_RE.sub(" ", text, count=1)
    cap = v.MAX_PRICE_RE.search(text)
    if cap and high is None:
        high = _number(cap.group(1))
        text = v.MAX_PRICE_RE.sub(" ", text, count=1)
    floor = v.MIN_PRICE_RE.search(text)
    if floor and low is None:
        low = _number(floor.group(1))
        text = v.MIN_PRICE_RE.sub(" ", text, count=1)
    return low, high, v.MONEY_RE.sub(" ", text)


def _number(text: str) -> float:
    return float(text.replace(",", ""))
