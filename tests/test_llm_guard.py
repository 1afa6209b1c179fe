import pytest
from openai import AsyncOpenAI


async def test_an_unmocked_model_call_fails_the_test() -> None:
    client = AsyncOpenAI(api_key="k", base_url="http://llm.invalid/v1", max_retries=0)
    with pytest.raises(AssertionError, match="real model endpoint"):
        await client.chat.completions.create(
            model="m", messages=[{"role": "user", "content": "hi"}]
        )
