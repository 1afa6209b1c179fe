"""Violating variants of a gold retail write: one policy violation each, with the rule it breaks.

A variant is built from a gold write action and the state just before it (read live
from the retail service), and is either a changed argument (another user's order, a
payment method the order did not use, an item of another product) or the same action
over a changed state (the order in another status, a gift card balance below what it
must pay, the new item made unavailable), which ``setup`` puts in place through the
retail admin controls and the runner restores afterwards.

Families marked ``issue`` are the ones the conformance issue lists; the others are
extra rules of the policy that are cheap to exercise.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from sandbox.money import cents, dollars

PENDING_ACTIONS = (
    "cancel_pending_order",
    "modify_pending_order_items",
    "modify_pending_order_payment",
    "modify_pending_order_address",
)
DELIVERED_ACTIONS = ("return_delivered_order_items", "exchange_delivered_order_items")
ITEM_CHANGES = ("modify_pending_order_items", "exchange_delivered_order_items")
BASE_STATUSES = ("pending", "processed", "delivered", "cancelled")

FAMILIES: dict[str, tuple[str, bool]] = {
    "wrong_status": ("order in a status the action does not accept", True),
    "second_change": ("order already modified / returned / exchanged", True),
    "other_users_order": ("another user's order or account", True),
    "refund_not_original": ("refund to a method the order did not use", True),
    "other_product": ("new item of a different product", True),
    "unavailable_item": ("new item not available", True),
    "gift_card_too_low": ("gift card balance below what it must pay", True),
    "foreign_payment_method": ("payment method of another user", False),
    "same_item": ("new item identical to the old one", False),
    "item_not_in_order": ("item not in the order", False),
    "cancel_reason": ("cancellation reason not accepted", False),
    "same_payment_method": ("payment change to the current method", False),
}
"""family -> (what it violates, listed in the issue)."""


@dataclass(frozen=True)
class Setup:
    """One admin change a variant needs: PUT ``path`` with ``body``; ``restore`` is its field."""

    path: str
    body: dict[str, Any]
    restore: str


@dataclass(frozen=True)
class Variant:
    """A violating proposal and the rule expected to deny it."""

    family: str
    action_type: str
    params: dict[str, Any]
    expected_rule: str
    setup: tuple[Setup, ...] = ()


@dataclass
class DataIndex:
    """Static lookups over the dataset (other users' orders and methods, other products)."""

    order_users: dict[str, str] = field(default_factory=dict)
    orders_by_status: dict[str, list[str]] = field(default_factory=dict)
    methods: list[tuple[str, str, str]] = field(default_factory=list)
    products: dict[str, dict[str, Any]] = field(default_factory=dict)
    user_ids: list[str] = field(default_factory=list)

    @classmethod
    def build(
        cls, users: dict[str, Any], orders: dict[str, Any], products: dict[str, Any]
    ) -> DataIndex:
        """Index the peer data once per dataset."""
        index = cls(products=products, user_ids=sorted(users))
        for oid in sorted(orders):
            index.order_users[oid] = orders[oid]["user_id"]
            index.orders_by_status.setdefault(orders[oid]["status"], []).append(oid)
        for uid in sorted(users):
            for mid, method in sorted(users[uid]["payment_methods"].items()):
                index.methods.append((mid, method["source"], uid))
        return index

    def other_users_order(self, status: str, user_id: str) -> str | None:
        """An order of another user in ``status``."""
        return next(
            (o for o in self.orders_by_status.get(status, []) if self.order_users[o] != user_id),
            None,
        )

    def foreign_method(self, user_id: str, source: str | None = None) -> str | None:
        """A payment method of another user (of ``source`` when given)."""
        return next((m for m, s, u in self.methods if u != user_id and source in (None, s)), None)

    def item_of_other_product(self, product_id: str) -> str | None:
        """An available item of a different product."""
        for pid in sorted(self.products):
            if pid == product_id:
                continue
            for iid, variant in sorted(self.products[pid]["variants"].items()):
                if variant["available"]:
                    return str(iid)
        return None


def _status(order_id: str, status: str) -> Setup:
    return Setup(
        f"/retail/admin/orders/{quote(order_id, safe='')}/status", {"status": status}, "status"
    )


def generate(
    action_type: str,
    params: dict[str, Any],
    *,
    user: dict[str, Any],
    order: dict[str, Any] | None,
    products: dict[str, dict[str, Any]],
    index: DataIndex,
) -> list[Variant]:
    """Every applicable violating variant of one gold write at the current state."""
    out: list[Variant] = []
    uid = str(user["user_id"])
    if action_type == "modify_user_address":
        other = next((u for u in index.user_ids if u != uid), None)
        if other is not None:
            out.append(
                Variant(
                    "other_users_order",
                    action_type,
                    dict(params, user_id=other),
                    "retail.own_order",
                )
            )
        return out
    assert order is not None
    oid = str(params["order_id"])
    pending = action_type in PENDING_ACTIONS
    status_rule = "retail.pending_only" if pending else "retail.delivered_only"
    accepted = "pending" if pending else "delivered"
    for status in BASE_STATUSES:
        if status != accepted:
            out.append(
                Variant("wrong_status", action_type, params, status_rule, (_status(oid, status),))
            )
    if pending:
        out.append(
            Variant(
                "second_change",
                action_type,
                params,
                "retail.modify_once",
                (_status(oid, "pending (item modified)"),),
            )
        )
    else:
        for status in ("return requested", "exchange requested"):
            out.append(
                Variant("second_change", action_type, params, status_rule, (_status(oid, status),))
            )
    other_order = index.other_users_order(str(order["status"]), uid)
    if other_order is not None:
        out.append(
            Variant(
                "other_users_order",
                action_type,
                dict(params, order_id=other_order),
                "retail.own_order",
            )
        )
    if action_type == "cancel_pending_order":
        out.append(
            Variant(
                "cancel_reason",
                action_type,
                dict(params, reason="found a better price"),
                "retail.cancel_reason",
            )
        )
    methods: dict[str, Any] = user["payment_methods"]
    if "payment_method_id" in params:
        foreign = index.foreign_method(uid)
        if foreign is not None:
            out.append(
                Variant(
                    "foreign_payment_method",
                    action_type,
                    dict(params, payment_method_id=foreign),
                    "retail.users_payment_method",
                )
            )
    if action_type == "return_delivered_order_items":
        out += _refund_variants(params, order, methods, index, uid)
    if action_type in ITEM_CHANGES or action_type == "return_delivered_order_items":
        out += _item_variants(action_type, params, order, products, index)
    if action_type in ITEM_CHANGES:
        out += _gift_card_for_difference(action_type, params, order, products, methods, uid)
    if action_type == "modify_pending_order_payment":
        out += _payment_change_variants(params, order, methods, uid)
    return out


def _refund_variants(
    params: dict[str, Any],
    order: dict[str, Any],
    methods: dict[str, Any],
    index: DataIndex,
    uid: str,
) -> list[Variant]:
    paid_with = {
        p["payment_method_id"]
        for p in order["payment_history"]
        if p["transaction_type"] == "payment"
    }
    own = sorted(m for m, x in methods.items() if x["source"] != "gift_card" and m not in paid_with)
    target = own[0] if own else index.foreign_method(uid, "credit_card")
    if target is None:
        return []
    return [
        Variant(
            "refund_not_original",
            "return_delivered_order_items",
            dict(params, payment_method_id=target),
            "retail.refund_destination",
        )
    ]


def _line_product(order: dict[str, Any], item_id: str) -> str | None:
    return next((str(x["product_id"]) for x in order["items"] if x["item_id"] == item_id), None)


def _item_variants(
    action_type: str,
    params: dict[str, Any],
    order: dict[str, Any],
    products: dict[str, dict[str, Any]],
    index: DataIndex,
) -> list[Variant]:
    out: list[Variant] = []
    old = list(params["item_ids"])
    product_id = _line_product(order, old[0])
    if product_id is None:
        return out
    variants: dict[str, Any] = products.get(product_id, index.products[product_id])["variants"]
    in_order = {x["item_id"] for x in order["items"]}
    stranger = next((i for i in sorted(variants) if i not in in_order), None)
    if stranger is not None:
        out.append(
            Variant(
                "item_not_in_order",
                action_type,
                dict(params, item_ids=[stranger, *old[1:]]),
                "retail.items_in_order",
            )
        )
    if action_type not in ITEM_CHANGES:
        return out
    new = list(params["new_item_ids"])
    other = index.item_of_other_product(product_id)
    if other is not None:
        out.append(
            Variant(
                "other_product",
                action_type,
                dict(params, new_item_ids=[other, *new[1:]]),
                "retail.same_product",
            )
        )
    out.append(
        Variant(
            "same_item",
            action_type,
            dict(params, new_item_ids=[old[0], *new[1:]]),
            "retail.different_option",
        )
    )
    natural = next(
        (i for i, v in sorted(variants.items()) if not v["available"] and i != old[0]), None
    )
    if natural is not None:
        out.append(
            Variant(
                "unavailable_item",
                action_type,
                dict(params, new_item_ids=[natural, *new[1:]]),
                "retail.available_item",
            )
        )
    elif new[0] in variants:
        flip = Setup(
            f"/retail/admin/items/{new[0]}/availability", {"available": False}, "available"
        )
        out.append(
            Variant("unavailable_item", action_type, params, "retail.available_item", (flip,))
        )
    return out


def _gift_card_for_difference(
    action_type: str,
    params: dict[str, Any],
    order: dict[str, Any],
    products: dict[str, dict[str, Any]],
    methods: dict[str, Any],
    uid: str,
) -> list[Variant]:
    diff = 0
    lines = list(order["items"])
    for old, new in zip(params["item_ids"], params["new_item_ids"], strict=False):
        line = next((x for x in lines if x["item_id"] == old), None)
        if line is None:
            return []
        lines.remove(line)
        variant = products.get(str(line["product_id"]), {}).get("variants", {}).get(new)
        if variant is None:
            return []
        diff += cents(variant["price"]) - cents(line["price"])
    if diff <= 0:
        return []  # a gift card need not cover a refund
    return _low_gift_card(action_type, params, methods, uid, diff)


def _low_gift_card(
    action_type: str,
    params: dict[str, Any],
    methods: dict[str, Any],
    uid: str,
    needed: int,
    *,
    exclude: str | None = None,
) -> list[Variant]:
    cards = sorted(m for m, x in methods.items() if x["source"] == "gift_card" and m != exclude)
    current = params.get("payment_method_id")
    card = current if current in cards else (cards[0] if cards else None)
    if card is None:
        return []
    low = Setup(
        f"/retail/admin/users/{uid}/payment-methods/{card}/balance",
        {"balance": dollars(needed - 1)},
        "balance",
    )
    return [
        Variant(
            "gift_card_too_low",
            action_type,
            dict(params, payment_method_id=card),
            "retail.gift_card_covers",
            (low,),
        )
    ]


def _payment_change_variants(
    params: dict[str, Any], order: dict[str, Any], methods: dict[str, Any], uid: str
) -> list[Variant]:
    history = order["payment_history"]
    current = history[0]["payment_method_id"] if history else None
    out = [
        Variant(
            "same_payment_method",
            "modify_pending_order_payment",
            dict(params, payment_method_id=current),
            "retail.payment_change",
        )
    ]
    needed = sum(
        cents(p["amount"]) * (1 if p["transaction_type"] == "payment" else -1) for p in history
    )
    if needed > 0:
        out += _low_gift_card(
            "modify_pending_order_payment", params, methods, uid, needed, exclude=current
        )
    return out
