from __future__ import annotations

import respx

from tools.pricing import GET_PRICE
from tools.spec import ToolContext

PRICE = {
    "sku": "LAP-00007",
    "list_price": 1499.0,
    "unit_cost": 1120.0,
    "map_price": 1399.0,
    "currency": "USD",
    "as_of": "2026-11-24T16:30:00+00:00",
    "competitor_prices": [
        {"competitor": "MegaMart", "price": 1429.0, "observed_at": "2026-11-24T08:00:00+00:00",
         "url": "https://megamart.example/lap7"}
    ],
    "margin_pct": 25.3,
}  # fmt: skip


async def test_get_price_never_shows_unit_cost(sandbox: respx.MockRouter, ctx: ToolContext) -> None:
    sandbox.get("/pricing/prices/LAP-00007").respond(200, json=PRICE)

    result = await GET_PRICE.run(GET_PRICE.parse_args({"sku": "LAP-00007"}), ctx)

    assert "unit_cost" not in result
    assert "margin_pct" not in result  # undocumented fields stay internal too
    assert result == {
        key: PRICE[key]
        for key in ("sku", "list_price", "map_price", "currency", "as_of", "competitor_prices")
    }
