"""The MCP server: the registry's tools, the same validator before every action, once only.

Driven in-process with the SDK's own client over a seeded sandbox, in both of its
connection modes: the modern direct dispatch and the JSON-RPC handshake over memory
streams (what stdio carries).
"""

from __future__ import annotations

import os
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any, cast

import pytest
from mcp import Client, MCPError, StdioServerParameters
from mcp.types import CallToolResult, RequestParamsMeta

from agent.replay import replay_turn
from agent.runtime import Arbiter
from api.mcp_server import MCP_FLAG, REQUEST_ID_META_KEY, build_server
from arbiter.settings import Settings
from tools.registry import ALL_TOOLS
from tools.spec import Channel

SHOPPER = "C1001"
SKU = "RUN-00005"

Connect = Callable[..., AbstractAsyncContextManager[Client]]


@pytest.fixture(params=["auto", "legacy"])
def connect(request: pytest.FixtureRequest, arbiter: Arbiter) -> Connect:
    """Open an MCP client on a server bound to the shopper (or another channel)."""

    @asynccontextmanager
    async def opener(channel: Channel = "shopper") -> AsyncIterator[Client]:
        session = await arbiter.start_session(SHOPPER, channel)
        async with Client(build_server(arbiter, session), mode=request.param) as client:
            yield client

    return opener


async def call(
    client: Client, tool: str, request_id: str | None = None, **arguments: Any
) -> tuple[bool, dict[str, Any]]:
    """``(isError, structuredContent)`` of one tool call."""
    meta = cast(RequestParamsMeta, {REQUEST_ID_META_KEY: request_id}) if request_id else None
    result: CallToolResult = await client.call_tool(tool, arguments, meta=meta)
    assert isinstance(result.structured_content, dict)
    return result.is_error, result.structured_content


async def cart(client: Client) -> dict[str, Any]:
    """The shopper's cart, read through the server's own read tool."""
    failed, body = await call(client, "get_cart")
    assert not failed and body["status"] == "ok"
    data: dict[str, Any] = body["data"]
    return data


def mcp_records(arbiter: Arbiter) -> list[Any]:
    """The DecisionRecords the MCP calls appended, oldest first."""
    records = list(arbiter.deps.audit.iter_since())
    return [r for r in records if MCP_FLAG in r.input_flags]


async def test_lists_every_registry_tool_with_its_generated_schema(connect: Connect) -> None:
    async with connect() as client:
        listed = (await client.list_tools()).tools
    assert [t.name for t in listed] == [s.name for s in ALL_TOOLS]
    for tool, spec in zip(listed, ALL_TOOLS, strict=True):
        assert tool.description == spec.description
        assert tool.input_schema == spec.args_model.model_json_schema()
        assert tool.input_schema["type"] == "object"
        assert tool.input_schema["additionalProperties"] is False
        assert tool.annotations is not None
        assert tool.annotations.read_only_hint is (spec.kind == "read")


async def test_a_read_tool_returns_the_services_data(connect: Connect) -> None:
    async with connect() as client:
        failed, body = await call(client, "get_price", sku=SKU)
    assert not failed
    assert body["status"] == "ok"
    assert body["data"]["sku"] == SKU
    assert body["data"]["list_price"] > 0
    assert "unit_cost" not in body["data"]  # the read tool's own filtering still applies


async def test_a_too_large_discount_is_denied_with_rules_and_nothing_runs(
    connect: Connect, arbiter: Arbiter
) -> None:
    async with connect() as client:
        added, _ = await call(client, "add_to_cart", "add-1", sku=SKU, quantity=1)
        assert not added
        failed, body = await call(
            client, "offer_discount", "disc-1", sku=SKU, percent=50, reason="goodwill"
        )
        assert (await cart(client))["discount_total"] == 0
    assert failed
    assert body["status"] == "denied"
    assert {"discount.max_percent", "price.margin_floor"} <= set(body["rule_ids"])
    assert body["reasons"]
    assert body["repair"]["alternative"]["percent"] < 50
    discount = mcp_records(arbiter)[-1]
    assert discount.verdicts[0].outcome == "deny"
    assert discount.executions == []
    # Replay re-decides the client's proposal on the recorded facts: the same denial.
    report = await replay_turn(discount, arbiter.policies.active)
    assert report.diverged is None and report.verdicts_identical
    assert report.verdicts[0].replayed == "deny"
    assert set(report.verdicts[0].replayed_rules) == set(discount.verdicts[0].rule_ids)


async def test_the_same_request_executes_once_and_a_new_request_id_again(
    connect: Connect, arbiter: Arbiter
) -> None:
    async with connect() as client:
        first = await call(client, "add_to_cart", "req-1", sku=SKU, quantity=1)
        retry = await call(client, "add_to_cart", "req-1", sku=SKU, quantity=1)
        [once] = (await cart(client))["lines"]
        again = await call(client, "add_to_cart", "req-2", sku=SKU, quantity=1)
        [twice] = (await cart(client))["lines"]
    for failed, body in (first, retry, again):
        assert not failed and body["status"] == "executed"
    assert first[1]["idempotency_key"] == retry[1]["idempotency_key"]
    assert again[1]["idempotency_key"] != first[1]["idempotency_key"]
    assert (once["sku"], once["quantity"], twice["quantity"]) == (SKU, 1, 2)
    records = mcp_records(arbiter)
    assert len(records) == 3  # every call is on record, the replayed one included
    assert all(r.executions[0].status == "executed" for r in records)
    assert records[0].executions[0].idempotency_key == records[1].executions[0].idempotency_key


async def test_without_a_request_id_identical_calls_run_once(connect: Connect) -> None:
    async with connect() as client:
        for _ in range(2):
            failed, _body = await call(client, "add_to_cart", sku=SKU, quantity=1)
            assert not failed
        [line] = (await cart(client))["lines"]
    assert line["quantity"] == 1


async def test_a_call_naming_another_customer_is_refused(connect: Connect) -> None:
    async with connect() as client:
        read_failed, read = await call(client, "get_customer_profile", customer_id="C1002")
        act_failed, act = await call(client, "add_to_cart", sku=SKU, customer_id="C1002")
        assert (await cart(client))["lines"] == []
        own_failed, own = await call(client, "get_customer_profile", customer_id=None)
    assert read_failed and read["error"]["code"] == "out_of_scope"
    assert act_failed and act["status"] == "denied"
    assert act["rule_ids"] == ["system.customer_scope"]
    assert not own_failed and own["data"]["customer_id"] == SHOPPER


async def test_the_kill_switch_stops_the_action(connect: Connect, arbiter: Arbiter) -> None:
    arbiter.deps.validator.kill_switch.set("action:add_to_cart", "cart incident", "test")
    async with connect() as client:
        failed, body = await call(client, "add_to_cart", "ks-1", sku=SKU, quantity=1)
        assert (await cart(client))["lines"] == []
    assert failed
    assert body["status"] == "denied"
    assert body["rule_ids"] == ["system.kill_switch"]
    assert mcp_records(arbiter)[-1].verdicts[0].rule_ids == ["system.kill_switch"]


async def test_an_action_needing_approval_is_reported_not_run(
    connect: Connect, arbiter: Arbiter
) -> None:
    async with connect("copilot") as client:
        failed, body = await call(client, "add_to_cart", "cp-1", sku=SKU, quantity=1)
        assert (await cart(client))["lines"] == []
    assert failed
    assert body["status"] == "pending_approval"
    assert body["rule_ids"] == ["approval.copilot_writes"]
    assert "not executed" in body["message"]
    assert mcp_records(arbiter)[-1].executions == []
    assert arbiter.approvals.query(status="pending") == []


async def test_bad_arguments_are_a_tool_error_and_unknown_tools_a_protocol_error(
    connect: Connect,
) -> None:
    async with connect() as client:
        bad_failed, bad = await call(client, "add_to_cart", sku=SKU, quantity=0)
        extra_failed, extra = await call(client, "get_cart", surprise=True)
        with pytest.raises(MCPError, match="no tool named 'launch_rocket'"):
            await client.call_tool("launch_rocket", {})
    assert bad_failed and bad["error"]["code"] == "invalid_arguments"
    assert "quantity" in bad["error"]["message"]
    assert extra_failed and extra["error"]["code"] == "invalid_arguments"


def command(settings: Settings, *args: str) -> StdioServerParameters:
    """``arbiter mcp ARGS`` as an MCP client launches it, over this test's data directory."""
    run_it = "import typer; from arbiter.commands.mcp import mcp; typer.run(mcp)"
    env = {
        "ARBITER_DATA_DIR": str(settings.data_dir),
        "ARBITER_SANDBOX_CLOCK": os.environ["ARBITER_SANDBOX_CLOCK"],
        "ARBITER_PLANNER": "offline",
    }
    return StdioServerParameters(command=sys.executable, args=["-c", run_it, *args], env=env)


async def test_the_command_serves_stdio_and_a_continued_session_keeps_its_keys(
    settings: Settings,
) -> None:
    served = ("--customer", SHOPPER, "--session", "ses_mcp_stdio")
    async with Client(command(settings, *served)) as client:
        assert len((await client.list_tools()).tools) == len(ALL_TOOLS)
        first = await call(client, "add_to_cart", "stdio-1", sku=SKU, quantity=1)
    # The client restarts the server and retries the call it never saw answered.
    async with Client(command(settings, *served)) as client:
        retry = await call(client, "add_to_cart", "stdio-1", sku=SKU, quantity=1)
        [line] = (await cart(client))["lines"]
    assert not first[0] and not retry[0]
    assert retry[1]["idempotency_key"] == first[1]["idempotency_key"]
    assert retry[1]["data"] == first[1]["data"]  # the stored response, replayed
    assert line["quantity"] == 1
