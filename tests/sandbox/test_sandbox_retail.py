"""The /retail service over the tau2 peer data, reached through the retail tools."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from arbiter.errors import CapabilityError, OutOfScopeError
from evals.conformance import DEFAULT_PEERS
from sandbox.retail.app import create_retail_app
from tools.client import CapabilityClient, RetryPolicy
from tools.retail import get_retail_tool
from tools.spec import ToolContext

SOURCE = DEFAULT_PEERS / "tau2-bench-retail"
pytestmark = pytest.mark.skipif(not SOURCE.is_dir(), reason="peer data not present")


@pytest.fixture(scope="module")
def data() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((SOURCE / "db.json").read_text())
    return loaded


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[CapabilityClient]:
    app = create_retail_app(tmp_path / "retail.sqlite", source=SOURCE)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sandbox") as http:
        yield CapabilityClient(http, retry=RetryPolicy(max_attempts=1))


def _ctx(client: CapabilityClient, user_id: str, key: str | None = "k1") -> ToolContext:
    return ToolContext(
        customer_id=user_id,
        session_id="s",
        channel="copilot",
        region="",
        postcode="",
        loyalty_tier="",
        client=client,
        idempotency_key=key,
    )


async def _call(name: str, ctx: ToolContext, **args: Any) -> dict[str, Any]:
    spec = get_retail_tool(name)
    assert spec is not None
    return await spec.run(spec.parse_args(args), ctx)


def _pending_two_product_order(data: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """A pending order with two lines of different products, and a new variant for each."""
    for order in data["orders"].values():
        products = {x["product_id"] for x in order["items"]}
        if order["status"] != "pending" or len(products) < 2 or len(order["items"]) != 2:
            continue
        news = []
        for line in order["items"]:
            variants = data["products"][line["product_id"]]["variants"]
            news.append(
                next(
                    (
                        i
                        for i, v in variants.items()
                        if v["available"] and i != line["item_id"] and v["price"] != line["price"]
                    ),
                    None,
                )
            )
        if all(news):
            return order, [str(n) for n in news]
    raise AssertionError("no suitable order")


async def test_modify_items_prices_each_line_from_its_own_new_item(
    client: CapabilityClient, data: dict[str, Any]
) -> None:
    order, news = _pending_two_product_order(data)
    uid = order["user_id"]
    olds = [x["item_id"] for x in order["items"]]
    method = next(iter(data["users"][uid]["payment_methods"]))
    after = await _call(
        "modify_pending_order_items",
        _ctx(client, uid),
        order_id=order["order_id"],
        item_ids=olds,
        new_item_ids=news,
        payment_method_id=method,
    )
    assert after["status"] == "pending (item modified)"
    for line, new in zip(after["items"], news, strict=True):
        variant = data["products"][line["product_id"]]["variants"][new]
        assert (line["item_id"], line["price"], line["options"]) == (
            new,
            variant["price"],
            variant["options"],
        )
    diff = round(
        sum(
            data["products"][x["product_id"]]["variants"][n]["price"] - x["price"]
            for x, n in zip(order["items"], news, strict=True)
        ),
        2,
    )
    assert after["payment_history"][-1]["amount"] == abs(diff)


async def test_cancel_refunds_a_gift_card_at_once_and_writes_are_idempotent(
    client: CapabilityClient, data: dict[str, Any]
) -> None:
    order = next(
        o
        for o in data["orders"].values()
        if o["status"] == "pending"
        and o["payment_history"][0]["payment_method_id"].startswith("gift_card")
    )
    uid, card = order["user_id"], order["payment_history"][0]["payment_method_id"]
    before = data["users"][uid]["payment_methods"][card]["balance"]
    ctx = _ctx(client, uid, key="cancel-1")
    first = await _call(
        "cancel_pending_order", ctx, order_id=order["order_id"], reason="no longer needed"
    )
    again = await _call(
        "cancel_pending_order", ctx, order_id=order["order_id"], reason="no longer needed"
    )
    assert first == again and first["status"] == "cancelled"
    user = await _call("get_user_details", ctx, user_id=uid)
    paid = order["payment_history"][0]["amount"]
    assert user["payment_methods"][card]["balance"] == round(before + paid, 2)
    with pytest.raises(CapabilityError) as reused:
        await _call(
            "cancel_pending_order", ctx, order_id=order["order_id"], reason="ordered by mistake"
        )
    assert reused.value.code == "idempotency_key_reused"


async def test_tools_refuse_another_users_order_and_unknown_ids(
    client: CapabilityClient, data: dict[str, Any]
) -> None:
    order = next(iter(data["orders"].values()))
    stranger = next(u for u in data["users"] if u != order["user_id"])
    with pytest.raises(OutOfScopeError):
        await _call("get_order_details", _ctx(client, stranger), order_id=order["order_id"])
    with pytest.raises(OutOfScopeError):
        await _call(
            "modify_user_address",
            _ctx(client, stranger),
            user_id=order["user_id"],
            address1="1 Main St",
            address2="",
            city="X",
            state="CA",
            country="USA",
            zip="94000",
        )
    with pytest.raises(CapabilityError) as missing:
        await _call("get_order_details", _ctx(client, stranger), order_id="#W0000000")
    assert missing.value.status == 404
    found = await _call(
        "find_user_id_by_email", _ctx(client, stranger), email=data["users"][stranger]["email"]
    )
    assert found == {"user_id": stranger}
