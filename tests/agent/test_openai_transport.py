"""The openai planner built from settings, over the SDK's aiohttp transport (the default).

The endpoint is the load benchmark's fake chat-completions server on loopback: real
HTTP, real SDK, real transport; the fake answers a tool call, then text.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from agent.models.base import ChatMessage, ModelRequest
from agent.models.openai_model import OpenAIChatModel
from agent.runtime import Arbiter
from arbiter.errors import ModelEndpointError
from arbiter.settings import Settings
from benchmarks.fake_openai import serve
from sandbox.seed import SAMPLE_CUSTOMER_ID


@pytest.fixture
async def fake_endpoint() -> AsyncIterator[str]:
    ready: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    task = asyncio.create_task(serve("127.0.0.1", 0, 0.0, ready))
    port = await ready
    yield f"http://127.0.0.1:{port}/v1"
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


async def test_a_turn_over_aiohttp_then_the_connections_close(
    settings: Settings, fake_endpoint: str
) -> None:
    configured = settings.model_copy(
        update={"planner": "openai", "openai_base_url": fake_endpoint, "llm_max_retries": 0}
    )
    assert configured.llm_transport == "aiohttp"
    async with Arbiter.open(configured) as arbiter:
        model = arbiter.deps.model
        assert isinstance(model, OpenAIChatModel)
        session = await arbiter.start_session(SAMPLE_CUSTOMER_ID)
        result = await arbiter.ask(session.session_id, "running shoes size 10 under $120")
        record = result.recorded
        assert record is not None and record.error is None
        assert record.final_text == "Here is what I found."
        assert [c.tool for c in record.context] == ["search_products"]
        assert len(record.llm_calls) == 2
        http = model.http_client
    assert http.is_closed


async def test_an_unreachable_endpoint_is_a_model_error_not_a_hang(settings: Settings) -> None:
    model = OpenAIChatModel(
        model="gpt-test",
        api_key="k",
        base_url="http://127.0.0.1:9/v1",  # discard port: nothing listens
        transport="aiohttp",
        max_attempts=1,
        timeout_s=2.0,
    )
    with pytest.raises(ModelEndpointError):
        await model.complete(ModelRequest(messages=[ChatMessage(role="user", content="hi")]))
    await model.aclose()
