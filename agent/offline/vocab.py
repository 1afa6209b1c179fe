"""Words and patterns the offline planner recognises, compiled once at import.

Tables are data so that adding a synonym or a stopword never touches the logic in
``intents``. Attribute values follow the catalog's documented attribute names
(docs/sandbox-api.md); they are strings because the catalog filters on ``key:value``.
"""

from __future__ import annotations

import re

SKU_RE = re.compile(r"\b([A-Za-z]{3}-\d{5})\b")
ORDER_RE = re.compile(r"\b[Oo](\d{6})\b|\border\s*(?:#|no\.?|number)?\s*(\d{6})\b", re.I)
PERCENT_RE = re.compile(r"(\d{1,3}(?:\.\d+)?)\s*(?:%|percent\b|per cent\b)", re.I)
MONEY_RE = re.compile(r"\$\s?(\d[\d,]*(?:\.\d{1,2})?)")
_NUM = r"\$?\s?(\d[\d,]*(?:\.\d{1,2})?)"
# A number followed by a unit is a spec ("over 16 inch", "at least 32GB"), not a price.
_NOT_PRICE = r"(?!\d|[.,]\d|\s*(?:gb|tb|inch|in\b|\"|hz|%|percent|mm|kg|lb))"
BETWEEN_RE = re.compile(
    rf"\bbetween\s+{_NUM}\s+(?:and|to)\s+{_NUM}|{_NUM}\s*(?:-|to)\s*{_NUM}\b", re.I
)
MAX_PRICE_RE = re.compile(
    rf"(?:\bunder|\bbelow|\bless than|\bcheaper than|\bmax(?:imum)?|\bup to|\bno more than"
    rf"|\bat most|\bbudget(?: of| is)?|<)\s*{_NUM}{_NOT_PRICE}",
    re.I,
)
MIN_PRICE_RE = re.compile(
    rf"(?:\bover|\babove|\bmore than|\bat least|\bmin(?:imum)?|\bstarting at|>)\s*{_NUM}"
    rf"{_NOT_PRICE}",
    re.I,
)
SIZE_RE = re.compile(r"\bsize\s*(\d{1,2}(?:\.5)?)\b|\b(\d{1,2}(?:\.5)?)\s*(?=wide\b)", re.I)
WIDTH_RE = re.compile(r"\b(wide|standard width|regular width)\b", re.I)
GPU_RE = re.compile(r"\b(rtx|gtx)\s*-?\s*(\d{4})(\s*ti)?\b", re.I)
RAM_RE = re.compile(r"\b(\d{1,3})\s*gb\s*(?:of\s*)?(?:ram|memory)\b", re.I)
SCREEN_RE = re.compile(r"\b(\d{2}(?:\.\d)?)\s*(?:-?\s*inch(?:es)?|\"|in\b)", re.I)
SURFACE_RE = re.compile(r"\b(trail|road)\b", re.I)
GENDER_RE = re.compile(r"\b(?:(women|ladies|female)|(men|male)|(unisex))(?:'?s)?\b", re.I)
QUANTITY_RE = re.compile(
    r"\b(\d{1,2}|one|two|three|four|five|six|seven|eight|nine|ten)\s*(?:x\b|of\b|pairs?\b"
    r"|units?\b|items?\b|more\b|copies\b|(?=[A-Za-z]{3}-\d{5}))|\bquantity\s*:?\s*(\d{1,2})\b",
    re.I,
)
WORD_NUMBERS = {
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
}
ORDINALS = {
    "first": 0,
    "1st": 0,
    "second": 1,
    "2nd": 1,
    "third": 2,
    "3rd": 2,
    "fourth": 3,
    "4th": 3,
    "fifth": 4,
    "5th": 4,
    "last": -1,
}
ORDINAL_RE = re.compile(r"\b(first|1st|second|2nd|third|3rd|fourth|4th|fifth|5th|last)\b", re.I)
REFERENCE_RE = re.compile(r"\b(it|that|this|them|those|these|that one|this one)\b", re.I)

# Promo codes: the token after a trigger word, unless it is a filler word.
CODE_RE = re.compile(
    r"\b(?:apply|use|redeem|enter)\s+(?:the\s+|my\s+|a\s+|this\s+)?(?:promo\s+|promotion\s+"
    r"|discount\s+|coupon\s+)?(code\s+)?([A-Za-z0-9]{3,20})\b(?!-)"
    r"|\b(?:code|coupon|promo)\s*:?\s+([A-Za-z0-9]{3,20})\b(?!-)",
    re.I,
)


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


CODE_FILLERS = _words(
    "code codes promo coupon coupons promotion discount the any my this that it for to a an"
    " please one some is on in"
)

# Fulfillment requirement phrases, checked in this order.
PICKUP_TODAY_RE = re.compile(
    r"\bpick\s*-?\s*(?:it |them |one |these |those )?up\b.*\btoday\b|\btoday\b.*\bpick\s*-?\s*up\b"
    r"|\bin[- ]store today\b|\btoday in[- ]store\b|\bcollect (?:it |them )?today\b",
    re.I,
)
SAME_DAY_RE = re.compile(
    r"\bsame[- ]day\b|\bdeliver(?:ed|y)?\b.*\btoday\b|\btoday\b.*\bdeliver|\barrive today\b"
    r"|\bget (?:it|them) today\b",
    re.I,
)
NEXT_DAY_RE = re.compile(r"\btomorrow\b|\bnext[- ]day\b|\bovernight\b", re.I)
PICKUP_RE = re.compile(r"\bpick\s*-?\s*up\b|\bin[- ]store\b|\bnear me\b|\bcollect\b", re.I)

GREETING_RE = re.compile(
    r"^\s*(?:hi|hello|hey|hiya|good (?:morning|afternoon|evening)|yo|howdy)\b[\s!.,]*"
    r"(?:there)?[\s!.,]*$|\bwhat can you do\b|\bhow (?:does|do) (?:this|you) work\b"
    r"|^\s*help\s*[!?.]*\s*$|\bwhat do you do\b",
    re.I,
)
YES_RE = re.compile(
    r"^\s*(?:yes|yeah|yep|yup|sure|ok(?:ay)?|please do|do it|do that|go ahead|sounds good"
    r"|deal|fine|great|perfect|that works|i'?ll take it|let'?s do (?:it|that))\b",
    re.I,
)
NO_RE = re.compile(r"^\s*(?:no|nope|nah|no thanks|not now|never mind|don'?t)\b", re.I)

_HANDOFF_NOUNS = (
    r"\b(?:human|humans|real person|live person|a person|agent|representative|rep|manager"
    r"|supervisor|operator|customer service|support team)\b"
)
HANDOFF_RE = re.compile(
    rf"{_HANDOFF_NOUNS}.*\b(?:talk|speak|chat|connect|transfer|get|want|need|please)\b"
    rf"|\b(?:talk|speak|chat|connect|transfer|escalate|get|want|need|put me)\b.*{_HANDOFF_NOUNS}"
    r"|^\W*(?:agent|human|representative|operator)\W*$|\bcomplain(?:t|ts|ing)?\b|\bescalat",
    re.I,
)
URGENT_RE = re.compile(
    r"\b(?:urgent|urgently|asap|immediately|right now|angry|furious|livid|unacceptable"
    r"|ridiculous|outrageous|terrible|worst|disgusting|lawyer|fraud|scam)\b|!!",
    re.I,
)
RETURN_RE = re.compile(r"\breturn(?:ing|ed)?\b|\bsend (?:it|them) back\b", re.I)
REFUND_RE = re.compile(r"\brefund(?:ed)?\b|\bmoney back\b|\breimburse", re.I)
CANCEL_RE = re.compile(r"\bcancel(?:l?ed|l?ing|lation)?\b", re.I)
ORDER_STATUS_RE = re.compile(
    r"\bmy (?:last |latest |recent |previous )?orders?\b|\border status\b|\btrack(?:ing)?\b"
    r"|\bwhere(?:'s| is) my\b|\bshipped\b|\bdelivered\b|\bpackage\b|\bparcel\b"
    r"|\bhas my\b.*\b(?:arrived|shipped)\b",
    re.I,
)
ORDER_WORD_RE = re.compile(r"\borders?\b", re.I)
GIFT_CARD_RE = re.compile(r"\bgift ?card\b", re.I)
PRICE_MATCH_RE = re.compile(
    r"\bprice[- ]?match\b|\bmatch (?:the |their |a |that )?(?:price|competitor)\b"
    r"|\bmatch\b.*\$|\bcheaper (?:at|on|elsewhere|somewhere)\b"
    r"|\b(?:has|have|sells?|selling|offers?|offering|lists?) (?:it|this|that|them|these|one)\b"
    r".*\b(?:cheaper|less|lower|for \$)",
    re.I,
)
DISCOUNT_RE = re.compile(
    r"\bdiscount\b|\b\d{1,3}\s*(?:%|percent)\s*off\b|\bdeal\b|\bcheaper\b|\bbetter price\b"
    r"|\bknock\b.*\boff\b|\bmarkdown\b|\bgoodwill\b",
    re.I,
)
LOYALTY_RE = re.compile(r"\bloyal(?:ty)?\b|\bmember(?:ship)?\b|\bgold\b|\bplatinum\b", re.I)
PROMO_RE = re.compile(r"\bpromo(?:tion)?s?\b|\bcoupons?\b|\bvoucher\b|\bcodes?\b", re.I)
REMOVE_RE = re.compile(r"\b(?:remove|delete|take out|drop)\b", re.I)
ADD_RE = re.compile(r"\badd\b|\bput\b.*\bcart\b|\bi'?ll take\b|\bbuy\b|\bget me\b", re.I)
CART_RE = re.compile(r"\bcart\b|\bbasket\b|\bbag total\b|\bcheckout total\b", re.I)
PRICE_RE = re.compile(
    r"\bhow much\b|\bprice\b|\bcost(?:s)?\b|\bpriced\b|\bwhat does .* cost\b", re.I
)
COMPETITOR_ASK_RE = re.compile(
    r"\bcompetitors?\b|\belsewhere\b|\bother (?:stores|shops|retailers|sites)\b|\bcompare\b"
    r"|\bcheaper\b",
    re.I,
)
AVAILABILITY_RE = re.compile(
    r"\bin stock\b|\bavailab|\bstock\b|\bpick\b(?:\s+\w+)?\s*-?\s*up\b|\bpickup\b|\bdeliver"
    r"|\bshipping\b"
    r"|\bship\b|\bin[- ]store\b|\bnear me\b|\bwhen can i get\b|\bsame[- ]day\b|\bnext[- ]day\b",
    re.I,
)
SEARCH_RE = re.compile(
    r"\blooking for\b|\bneed\b|\bwant\b|\bshow me\b|\bfind\b|\bsearch\b"
    r"|\bdo you (?:have|sell|carry)\b|\brecommend|\bany\b|\bsuggest|\boptions?\b|\bbrowse\b",
    re.I,
)
COMPETITOR_NAME_RE = re.compile(
    r"\bmatch(?:ing)?\s+(?:the\s+)?(?:price\s+(?:at|from|of)\s+)?([A-Z][\w&'.-]*(?:\s+[A-Z][\w&'.-]*)*)"
    r"|\b([A-Z][\w&'.-]*(?:\s+[A-Z][\w&'.-]*)*)\s+(?:has|have|sells?|is selling|offers?|is offering"
    r"|lists?)\s+(?:it|this|that|them|these|one)\b",
)
COMPETITOR_STOP = frozenset({"I", "Can", "Could", "Please", "Will", "Would", "The", "Hey", "Hi"})

# Category synonyms. Longer phrases are tried first, so "laptop bag" beats "laptop".
CATEGORY_SYNONYMS: dict[str, str] = {
    "running-shoes": "running shoes|running shoe|running-shoes|sneakers|sneaker|trainers|trainer"
    "|jogging shoes|trail shoes|road shoes|shoes|shoe|runners",
    "gaming-laptops": "gaming laptops|gaming laptop|gaming-laptops|gaming notebook|laptops|laptop"
    "|notebooks|notebook",
    "laptop-accessories": "laptop accessories|laptop accessory|laptop-accessories|laptop bags"
    "|laptop bag|laptop stand|laptop sleeve|cooling pads|cooling pad|gaming mouse|mouse|mice"
    "|headsets|headset|headphones|docking station|docks|dock|keyboards|keyboard|backpack|webcam",
    "running-accessories": "running accessories|running-accessories|running socks|socks"
    "|running watch|gps watch|watches|watch|hydration vest|hydration pack|hydration"
    "|water bottle|bottle|running belt|armband|headlamp",
    "apparel": "apparel|clothing|clothes|t-shirts|t-shirt|shirts|shirt|tee|shorts|tights"
    "|leggings|jackets|jacket|hoodies|hoodie|tank top|singlet|pants",
    "video-games": "video games|video game|video-games|games|game",
    "home-fitness": "home fitness|home-fitness|home gym|dumbbells|dumbbell|kettlebells|kettlebell"
    "|yoga mat|exercise mat|treadmill|exercise bike|rowing machine|resistance bands"
    "|resistance band|jump rope|foam roller|weights",
}
_PHRASE_TO_CATEGORY = {
    phrase: category
    for category, phrases in CATEGORY_SYNONYMS.items()
    for phrase in phrases.split("|")
}
CATEGORY_RE = re.compile(
    r"\b("
    + "|".join(re.escape(p) for p in sorted(_PHRASE_TO_CATEGORY, key=len, reverse=True))
    + r")\b",
    re.I,
)
# Accessories are named together with their host product ("laptop cooling pad"), so
# they win over it when both appear.
CATEGORY_PRIORITY = ("laptop-accessories", "running-accessories")


def category_of(phrase: str) -> str:
    """Category a matched synonym phrase stands for."""
    return _PHRASE_TO_CATEGORY[phrase.lower()]


# Words that carry no search meaning once constraints were taken out.
STOPWORDS = _words(
    """
    a about above also am an and any anything approx are around as at available be below best
    between browse budget buck bucks buy by can carry cheap cheaper collect cost costs could
    day deliver delivered delivery do does dollar dollars fast find for from get give good got
    great gtx have hello help hey hi how i i'd i'm id im in in-stock inch inches instock is it
    its just kind less like look looking max maximum me memory min minimum mine money more much
    my near need new next next-day of ok okay on one ones option options or over pair pairs
    pick pickup please price prices quick ram really recommend recommendation regular roughly
    rtx same same-day screen search sell sells ship shipping shop shopping show size sizes so
    some something sort standard stock store stores suggest suggestions than thank thanks that
    the them there these this those ti to today tomorrow type under up us usd very want we what
    which wide width with within would you your gb order orders purchase item items product
    products gift
    """
)
TOKEN_RE = re.compile(r"[A-Za-z][A-Za-z0-9'&+-]*")
