from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
import respx

from arbiter.errors import CapabilityError, OutOfScopeError
from tools.carts import (
    ADD_TO_CART,
    APPLY_PROMOTION,
    GET_CART,
    OFFER_DISCOUNT,
    REMOVE_FROM_CART,
    empty_cart,
)
from tools.client import collect_stats
from tools.spec import ToolContext

CART_ID = "CART-3f9a0c12ab34"


def cart(customer_id: str = "C1001", **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "cart_id": CART_ID,
        "customer_id": customer_id,
        "status": "open",
        "lines": [],
        "promotions": [],
        "subtotal": 0.0,
        "discount_total": 0.0,
        "total": 0.0,
        "currency": "USD",
        "updated_at": "2026-11-24T16:30:00+00:00",
    }
    return {**body, **changes}


LINE = {"sku": "RUN-00042", "name": "Trail 4", "category": "running-shoes", "quantity": 2,
        "unit_price": 129.99, "discount_percent": 0, "discount_reason": None,
        "line_total": 259.98}  # fmt: skip


async def test_get_cart_returns_the_open_cart(sandbox: respx.MockRouter, ctx: ToolContext) -> None:
    route = sandbox.get("/carts").respond(200, json=cart(lines=[LINE]))

    assert await GET_CART.run(GET_CART.parse_args({}), ctx) == cart(lines=[LINE])
    assert dict(route.calls.last.request.url.params) == {"customer_id": "C1001"}


async def test_get_cart_404_is_an_empty_cart(sandbox: respx.MockRouter, ctx: ToolContext) -> None:
    sandbox.get("/carts").respond(404, json={"error": {"code": "not_found", "message": "none"}})

    result = await GET_CART.run(GET_CART.parse_args({}), ctx)

    assert result == {
        "cart_id": None,
        "customer_id": "C1001",
        "lines": [],
        "promotions": [],
        "subtotal": 0.0,
        "discount_total": 0.0,
        "total": 0.0,
        "currency": "USD",
    }
    assert result == empty_cart("C1001")


async def test_a_cart_of_another_customer_is_refused(
    sandbox: respx.MockRouter, ctx: ToolContext
) -> None:
    sandbox.get("/carts").respond(200, json=cart(customer_id="C1002"))

    with pytest.raises(OutOfScopeError):
        await GET_CART.run(GET_CART.parse_args({}), ctx)


async def test_add_to_cart_ensures_the_cart_then_adds_the_line_with_derived_keys(
    sandbox: respx.MockRouter, action_ctx: ToolContext
) -> None:
    ensure = sandbox.post("/carts").respond(201, json=cart())
    add = sandbox.post(f"/carts/{CART_ID}/lines").respond(200, json=cart(lines=[LINE]))
    args = ADD_TO_CART.parse_args({"sku": "RUN-00042", "quantity": 2})

    with collect_stats() as stats:
        result = await ADD_TO_CART.run(args, action_ctx)

    assert result == cart(lines=[LINE])
    assert ensure.calls.last.request.headers["Idempotency-Key"] == "K1:cart"
    assert json.loads(ensure.calls.last.request.content) == {"customer_id": "C1001"}
    assert add.calls.last.request.headers["Idempotency-Key"] == "K1:line"
    assert json.loads(add.calls.last.request.content) == {"sku": "RUN-00042", "quantity": 2}
    assert [call.request.url.path for call in sandbox.calls] == [
        "/carts",
        f"/carts/{CART_ID}/lines",
    ]
    assert stats.attempts == 2


async def test_rerunning_an_execution_reuses_the_same_keys(
    sandbox: respx.MockRouter, action_ctx: ToolContext
) -> None:
    sandbox.post("/carts").respond(201, json=cart())
    sandbox.post(f"/carts/{CART_ID}/lines").respond(200, json=cart(lines=[LINE]))
    args = ADD_TO_CART.parse_args({"sku": "RUN-00042"})

    await ADD_TO_CART.run(args, action_ctx)
    await ADD_TO_CART.run(args, action_ctx)

    keys = [call.request.headers["Idempotency-Key"] for call in sandbox.calls]
    assert keys == ["K1:cart", "K1:line", "K1:cart", "K1:line"]


@pytest.mark.parametrize(
    ("spec", "raw"),
    [
        (ADD_TO_CART, {"sku": "RUN-00042"}),
        (REMOVE_FROM_CART, {"sku": "RUN-00042"}),
        (APPLY_PROMOTION, {"code": "RUNNER10"}),
        (OFFER_DISCOUNT, {"sku": "RUN-00042", "percent": 10, "reason": "goodwill"}),
    ],
)
async def test_cart_actions_need_an_idempotency_key(
    sandbox: respx.MockRouter, ctx: ToolContext, spec: Any, raw: dict[str, Any]
) -> None:
    with pytest.raises(RuntimeError):
        await spec.run(spec.parse_args(raw), ctx)
    assert not sandbox.calls


async def test_remove_from_cart_deletes_the_line(
    sandbox: respx.MockRouter, action_ctx: ToolContext
) -> None:
    sandbox.get("/carts").respond(200, json=cart(lines=[LINE]))
    delete = sandbox.delete(f"/carts/{CART_ID}/lines/RUN-00042").respond(200, json=cart())

    result = await REMOVE_FROM_CART.run(
        REMOVE_FROM_CART.parse_args({"sku": "RUN-00042"}), action_ctx
    )

    assert result == cart()
    assert delete.calls.last.request.headers["Idempotency-Key"] == "K1"


async def test_remove_from_cart_without_a_cart_is_a_capability_error(
    sandbox: respx.MockRouter, action_ctx: ToolContext
) -> None:
    sandbox.get("/carts").respond(404, json={"error": {"code": "not_found", "message": "none"}})

    with pytest.raises(CapabilityError) as raised:
        await REMOVE_FROM_CART.run(REMOVE_FROM_CART.parse_args({"sku": "RUN-00042"}), action_ctx)
    assert raised.value.status == 404


async def test_apply_promotion_posts_the_code(
    sandbox: respx.MockRouter, action_ctx: ToolContext
) -> None:
    sandbox.post("/carts").respond(201, json=cart())
    route = sandbox.post(f"/carts/{CART_ID}/promotions").respond(
        200, json=cart(promotions=["RUNNER10"])
    )

    result = await APPLY_PROMOTION.run(APPLY_PROMOTION.parse_args({"code": "RUNNER10"}), action_ctx)

    assert result["promotions"] == ["RUNNER10"]
    assert json.loads(route.calls.last.request.content) == {"code": "RUNNER10"}
    assert route.calls.last.request.headers["Idempotency-Key"] == "K1:promotion"


async def test_offer_discount_executes_the_percent_the_args_hold(
    sandbox: respx.MockRouter, action_ctx: ToolContext
) -> None:
    sandbox.post("/carts").respond(201, json=cart())
    route = sandbox.post(f"/carts/{CART_ID}/discounts").respond(200, json=cart(lines=[LINE]))
    proposed = OFFER_DISCOUNT.parse_args(
        {"sku": "RUN-00042", "percent": None, "reason": "price_match", "competitor": "MegaMart"}
    )
    resolved = proposed.model_copy(update={"percent": 7.5})  # as the policy layer resolves it

    await OFFER_DISCOUNT.run(resolved, action_ctx)

    assert json.loads(route.calls.last.request.content) == {
        "sku": "RUN-00042",
        "percent": 7.5,
        "reason": "price_match",
        "competitor": "MegaMart",
    }
    assert route.calls.last.request.headers["Idempotency-Key"] == "K1:discount"


async def test_offer_discount_without_a_resolved_percent_raises(
    sandbox: respx.MockRouter, action_ctx: ToolContext
) -> None:
    args = OFFER_DISCOUNT.parse_args(
        {"sku": "RUN-00042", "percent": None, "reason": "price_match", "competitor": "MegaMart"}
    )

    with pytest.raises(ValueError, match="percent"):
        await OFFER_DISCOUNT.run(args, action_ctx)
    assert not sandbox.calls


async def test_a_created_cart_of_another_customer_is_refused_before_writing(
    sandbox: respx.MockRouter, make_ctx: Callable[..., ToolContext]
) -> None:
    sandbox.post("/carts").respond(201, json=cart(customer_id="C1002"))
    add = sandbox.post(f"/carts/{CART_ID}/lines").respond(200, json=cart())

    with pytest.raises(OutOfScopeError):
        await ADD_TO_CART.run(
            ADD_TO_CART.parse_args({"sku": "RUN-00042"}), make_ctx(idempotency_key="K9")
        )
    assert not add.called
