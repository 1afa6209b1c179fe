"""The role matrix: every endpoint x every role is allowed, or refused with 401/403."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.api.conftest import SHOPPER, OpenApi, headers

ROLES = ("storefront", "support_agent", "operator")
ALL = set(ROLES)
STAFF = {"support_agent", "operator"}
OPERATOR = {"operator"}
BAD_POLICY = {"yaml": "name: [unclosed"}

# (method, path, body, roles allowed). Allowed calls are made harmless (bad input, unknown
# ids) so the matrix changes nothing; the status then shows that authorization passed.
ENDPOINTS: list[tuple[str, str, dict[str, Any] | None, set[str]]] = [
    ("POST", "/v1/sessions", {"customer_id": SHOPPER}, ALL),
    ("GET", "/v1/sessions/{session}", None, ALL),
    ("POST", "/v1/sessions/{session}/messages", {"text": ""}, ALL),
    ("POST", "/v1/sessions/{session}/messages/stream", {"text": ""}, ALL),
    ("GET", "/v1/sessions/{session}/decisions", None, ALL),
    ("GET", "/v1/decisions/{turn}", None, ALL),
    ("POST", "/v1/copilot/drafts", {"customer_id": SHOPPER, "instruction": ""}, STAFF),
    ("GET", "/v1/approvals", None, STAFF),
    ("GET", "/v1/approvals/apr_unknown_1", None, STAFF),
    ("POST", "/v1/approvals/apr_unknown_1/approve", {}, STAFF),
    ("POST", "/v1/approvals/apr_unknown_1/reject", {}, STAFF),
    ("GET", "/v1/policy", None, STAFF),
    ("POST", "/v1/policy/validate", BAD_POLICY, STAFF),
    ("POST", "/v1/policy/activate", BAD_POLICY, OPERATOR),
    ("PUT", "/v1/policy/shadow", BAD_POLICY, OPERATOR),
    ("DELETE", "/v1/policy/shadow", None, OPERATOR),
    ("GET", "/v1/kill-switch", None, STAFF),
    ("POST", "/v1/kill-switch", {"scope": "nope", "reason": "matrix"}, OPERATOR),
    ("DELETE", "/v1/kill-switch/action:not_set", None, OPERATOR),
    ("GET", "/metrics", None, OPERATOR),
]


async def _setup(client: httpx.AsyncClient) -> dict[str, str]:
    created = await client.post(
        "/v1/sessions", json={"customer_id": SHOPPER}, headers=headers("operator")
    )
    session = created.json()["session_id"]
    turn = await client.post(
        f"/v1/sessions/{session}/messages", json={"text": "hello"}, headers=headers("operator")
    )
    return {"session": session, "turn": turn.json()["turn_id"]}


async def test_every_endpoint_for_every_role(open_api: OpenApi) -> None:
    async with open_api() as client:
        ids = await _setup(client)
        outcomes: list[tuple[str, str, str | None, int]] = []
        for method, template, body, allowed in ENDPOINTS:
            path = template.format(**ids)
            for role in (None, *ROLES):
                response = await client.request(method, path, json=body, headers=headers(role))
                outcomes.append((method, template, role, response.status_code))
                if role is None:
                    expected_ok = False
                    assert response.status_code == 401, (method, path, role)
                    assert response.headers["www-authenticate"] == "Bearer"
                elif role in allowed:
                    expected_ok = True
                    assert response.status_code not in (401, 403), (method, path, role)
                else:
                    expected_ok = False
                    assert response.status_code == 403, (method, path, role, response.text)
                if not expected_ok:
                    assert response.json()["error"]["code"] in ("unauthorized", "forbidden")
                assert response.status_code < 500, (method, path, role, response.text)
        assert len(outcomes) == len(ENDPOINTS) * 4


@pytest.mark.parametrize(
    "path",
    [
        "/v1/sessions/{session}",
        "/v1/sessions/{session}/decisions",
        "/v1/decisions/{turn}",
    ],
)
async def test_a_storefront_cannot_read_another_customers_data(
    client: httpx.AsyncClient, path: str
) -> None:
    ids = await _setup(client)  # the session belongs to C1001
    url = path.format(**ids)
    assert (await client.get(url, headers=headers("storefront", SHOPPER))).status_code == 200
    other = await client.get(url, headers=headers("storefront", "C1002"))
    assert other.status_code == 403
    assert (await client.get(url, headers=headers("storefront", None))).status_code == 403
    message = await client.post(
        f"/v1/sessions/{ids['session']}/messages",
        json={"text": "hello"},
        headers=headers("storefront", "C1002"),
    )
    assert message.status_code == 403


async def test_a_storefront_opens_only_its_shoppers_shopper_sessions(
    client: httpx.AsyncClient,
) -> None:
    own = await client.post(
        "/v1/sessions", json={"customer_id": SHOPPER}, headers=headers("storefront")
    )
    assert own.status_code == 201
    other = await client.post(
        "/v1/sessions", json={"customer_id": "C1002"}, headers=headers("storefront")
    )
    assert other.status_code == 403
    copilot = await client.post(
        "/v1/sessions",
        json={"customer_id": SHOPPER, "channel": "copilot"},
        headers=headers("storefront"),
    )
    assert copilot.status_code == 403
    assert copilot.json()["error"]["field"] == "channel"


async def test_unknown_and_malformed_keys_are_401(client: httpx.AsyncClient) -> None:
    for value in ("Bearer nope-nope-nope-nope", "Basic abc", "Bearer "):
        response = await client.get("/v1/policy", headers={"Authorization": value})
        assert response.status_code == 401
    by_header = await client.get(
        "/v1/policy", headers={"X-API-Key": "op-test-key-0123456789abcdef"}
    )
    assert by_header.status_code == 200
