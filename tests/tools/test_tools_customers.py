from __future__ import annotations

import pytest
import respx

from arbiter.errors import OutOfScopeError
from tools.customers import GET_CUSTOMER_PROFILE
from tools.spec import ToolContext

PROFILE = {"customer_id": "C1001", "name": "Ada", "region": "west", "loyalty_tier": "gold"}


@pytest.mark.parametrize("named", [None, "C1001"])
async def test_reads_the_session_customer(
    sandbox: respx.MockRouter, ctx: ToolContext, named: str | None
) -> None:
    route = sandbox.get("/customers/C1001").respond(200, json=PROFILE)

    args = GET_CUSTOMER_PROFILE.parse_args({"customer_id": named})

    assert await GET_CUSTOMER_PROFILE.run(args, ctx) == PROFILE
    assert route.call_count == 1


async def test_another_customer_is_out_of_scope_without_a_call(
    sandbox: respx.MockRouter, ctx: ToolContext
) -> None:
    args = GET_CUSTOMER_PROFILE.parse_args({"customer_id": "C1002"})

    with pytest.raises(OutOfScopeError) as raised:
        await GET_CUSTOMER_PROFILE.run(args, ctx)

    assert (raised.value.resource, raised.value.resource_id) == ("customer", "C1002")
    assert not sandbox.calls
