"""guard_output: a deterministic check of every claim in the answer against this turn's facts.

Claims found: money amounts, percentages, stock counts, delivery windows ("today",
"tomorrow", "same-day") and statements that an action happened ("added", "applied",
"refunded"…). A number is verified when a tool result, verdict or execution of this
turn holds it, or when the shopper wrote it in this message (echoing their own
constraint is not a claim of fact). An action statement is verified only by an
execution of that action type that succeeded this turn. Sentences that deny something
("could not", "isn't") make no positive claim. Unverified sentences are removed; if
nothing trustworthy is left the answer is replaced by a summary built from facts.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from agent.models.base import ChatMessage, read_envelope
from agent.record import ClaimCheck, ExecutionRecord
from guardrails.verdict import ProposedAction, Verdict

_MONEY = re.compile(r"\$\s?(\d[\d,]*(?:\.\d{1,2})?)")
_PERCENT = re.compile(r"(\d+(?:\.\d+)?)\s?%")
_STOCK = re.compile(
    r"\b(\d+)\s+(?:units?\s+|pairs?\s+|items?\s+)?(?:in stock|available|left)\b", re.I
)
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")
_NEGATION = re.compile(
    r"\b(not|cannot|unable|never)\b|n't\b|\b(couldn|wasn|isn|aren|won|didn|don|doesn)'?t\b",
    re.I,
)
_ABSENCE = re.compile(r"\b(no|none|neither|nor)\b", re.I)
_DELIVERY_TODAY = re.compile(r"\b(today|tonight|same[- ]day)\b", re.I)
_DELIVERY_TOMORROW = re.compile(r"\b(tomorrow|next[- ]day)\b", re.I)
_DELIVERY_CONTEXT = re.compile(
    r"\b(pick(?:ed|ing)?\b.{0,16}?\bup|pickup|collect\w*|deliver\w*|arriv\w*|ready|ship\w*)\b",
    re.I,
)
_ActionClaim = tuple[re.Pattern[str], frozenset[str], str | None]
_ACTION_CLAIMS: tuple[_ActionClaim, ...] = (
    # (pattern, action types whose execution verifies it, a status value in this turn's
    # data that also verifies it: "your order was cancelled" is true of a cancelled order)
    (re.compile(r"\b(added|i've added|has been added)\b", re.I), frozenset({"add_to_cart"}), None),
    (re.compile(r"\bremoved\b", re.I), frozenset({"remove_from_cart"}), None),
    (re.compile(r"\bapplied\b", re.I), frozenset({"apply_promotion", "offer_discount"}), None),
    (re.compile(r"\breserved\b", re.I), frozenset({"reserve_inventory"}), None),
    (
        re.compile(r"\b(refunded|refund (?:has been|was) (?:issued|processed))\b", re.I),
        frozenset({"request_refund"}),
        "refunded",
    ),
    (
        re.compile(r"\breturn (?:is|has been|was) authori[sz]ed\b", re.I),
        frozenset({"request_return"}),
        "authorized",
    ),
    (re.compile(r"\b(cancell?ed)\b", re.I), frozenset({"cancel_order"}), "cancelled"),
    (
        re.compile(r"\b(escalated|(?:ticket|case) (?:has been|was) (?:opened|created))\b", re.I),
        frozenset({"escalate_to_human"}),
        None,
    ),
    (
        re.compile(r"\b(promised|delivery is confirmed)\b", re.I),
        frozenset({"promise_delivery"}),
        None,
    ),
)
_SENTENCE_SPLIT = re.compile(r"(?<=[.!?])\s+|\n+")


@dataclass
class VerifiedFacts:
    """What this turn can stand behind."""

    numbers: list[float] = field(default_factory=list)
    executed_types: set[str] = field(default_factory=set)
    statuses: set[str] = field(default_factory=set)
    has_delivery_today: bool = False
    has_delivery_any: bool = False


def collect_facts(
    user_message: str,
    turn_messages: Iterable[ChatMessage],
    executions: Iterable[ExecutionRecord],
) -> VerifiedFacts:
    """Everything verifiable from this turn's tool results, executions and the user's words."""
    facts = VerifiedFacts(numbers=_numbers_in_text(user_message))
    for message in turn_messages:
        if message.role != "tool":
            continue
        envelope = read_envelope(message.content)
        facts.numbers.extend(_numbers_in(envelope))
        data = envelope.get("data")
        if envelope.get("status") in ("ok", "executed") and isinstance(data, dict):
            _note_delivery(data, facts)
            facts.statuses.update(_statuses(data))
    for execution in executions:
        if execution.status == "executed":
            facts.executed_types.add(execution.type)
            if execution.type == "promise_delivery":
                facts.has_delivery_any = facts.has_delivery_today = True
    return facts


def _note_delivery(data: dict[str, Any], facts: VerifiedFacts) -> None:
    for option in data.get("options") or []:
        if isinstance(option, dict) and option.get("available"):
            facts.has_delivery_any = True
            if option.get("ready_today") or option.get("kind") == "same_day":
                facts.has_delivery_today = True


def _statuses(value: Any) -> set[str]:
    """Every ``status`` value in a result, plus "refunded" when refunds are on record."""
    found: set[str] = set()
    if isinstance(value, dict):
        if isinstance(value.get("status"), str):
            found.add(value["status"])
        if value.get("refunds"):
            found.add("refunded")
        for item in value.values():
            found |= _statuses(item)
    elif isinstance(value, list):
        for item in value:
            found |= _statuses(item)
    return found


def check_claims(text: str, facts: VerifiedFacts) -> list[ClaimCheck]:
    """Every claim found in the text, each marked verified or not."""
    checks: list[ClaimCheck] = []
    for sentence in split_sentences(text):
        checks.extend(_sentence_claims(sentence, facts))
    return checks


def split_sentences(text: str) -> list[str]:
    """Sentences and list items, in order."""
    return [s.strip() for s in _SENTENCE_SPLIT.split(text) if s.strip()]


def _sentence_claims(sentence: str, facts: VerifiedFacts) -> list[ClaimCheck]:
    checks: list[ClaimCheck] = []
    for match in _MONEY.finditer(sentence):
        value = float(match.group(1).replace(",", ""))
        checks.append(_numeric("price", match.group(0), value, facts))
    for match in _PERCENT.finditer(sentence):
        checks.append(_numeric("percent", match.group(0), float(match.group(1)), facts))
    for match in _STOCK.finditer(sentence):
        checks.append(_numeric("stock", match.group(0), float(match.group(1)), facts))
    if _NEGATION.search(sentence):
        return checks
    if _DELIVERY_CONTEXT.search(sentence) and not _ABSENCE.search(sentence):
        if _DELIVERY_TODAY.search(sentence):
            checks.append(
                ClaimCheck(
                    kind="delivery",
                    text=sentence,
                    verified=facts.has_delivery_today,
                    detail="needs an available same-day or ready-today option",
                )
            )
        elif _DELIVERY_TOMORROW.search(sentence):
            checks.append(
                ClaimCheck(
                    kind="delivery",
                    text=sentence,
                    verified=facts.has_delivery_any,
                    detail="needs an available delivery option",
                )
            )
    for pattern, types, status in _ACTION_CLAIMS:
        if pattern.search(sentence):
            verified = bool(types & facts.executed_types) or status in facts.statuses
            checks.append(
                ClaimCheck(
                    kind="action",
                    text=sentence,
                    verified=verified,
                    detail="executed " + "/".join(sorted(types))
                    if verified
                    else "no matching executed action this turn",
                )
            )
    return checks


def _numeric(kind: Any, text: str, value: float, facts: VerifiedFacts) -> ClaimCheck:
    verified = any(abs(value - known) < 0.005 for known in facts.numbers)
    return ClaimCheck(
        kind=kind,
        text=text,
        verified=verified,
        detail="matches a verified fact" if verified else "no verified fact holds this number",
    )


def repair_answer(
    text: str,
    facts: VerifiedFacts,
    proposals: list[ProposedAction],
    verdicts: list[Verdict],
    executions: list[ExecutionRecord],
) -> str:
    """Drop unverified sentences; fall back to a summary of facts when too little remains."""
    kept = [s for s in split_sentences(text) if all(c.verified for c in _sentence_claims(s, facts))]
    if kept and len(kept) * 2 >= len(split_sentences(text)):
        return "\n".join(kept) + "\n(Some details could not be verified and were left out.)"
    return fact_summary(proposals, verdicts, executions)


def fact_summary(
    proposals: list[ProposedAction],
    verdicts: list[Verdict],
    executions: list[ExecutionRecord],
) -> str:
    """A plain answer built only from what happened this turn."""
    by_id = {p.id: p for p in proposals}
    lines = ["Here is what I can confirm:"]
    for execution in executions:
        state = "done" if execution.status == "executed" else "not completed"
        lines.append(f"- {execution.type.replace('_', ' ')}: {state}")
    for verdict in verdicts:
        if verdict.outcome != "allow" and verdict.action_id in by_id:
            action = by_id[verdict.action_id].type.replace("_", " ")
            lines.append(f"- {action}: not done. " + " ".join(verdict.reasons))
    if len(lines) == 1:
        lines = [
            "I could not verify the details for that answer. Please ask again, or ask "
            "for a person to help."
        ]
    return "\n".join(lines)


def _numbers_in(value: Any) -> list[float]:
    if isinstance(value, bool):
        return []
    if isinstance(value, int | float):
        return [float(value)]
    if isinstance(value, str):
        return _numbers_in_text(value)
    if isinstance(value, dict):
        return [n for v in value.values() for n in _numbers_in(v)]
    if isinstance(value, list):
        return [n for v in value for n in _numbers_in(v)]
    return []


def _numbers_in_text(text: str) -> list[float]:
    return [float(m) for m in _NUMBER.findall(text.replace(",", ""))]
