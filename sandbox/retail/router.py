"""The ``/retail`` support endpoints over the tau-bench-shaped dataset.

Reads: users (by id, by email, by name + zip), orders, products, items. Writes: the
equivalents of tau-bench's write tools, each behind ``sandbox.idempotency``, applying
its state semantics. The service checks only what a service must: that what a
request names exists (404) and that the request is well formed (422). Whether the
action is *allowed* (order status, refund destination, same product, availability,
gift card balance, once per order, whose order) is policy, checked by Arbiter's
guardrails before a write is sent: a conformance run shows those checks catching
violations, not this service.

Two corrections to upstream semantics: modifying items gives each modified line the
price and options of *its own* new item (upstream copies the last new item onto every
line), and cancelling refunds the net amount paid per payment method.

Order ids carry a ``#`` (``#W2378156``): clients percent-encode it in the path.
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Response
from pydantic import BaseModel, ConfigDict, Field, RootModel

from sandbox.db import get_db, transaction
from sandbox.errors import ApiError, not_found, validation_error
from sandbox.idempotency import Idempotent, idempotency
from sandbox.money import cents, dollars
from sandbox.retail.db import Doc, get_doc, put_order, put_product, put_user

router = APIRouter(prefix="/retail", tags=["retail"])
Db = Annotated[sqlite3.Connection, Depends(get_db)]
Idem = Annotated[Idempotent, Depends(idempotency)]

ItemIds = Annotated[list[Annotated[str, Field(min_length=1, max_length=64)]], Field(min_length=1)]
Text = Annotated[str, Field(max_length=200)]


class Document(RootModel[dict[str, Any]]):
    """A user, order or product document as stored."""


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CancelBody(_Body):
    """Cancel a pending order."""

    reason: Text


class ItemsChangeBody(_Body):
    """Modify (pending) or exchange (delivered) items; the difference is settled on a method."""

    item_ids: ItemIds
    new_item_ids: ItemIds
    payment_method_id: Text


class ReturnBody(_Body):
    """Return items of a delivered order, refunded to a payment method."""

    item_ids: ItemIds
    payment_method_id: Text


class PaymentBody(_Body):
    """Pay a pending order with another payment method."""

    payment_method_id: Text


class AddressBody(_Body):
    """A postal address."""

    address1: Text
    address2: Text
    city: Text
    state: Text
    country: Text
    zip: Text


def _order(conn: sqlite3.Connection, order_id: str) -> Doc:
    order = get_doc(conn, "retail_orders", "order_id", order_id)
    if order is None:
        raise not_found("order", order_id)
    return order


def _user(conn: sqlite3.Connection, user_id: str) -> Doc:
    user = get_doc(conn, "retail_users", "user_id", user_id)
    if user is None:
        raise not_found("user", user_id)
    return user


def _product(conn: sqlite3.Connection, product_id: str) -> Doc:
    product = get_doc(conn, "retail_products", "product_id", product_id)
    if product is None:
        raise not_found("product", product_id)
    return product


def _variant(conn: sqlite3.Connection, item_id: str) -> Doc:
    row = conn.execute(
        "SELECT product_id FROM retail_items WHERE item_id = ?", (item_id,)
    ).fetchone()
    if row is None:
        raise not_found("item", item_id)
    variant: Doc = _product(conn, row[0])["variants"][item_id]
    return dict(variant, product_id=row[0])


def _payment_method(user: Doc, payment_method_id: str) -> Doc:
    method: Doc | None = user["payment_methods"].get(payment_method_id)
    if method is None:
        raise not_found("payment method of user " + user["user_id"], payment_method_id)
    return method


def _lines(order: Doc, item_ids: list[str]) -> list[Doc]:
    """The order's lines for ``item_ids`` (a repeated id takes the next matching line)."""
    available = Counter(item["item_id"] for item in order["items"])
    missing = [i for i, n in Counter(item_ids).items() if n > available[i]]
    if missing:
        raise validation_error(
            "item_ids", f"not in order {order['order_id']}: {', '.join(sorted(missing))}"
        )
    taken: Counter[str] = Counter()
    lines = []
    for item_id in item_ids:
        matches = [line for line in order["items"] if line["item_id"] == item_id]
        lines.append(matches[taken[item_id]])
        taken[item_id] += 1
    return lines


def _settle_change(
    conn: sqlite3.Connection, order: Doc, body: ItemsChangeBody
) -> tuple[list[tuple[Doc, Doc]], int, Doc, Doc]:
    if len(body.item_ids) != len(body.new_item_ids):
        raise validation_error("new_item_ids", "must pair one new item with each item")
    lines = _lines(order, body.item_ids)
    news = body.new_item_ids
    pairs = [(line, _variant(conn, new)) for line, new in zip(lines, news, strict=True)]
    diff = sum(cents(new["price"]) - cents(line["price"]) for line, new in pairs)
    user = _user(conn, order["user_id"])
    return pairs, diff, user, _payment_method(user, body.payment_method_id)


def _adjust_gift_card(method: Doc, delta_cents: int) -> None:
    if method["source"] == "gift_card":
        method["balance"] = dollars(cents(method["balance"]) + delta_cents)


@router.get("/users")
async def find_user(
    conn: Db,
    email: str | None = None,
    first_name: str | None = None,
    last_name: str | None = None,
    zip: str | None = None,
) -> dict[str, str]:
    """A user id by email, or by first name, last name and zip code."""
    if email is not None:
        row = conn.execute(
            "SELECT user_id FROM retail_users WHERE lower(email) = lower(?)", (email,)
        ).fetchone()
        what = email
    elif first_name and last_name and zip:
        row = conn.execute(
            "SELECT user_id FROM retail_users WHERE lower(first_name) = lower(?) "
            "AND lower(last_name) = lower(?) AND zip = ?",
            (first_name, last_name, zip),
        ).fetchone()
        what = f"{first_name} {last_name} {zip}"
    else:
        raise validation_error("query", "give email, or first_name, last_name and zip")
    if row is None:
        raise not_found("user", what)
    return {"user_id": str(row[0])}


@router.get("/users/{user_id}")
async def get_user(user_id: str, conn: Db) -> Document:
    """A user: name, address, email, payment methods (gift card balances), order ids."""
    return Document(_user(conn, user_id))


@router.get("/orders/{order_id}")
async def get_order(order_id: str, conn: Db) -> Document:
    """An order: user, address, items, status, fulfillments, payment history."""
    return Document(_order(conn, order_id))


@router.get("/products")
async def list_products(conn: Db) -> dict[str, str]:
    """Every product type: name to product id."""
    rows = conn.execute("SELECT name, product_id FROM retail_products ORDER BY name")
    return {str(r[0]): str(r[1]) for r in rows}


@router.get("/products/{product_id}")
async def get_product(product_id: str, conn: Db) -> Document:
    """A product with its variant items (options, availability, price)."""
    return Document(_product(conn, product_id))


@router.get("/items/{item_id}")
async def get_item(item_id: str, conn: Db) -> Document:
    """One variant item with its product id."""
    return Document(_variant(conn, item_id))


@router.post("/orders/{order_id}/cancel", response_model=Document)
async def cancel_order(order_id: str, body: CancelBody, idem: Idem) -> Response:
    """Cancel: refund the net amount paid per method (gift cards at once); 'cancelled'."""

    def work(conn: sqlite3.Connection) -> Document:
        order = _order(conn, order_id)
        user = _user(conn, order["user_id"])
        net: Counter[str] = Counter()
        for entry in order["payment_history"]:
            sign = 1 if entry["transaction_type"] == "payment" else -1
            net[entry["payment_method_id"]] += sign * cents(entry["amount"])
        for method_id, amount in net.items():
            if amount <= 0:
                continue
            order["payment_history"].append(
                {
                    "transaction_type": "refund",
                    "amount": dollars(amount),
                    "payment_method_id": method_id,
                }
            )
            if method_id in user["payment_methods"]:
                _adjust_gift_card(user["payment_methods"][method_id], amount)
        order["status"] = "cancelled"
        order["cancel_reason"] = body.reason
        put_user(conn, user)
        put_order(conn, order)
        return Document(order)

    return idem.run(work)


@router.post("/orders/{order_id}/modify-items", response_model=Document)
async def modify_items(order_id: str, body: ItemsChangeBody, idem: Idem) -> Response:
    """Swap items for variants; settle the difference; 'pending (item modified)'."""

    def work(conn: sqlite3.Connection) -> Document:
        order = _order(conn, order_id)
        pairs, diff, user, method = _settle_change(conn, order, body)
        order["payment_history"].append(
            {
                "transaction_type": "payment" if diff > 0 else "refund",
                "amount": dollars(abs(diff)),
                "payment_method_id": body.payment_method_id,
            }
        )
        _adjust_gift_card(method, -diff)
        for line, new in pairs:
            line.update(item_id=new["item_id"], price=new["price"], options=new["options"])
        order["status"] = "pending (item modified)"
        put_user(conn, user)
        put_order(conn, order)
        return Document(order)

    return idem.run(work)


@router.post("/orders/{order_id}/modify-payment", response_model=Document)
async def modify_payment(order_id: str, body: PaymentBody, idem: Idem) -> Response:
    """Charge the order to another method and refund the original one."""

    def work(conn: sqlite3.Connection) -> Document:
        order = _order(conn, order_id)
        user = _user(conn, order["user_id"])
        new = _payment_method(user, body.payment_method_id)
        if not order["payment_history"]:
            raise validation_error("order", f"order {order_id} has no payment to move")
        first = order["payment_history"][0]
        amount = cents(first["amount"])
        old_id = first["payment_method_id"]
        order["payment_history"] += [
            {
                "transaction_type": "payment",
                "amount": dollars(amount),
                "payment_method_id": body.payment_method_id,
            },
            {"transaction_type": "refund", "amount": dollars(amount), "payment_method_id": old_id},
        ]
        _adjust_gift_card(new, -amount)
        if old_id in user["payment_methods"]:
            _adjust_gift_card(user["payment_methods"][old_id], amount)
        put_user(conn, user)
        put_order(conn, order)
        return Document(order)

    return idem.run(work)


@router.post("/orders/{order_id}/modify-address", response_model=Document)
async def modify_order_address(order_id: str, body: AddressBody, idem: Idem) -> Response:
    """Ship the order to another address."""

    def work(conn: sqlite3.Connection) -> Document:
        order = _order(conn, order_id)
        order["address"] = body.model_dump()
        put_order(conn, order)
        return Document(order)

    return idem.run(work)


@router.post("/orders/{order_id}/return", response_model=Document)
async def return_items(order_id: str, body: ReturnBody, idem: Idem) -> Response:
    """Request a return of some items: 'return requested'."""

    def work(conn: sqlite3.Connection) -> Document:
        order = _order(conn, order_id)
        _lines(order, body.item_ids)
        _payment_method(_user(conn, order["user_id"]), body.payment_method_id)
        order["status"] = "return requested"
        order["return_items"] = sorted(body.item_ids)
        order["return_payment_method_id"] = body.payment_method_id
        put_order(conn, order)
        return Document(order)

    return idem.run(work)


@router.post("/orders/{order_id}/exchange", response_model=Document)
async def exchange_items(order_id: str, body: ItemsChangeBody, idem: Idem) -> Response:
    """Request an exchange of some items for variants: 'exchange requested'."""

    def work(conn: sqlite3.Connection) -> Document:
        order = _order(conn, order_id)
        _, diff, _, _ = _settle_change(conn, order, body)
        order["status"] = "exchange requested"
        order["exchange_items"] = sorted(body.item_ids)
        order["exchange_new_items"] = sorted(body.new_item_ids)
        order["exchange_payment_method_id"] = body.payment_method_id
        order["exchange_price_difference"] = dollars(diff)
        put_order(conn, order)
        return Document(order)

    return idem.run(work)


@router.post("/users/{user_id}/address", response_model=Document)
async def modify_user_address(user_id: str, body: AddressBody, idem: Idem) -> Response:
    """Change a user's default address."""

    def work(conn: sqlite3.Connection) -> Document:
        user = _user(conn, user_id)
        user["address"] = body.model_dump()
        put_user(conn, user)
        return Document(user)

    return idem.run(work)


# Admin controls (evals and tests; no idempotency key): put the data in a state a
# violating variant needs, and back. Each answers with the value it replaced.


class StatusBody(_Body):
    """An order status."""

    status: Text


class BalanceBody(_Body):
    """A gift card balance in dollars."""

    balance: float = Field(ge=0)


class AvailabilityBody(_Body):
    """Whether a variant item can be ordered."""

    available: bool


@router.put("/admin/orders/{order_id}/status", tags=["admin"])
async def set_order_status(order_id: str, body: StatusBody, conn: Db) -> dict[str, str]:
    """Set an order's status; answers the previous one."""
    with transaction(conn):
        order = _order(conn, order_id)
        previous = str(order["status"])
        order["status"] = body.status
        put_order(conn, order)
    return {"status": previous}


@router.put("/admin/users/{user_id}/payment-methods/{method_id}/balance", tags=["admin"])
async def set_gift_card_balance(
    user_id: str, method_id: str, body: BalanceBody, conn: Db
) -> dict[str, float]:
    """Set a gift card's balance; answers the previous one."""
    with transaction(conn):
        user = _user(conn, user_id)
        method = _payment_method(user, method_id)
        if method["source"] != "gift_card":
            raise ApiError(409, "invalid_state", f"{method_id} is not a gift card")
        previous = float(method["balance"])
        method["balance"] = round(body.balance, 2)
        put_user(conn, user)
    return {"balance": previous}


@router.put("/admin/items/{item_id}/availability", tags=["admin"])
async def set_item_availability(item_id: str, body: AvailabilityBody, conn: Db) -> dict[str, bool]:
    """Make a variant item (un)available; answers the previous availability."""
    with transaction(conn):
        variant = _variant(conn, item_id)
        product = _product(conn, variant["product_id"])
        previous = bool(product["variants"][item_id]["available"])
        product["variants"][item_id]["available"] = body.available
        put_product(conn, product)
    return {"available": previous}
