from __future__ import annotations

import json

import httpx
import pytest
import respx

from arbiter.errors import CapabilityError, ServiceUnavailableError
from tools.client import CapabilityClient, collect_stats


def _error(status: int, code: str, message: str = "nope") -> httpx.Response:
    return httpx.Response(status, json={"error": {"code": code, "message": message}})


async def test_retries_5xx_then_succeeds(
    sandbox: respx.MockRouter, client: CapabilityClient
) -> None:
    route = sandbox.get("/pricing/prices/RUN-00042").mock(
        side_effect=[_error(503, "injected_fault"), httpx.Response(200, json={"sku": "RUN-00042"})]
    )
    with collect_stats() as stats:
        body = await client.get("/pricing/prices/RUN-00042")

    assert body == {"sku": "RUN-00042"}
    assert route.call_count == 2
    assert stats.attempts == 2
    assert stats.duration_ms >= 0


@pytest.mark.parametrize(("status", "code"), [(404, "not_found"), (422, "validation_error")])
async def test_4xx_is_not_retried_and_carries_the_service_code(
    sandbox: respx.MockRouter, client: CapabilityClient, status: int, code: str
) -> None:
    route = sandbox.get("/catalog/products/NOPE-1").mock(return_value=_error(status, code, "why"))

    with pytest.raises(CapabilityError) as raised:
        await client.get("/catalog/products/NOPE-1")

    assert route.call_count == 1
    assert (raised.value.service, raised.value.status, raised.value.code) == (
        "catalog",
        status,
        code,
    )
    assert raised.value.detail == "why"


async def test_4xx_without_error_body_gets_a_generic_code(
    sandbox: respx.MockRouter, client: CapabilityClient
) -> None:
    sandbox.get("/orders/O1").mock(return_value=httpx.Response(409, text="conflict"))

    with pytest.raises(CapabilityError) as raised:
        await client.get("/orders/O1")

    assert raised.value.code == "http_409"


@pytest.mark.parametrize("exc", [httpx.ReadTimeout, httpx.ConnectTimeout, httpx.ConnectError])
async def test_timeouts_and_connect_errors_are_retried_then_fail_closed(
    sandbox: respx.MockRouter, client: CapabilityClient, exc: type[Exception]
) -> None:
    route = sandbox.get("/inventory/stock/RUN-00042").mock(side_effect=exc)
    with collect_stats() as stats, pytest.raises(ServiceUnavailableError) as raised:
        await client.get("/inventory/stock/RUN-00042")

    assert route.call_count == client.retry.max_attempts == 3
    assert stats.attempts == 3
    assert raised.value.service == "inventory"


async def test_persistent_5xx_fails_closed_with_the_last_error(
    sandbox: respx.MockRouter, client: CapabilityClient
) -> None:
    route = sandbox.get("/pricing/prices/X").mock(return_value=_error(503, "injected_fault"))

    with pytest.raises(ServiceUnavailableError) as raised:
        await client.get("/pricing/prices/X")

    assert route.call_count == 3
    assert "503 injected_fault" in raised.value.detail


async def test_non_json_200_fails_closed(
    sandbox: respx.MockRouter, client: CapabilityClient
) -> None:
    sandbox.get("/catalog/products").mock(return_value=httpx.Response(200, text="<html>"))

    with pytest.raises(ServiceUnavailableError, match="not JSON"):
        await client.get("/catalog/products")


async def test_post_and_delete_send_the_idempotency_key(
    sandbox: respx.MockRouter, client: CapabilityClient
) -> None:
    post = sandbox.post("/carts").mock(return_value=httpx.Response(201, json={"cart_id": "c"}))
    delete = sandbox.delete("/carts/c/lines/A").mock(return_value=httpx.Response(200, json={}))

    await client.post("/carts", json={"customer_id": "C1001"}, idempotency_key="K1:cart")
    await client.delete("/carts/c/lines/A", idempotency_key="K2")

    assert post.calls.last.request.headers["Idempotency-Key"] == "K1:cart"
    assert json.loads(post.calls.last.request.content) == {"customer_id": "C1001"}
    assert delete.calls.last.request.headers["Idempotency-Key"] == "K2"


async def test_get_sends_no_idempotency_key(
    sandbox: respx.MockRouter, client: CapabilityClient
) -> None:
    route = sandbox.get("/orders").mock(return_value=httpx.Response(200, json={"items": []}))

    await client.get("/orders", params={"customer_id": "C1001"})

    assert "Idempotency-Key" not in route.calls.last.request.headers


async def test_none_params_are_dropped_and_bools_lowercased(
    sandbox: respx.MockRouter, client: CapabilityClient
) -> None:
    route = sandbox.get("/catalog/products").mock(return_value=httpx.Response(200, json={}))

    await client.get(
        "/catalog/products",
        params=[
            ("q", "shoe"),
            ("brand", None),
            ("attr", "size:10"),
            ("attr", "width:wide"),
            ("in_stock", True),
        ],
    )

    params = route.calls.last.request.url.params
    assert "brand" not in params
    assert params["q"] == "shoe"
    assert params.get_list("attr") == ["size:10", "width:wide"]
    assert params["in_stock"] == "true"


async def test_shared_stats_add_up_across_calls(
    sandbox: respx.MockRouter, client: CapabilityClient
) -> None:
    sandbox.get("/a").mock(side_effect=[_error(502, "bad"), httpx.Response(200, json={})])
    sandbox.get("/b").mock(return_value=httpx.Response(200, json={}))
    with collect_stats() as stats:
        await client.get("/a")
        first = stats.duration_ms
        await client.get("/b")

    assert stats.attempts == 3
    assert stats.duration_ms >= first
