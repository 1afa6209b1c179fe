from __future__ import annotations

import json
from typing import Any

import pytest
import respx

from arbiter.errors import OutOfScopeError
from tools.orders import CANCEL_ORDER, GET_ORDER, LIST_ORDERS, REQUEST_REFUND, REQUEST_RETURN
from tools.spec import ToolContext


def order(customer_id: str = "C1001", **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "order_id": "O100123",
        "customer_id": customer_id,
        "status": "delivered",
        "total": 259.98,
        "paid": True,
        "refunds": [{"refund_id": "RF1", "amount": 40.0}],
        "refunded_total": 40.0,
        "refundable_amount": 219.98,
    }
    return {**body, **changes}


async def test_list_orders_is_the_session_customers(
    sandbox: respx.MockRouter, ctx: ToolContext
) -> None:
    body = {"items": [{"order_id": "O100123", "status": "delivered"}]}
    route = sandbox.get("/orders").respond(200, json=body)

    assert await LIST_ORDERS.run(LIST_ORDERS.parse_args({}), ctx) == body
    assert dict(route.calls.last.request.url.params) == {"customer_id": "C1001"}


async def test_get_order_returns_an_owned_order(
    sandbox: respx.MockRouter, ctx: ToolContext
) -> None:
    sandbox.get("/orders/O100123").respond(200, json=order())

    assert await GET_ORDER.run(GET_ORDER.parse_args({"order_id": "O100123"}), ctx) == order()


async def test_get_order_of_another_customer_is_out_of_scope(
    sandbox: respx.MockRouter, ctx: ToolContext
) -> None:
    sandbox.get("/orders/O100123").respond(200, json=order(customer_id="C1002"))

    with pytest.raises(OutOfScopeError) as raised:
        await GET_ORDER.run(GET_ORDER.parse_args({"order_id": "O100123"}), ctx)
    assert (raised.value.resource, raised.value.resource_id) == ("order", "O100123")


async def test_refund_with_null_amount_refunds_the_refundable_amount(
    sandbox: respx.MockRouter, action_ctx: ToolContext
) -> None:
    sandbox.get("/orders/O100123").respond(200, json=order())
    refund = {"refund_id": "RF2", "amount": 219.98, "method": "original"}
    route = sandbox.post("/orders/O100123/refunds").respond(201, json=refund)
    args = REQUEST_REFUND.parse_args({"order_id": "O100123", "amount": None, "reason": "late"})

    assert await REQUEST_REFUND.run(args, action_ctx) == refund
    assert json.loads(route.calls.last.request.content) == {
        "amount": 219.98,
        "method": "original",
        "reason": "late",
    }
    assert route.calls.last.request.headers["Idempotency-Key"] == "K1"


async def test_partial_refund_to_gift_card(
    sandbox: respx.MockRouter, action_ctx: ToolContext
) -> None:
    sandbox.get("/orders/O100123").respond(200, json=order())
    route = sandbox.post("/orders/O100123/refunds").respond(201, json={"refund_id": "RF2"})
    args = REQUEST_REFUND.parse_args(
        {"order_id": "O100123", "amount": 25, "reason": "scuffed box", "method": "gift_card"}
    )

    await REQUEST_REFUND.run(args, action_ctx)

    sent = json.loads(route.calls.last.request.content)
    assert (sent["amount"], sent["method"]) == (25.0, "gift_card")


@pytest.mark.parametrize(
    ("spec", "raw", "path"),
    [
        (REQUEST_REFUND, {"order_id": "O100123", "reason": "late"}, "/orders/O100123/refunds"),
        (
            REQUEST_RETURN,
            {"order_id": "O100123", "skus": ["RUN-00042"], "reason": "fit"},
            "/orders/O100123/returns",
        ),
        (CANCEL_ORDER, {"order_id": "O100123", "reason": "changed mind"}, "/orders/O100123/cancel"),
    ],
)
async def test_order_actions_on_another_customers_order_never_write(
    sandbox: respx.MockRouter, action_ctx: ToolContext, spec: Any, raw: dict[str, Any], path: str
) -> None:
    sandbox.get("/orders/O100123").respond(200, json=order(customer_id="C1002"))
    write = sandbox.post(path).respond(201, json={})

    with pytest.raises(OutOfScopeError):
        await spec.run(spec.parse_args(raw), action_ctx)
    assert not write.called


async def test_request_return_posts_skus_and_reason(
    sandbox: respx.MockRouter, action_ctx: ToolContext
) -> None:
    sandbox.get("/orders/O100123").respond(200, json=order())
    created = {"return_id": "RT1", "order_id": "O100123", "status": "authorized"}
    route = sandbox.post("/orders/O100123/returns").respond(201, json=created)
    args = REQUEST_RETURN.parse_args(
        {"order_id": "O100123", "skus": ["RUN-00042"], "reason": "too small"}
    )

    assert await REQUEST_RETURN.run(args, action_ctx) == created
    assert json.loads(route.calls.last.request.content) == {
        "skus": ["RUN-00042"],
        "reason": "too small",
    }


async def test_cancel_order_posts_the_reason(
    sandbox: respx.MockRouter, action_ctx: ToolContext
) -> None:
    sandbox.get("/orders/O100123").respond(200, json=order(status="pending"))
    route = sandbox.post("/orders/O100123/cancel").respond(200, json=order(status="cancelled"))
    args = CANCEL_ORDER.parse_args({"order_id": "O100123", "reason": "ordered twice"})

    assert (await CANCEL_ORDER.run(args, action_ctx))["status"] == "cancelled"
    assert json.loads(route.calls.last.request.content) == {"reason": "ordered twice"}
