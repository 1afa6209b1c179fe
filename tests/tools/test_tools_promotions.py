from __future__ import annotations

import respx

from tools.promotions import LIST_PROMOTIONS
from tools.spec import ToolContext


async def test_list_promotions_filters_to_the_session_customer(
    sandbox: respx.MockRouter, ctx: ToolContext
) -> None:
    body = {"items": [{"code": "RUNNER10", "kind": "code"}]}
    route = sandbox.get("/promotions").respond(200, json=body)

    result = await LIST_PROMOTIONS.run(LIST_PROMOTIONS.parse_args({"category": None}), ctx)

    assert result == body
    assert dict(route.calls.last.request.url.params) == {"customer_id": "C1001"}


async def test_list_promotions_by_category(sandbox: respx.MockRouter, ctx: ToolContext) -> None:
    route = sandbox.get("/promotions").respond(200, json={"items": []})

    await LIST_PROMOTIONS.run(LIST_PROMOTIONS.parse_args({"category": "gaming-laptops"}), ctx)

    assert dict(route.calls.last.request.url.params) == {
        "category": "gaming-laptops",
        "customer_id": "C1001",
    }
