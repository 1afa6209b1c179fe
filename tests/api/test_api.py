"""The HTTP API as its users meet it: chat, copilot approvals across a restart, streaming,
errors that name the field, policy and kill switch, metrics, keys kept out of records."""

from __future__ import annotations

import json
import logging
from typing import Any

import httpx
import pytest

from guardrails.policy import DEFAULT_POLICY_PATH
from tests.api.conftest import KEYS, SHOPPER, OpenApi, headers

OP = headers("operator")
SA = headers("support_agent")


async def _session(client: httpx.AsyncClient, customer: str, channel: str = "shopper") -> str:
    response = await client.post(
        "/v1/sessions", json={"customer_id": customer, "channel": channel}, headers=OP
    )
    assert response.status_code == 201, response.text
    return str(response.json()["session_id"])


async def _say(client: httpx.AsyncClient, session: str, text: str, role: str = "operator") -> Any:
    response = await client.post(
        f"/v1/sessions/{session}/messages", json={"text": text}, headers=headers(role)
    )
    assert response.status_code == 200, response.text
    return response.json()


async def test_a_shopper_chats_through_a_storefront(client: httpx.AsyncClient) -> None:
    created = await client.post(
        "/v1/sessions", json={"customer_id": SHOPPER}, headers=headers("storefront")
    )
    session = created.json()["session_id"]
    turn = await _say(
        client,
        session,
        "I need running shoes size 10 under $120 that I can pick up today",
        role="storefront",
    )
    assert turn["status"] == "answered"
    assert "RUN-00005" in turn["text"]
    assert {t["tool"] for t in turn["decision"]["tools"]} >= {"search_products", "get_price"}
    detail = (await client.get(f"/v1/sessions/{session}", headers=headers("storefront"))).json()
    assert [e["turn_id"] for e in detail["transcript"]] == [turn["turn_id"]]
    record = (await client.get(f"/v1/decisions/{turn['turn_id']}", headers=OP)).json()
    assert record["final_text"] == turn["text"] and record["record_hash"]


async def test_a_copilot_refund_survives_a_restart_and_executes_once(open_api: OpenApi) -> None:
    async with open_api() as client:
        drafted = await client.post(
            "/v1/copilot/drafts",
            json={
                "customer_id": "C1002",
                "order_id": "O100004",
                "instruction": "refund this order",
            },
            headers=SA,
        )
        body = drafted.json()
        assert body["status"] == "pending_approval", body
        [pending] = body["pending_approvals"]
        assert pending["request"]["rule_ids"] == ["approval.copilot_writes"]
        assert pending["request"]["presented_params"]["amount"] == 146.76
        assert pending["request"]["facts"][0]["kind"] == "order"
        session = body["session_id"]
        paused = await client.get(f"/v1/decisions/{body['turn_id']}", headers=SA)
        assert paused.status_code == 409 and paused.json()["error"]["code"] == "pending_approval"
        busy = await client.post(
            f"/v1/sessions/{session}/messages", json={"text": "hello"}, headers=SA
        )
        assert busy.status_code == 409

    async with open_api() as client:  # the service restarted
        queue = (await client.get("/v1/approvals", headers=SA)).json()
        assert [a["approval_id"] for a in queue] == [pending["approval_id"]]
        approved = await client.post(
            f"/v1/approvals/{pending['approval_id']}/approve",
            json={"comment": "checked", "digest": pending["request"]["digest"]},
            headers=SA,
        )
        result = approved.json()
        assert result["status"] == "answered", result
        [execution] = result["decision"]["executions"]
        assert execution["status"] == "executed"
        again = await client.post(
            f"/v1/approvals/{pending['approval_id']}/approve", json={}, headers=SA
        )
        assert again.status_code == 409
        record = (await client.get(f"/v1/decisions/{result['turn_id']}", headers=SA)).json()
        [approval] = record["approvals"]
        assert approval["decided_by"] == "support_agent:test-support-agent"
        assert approval["executed_params"]["amount"] == 146.76
        order = (await client.get("/v1/approvals?status=approved", headers=SA)).json()
        assert order[0]["outcome"] == "allowed"


async def test_rejecting_tells_the_agent_and_runs_nothing(client: httpx.AsyncClient) -> None:
    session = await _session(client, "C1002", "copilot")
    turn = await _say(client, session, "refund order O100004")
    approval_id = turn["pending_approvals"][0]["approval_id"]
    rejected = await client.post(
        f"/v1/approvals/{approval_id}/reject", json={"comment": "no receipt"}, headers=SA
    )
    body = rejected.json()
    assert "declined" in body["text"] and "no receipt" in body["text"]
    assert body["decision"]["executions"] == []


def _events(raw: str) -> list[tuple[str, dict[str, Any]]]:
    events = []
    for block in raw.strip().split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
        events.append((fields["event"], json.loads(fields["data"])))
    return events


async def test_messages_stream_as_server_sent_events(client: httpx.AsyncClient) -> None:
    session = await _session(client, SHOPPER)
    async with client.stream(
        "POST",
        f"/v1/sessions/{session}/messages/stream",
        json={"text": "what does RUN-00005 cost?"},
        headers=OP,
    ) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        raw = "".join([chunk async for chunk in response.aiter_text()])
    events = _events(raw)
    names = [name for name, _ in events]
    assert names[-1] == "turn" and set(names[:-1]) == {"step"}
    nodes = [data["node"] for name, data in events if name == "step"]
    assert nodes[0] == "guard_input" and "gather_context" in nodes and "guard_output" in nodes
    tools = [
        t["tool"] for _, d in events if "tools" in d.get("detail", {}) for t in d["detail"]["tools"]
    ]
    assert "get_price" in tools
    final = events[-1][1]
    assert final["status"] == "answered" and "$" in final["text"]
    assert {d["turn_id"] for n, d in events if n == "step"} == {final["turn_id"]}


@pytest.mark.parametrize(
    ("request_kwargs", "status", "code", "field"),
    [
        (
            {"content": b"{not json", "headers": {"content-type": "application/json"}},
            400,
            "malformed_json",
            "body",
        ),
        ({"json": {"text": "hi", "extra": 1}}, 422, "invalid_request", "extra"),
        ({"json": {"text": "x" * 5000}}, 422, "message_too_long", "text"),
        ({"json": {}}, 422, "invalid_request", "text"),
    ],
)
async def test_bad_requests_name_the_failing_field(
    client: httpx.AsyncClient, request_kwargs: dict[str, Any], status: int, code: str, field: str
) -> None:
    session = await _session(client, SHOPPER)
    kwargs = dict(request_kwargs)
    kwargs["headers"] = {**OP, **kwargs.get("headers", {})}
    response = await client.post(f"/v1/sessions/{session}/messages", **kwargs)
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert (error["code"], error["field"]) == (code, field)


async def test_unknown_ids_are_404_and_oversized_bodies_413(client: httpx.AsyncClient) -> None:
    unknown = await client.post(
        "/v1/sessions/ses_doesnotexist/messages", json={"text": "hi"}, headers=OP
    )
    assert unknown.status_code == 404 and "unknown session" in unknown.json()["error"]["message"]
    customer = await client.post("/v1/sessions", json={"customer_id": "C9999"}, headers=OP)
    assert customer.status_code == 404
    assert (await client.get("/v1/decisions/turn_nothere", headers=OP)).status_code == 404
    huge = await client.post("/v1/policy/validate", json={"yaml": "#" * 300_000}, headers=OP)
    assert huge.status_code in (413, 422)


async def test_the_kill_switch_stops_discounts_until_cleared(client: httpx.AsyncClient) -> None:
    session = await _session(client, SHOPPER)
    await _say(client, session, "add RUN-00005 to my cart")
    forbidden = await client.post(
        "/v1/kill-switch", json={"scope": "action:offer_discount", "reason": "x"}, headers=SA
    )
    assert forbidden.status_code == 403
    on = await client.post(
        "/v1/kill-switch",
        json={"scope": "action:offer_discount", "reason": "promo abuse"},
        headers=OP,
    )
    assert on.status_code == 201 and on.json()["set_by"] == "operator:test-operator"
    denied = await _say(client, session, "can I get 10% off RUN-00005?")
    [verdict] = denied["decision"]["verdicts"]
    assert (verdict["outcome"], verdict["rule_ids"]) == ("deny", ["system.kill_switch"])
    assert (
        await client.delete("/v1/kill-switch/action:offer_discount", headers=OP)
    ).status_code == 204
    assert (await client.get("/v1/kill-switch", headers=SA)).json() == []
    allowed = await _say(client, session, "can I get 10% off RUN-00005?")
    assert allowed["decision"]["verdicts"][0]["outcome"] == "allow"


async def test_policy_validate_activate_and_shadow(open_api: OpenApi) -> None:
    stricter = DEFAULT_POLICY_PATH.read_text().replace("default_percent: 15", "default_percent: 5")
    async with open_api() as client:
        before = (await client.get("/v1/policy", headers=SA)).json()["active"]["version"]
        invalid = await client.post(
            "/v1/policy/validate", json={"yaml": "name: x\nrules: [{id: a}]"}, headers=SA
        )
        assert invalid.json()["valid"] is False and invalid.json()["problems"]
        assert (
            await client.post("/v1/policy/activate", json={"yaml": stricter}, headers=SA)
        ).status_code == 403
        bad = await client.post("/v1/policy/activate", json={"yaml": "rules: 3"}, headers=OP)
        assert bad.status_code == 422 and bad.json()["error"]["field"] == "yaml"
        shadow = await client.put("/v1/policy/shadow", json={"yaml": stricter}, headers=OP)
        assert shadow.json()["shadow"]["version"] != before
        active = await client.post("/v1/policy/activate", json={"yaml": stricter}, headers=OP)
        after = active.json()["active"]["version"]
        assert after != before
    async with open_api() as client:  # an activation outlives a restart
        assert (await client.get("/v1/policy", headers=OP)).json()["active"]["version"] == after
        back = await client.post("/v1/policy/activate", json={"version": before}, headers=OP)
        assert back.json()["active"]["version"] == before


async def test_the_console_is_served_with_a_strict_content_policy(
    client: httpx.AsyncClient,
) -> None:
    page = await client.get("/console/")
    assert page.status_code == 200 and "<html" in page.text.lower()
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert (await client.get("/")).headers["location"] == "/console/"
    policy = (await client.get("/v1/policy", headers=SA)).json()
    assert policy["active"]["source"] == "default.yaml"  # no server paths


async def test_health_readiness_and_metrics(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).json()["status"] == "ok"
    ready = (await client.get("/readyz")).json()
    assert ready["status"] == "ok" and set(ready["checks"]) >= {"audit", "checkpoints"}
    session = await _session(client, SHOPPER)
    await _say(client, session, "add RUN-00005 to my cart")
    await _say(client, session, "can I get 50% off RUN-00005?")
    await _say(client, session, "what does RUN-00005 cost?")
    text = (await client.get("/metrics", headers=OP)).text
    assert 'arbiter_turns_total{channel="shopper",status="answered"} 3.0' in text
    assert 'arbiter_rule_hits_total{effect="deny",rule_id="discount.max_percent"} 1.0' in text
    assert 'arbiter_verdicts_total{action="add_to_cart",outcome="allow"} 1.0' in text
    assert 'arbiter_tool_duration_seconds_count{status="ok",tool="get_price"}' in text
    assert "arbiter_llm_duration_seconds_count" in text


async def test_keys_never_reach_logs_or_records(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    session = await _session(client, "C1002", "copilot")
    turn = await _say(client, session, "refund order O100004", role="support_agent")
    approval = turn["pending_approvals"][0]["approval_id"]
    done = await client.post(f"/v1/approvals/{approval}/approve", json={}, headers=SA)
    record = (await client.get(f"/v1/decisions/{done.json()['turn_id']}", headers=OP)).text
    for secret in KEYS.values():
        assert secret not in record
        assert secret not in caplog.text
    assert "support_agent:test-support-agent" in record
