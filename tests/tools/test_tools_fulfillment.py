from __future__ import annotations

import json
from collections.abc import Callable

import respx

from tools.fulfillment import GET_DELIVERY_OPTIONS, PROMISE_DELIVERY
from tools.spec import ToolContext

OPTIONS = {
    "sku": "RUN-00042",
    "region": "east",
    "as_of": "2026-11-24T16:30:00+00:00",
    "options": [],
}


async def test_delivery_options_use_the_session_customers_area(
    sandbox: respx.MockRouter, make_ctx: Callable[..., ToolContext]
) -> None:
    ctx = make_ctx(region="east", postcode="10001")
    route = sandbox.get("/fulfillment/options").respond(200, json=OPTIONS)
    args = GET_DELIVERY_OPTIONS.parse_args({"sku": "RUN-00042", "quantity": 2})

    assert await GET_DELIVERY_OPTIONS.run(args, ctx) == OPTIONS

    assert dict(route.calls.last.request.url.params) == {
        "sku": "RUN-00042",
        "quantity": "2",
        "region": "east",
        "postcode": "10001",
    }


async def test_promise_delivery_posts_the_option(
    sandbox: respx.MockRouter, action_ctx: ToolContext
) -> None:
    promise = {"promise_id": "PR1", "ready_by": "2026-11-24T22:00:00+00:00"}
    route = sandbox.post("/fulfillment/promises").respond(201, json=promise)
    args = PROMISE_DELIVERY.parse_args({"sku": "RUN-00042", "option_id": "same_day:ST-SEATTLE"})

    assert await PROMISE_DELIVERY.run(args, action_ctx) == promise
    assert json.loads(route.calls.last.request.content) == {
        "customer_id": "C1001",
        "sku": "RUN-00042",
        "quantity": 1,
        "option_id": "same_day:ST-SEATTLE",
    }
    assert route.calls.last.request.headers["Idempotency-Key"] == "K1"
