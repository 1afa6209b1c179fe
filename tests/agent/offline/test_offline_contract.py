"""Every call the planner emits passes the tool layer's strict argument validation."""

from __future__ import annotations

import pytest

from agent.models.base import ChatMessage
from tests.agent.offline.offline_support import UTTERANCES, assistant, run_turn, user
from tools.registry import get_tool, openai_tools

LISTING = assistant("- Pegasus 41 (RUN-00042): $89.99\n- Ghost 16 (RUN-00043): $109.99")
WITH_HISTORY = [
    "add 2 of the first one",
    "can I pick the second one up today?",
    "how much is it compared to competitors?",
    "I'm a loyal customer, 10% off?",
    "SportsHub has it cheaper",
]


@pytest.mark.parametrize(
    ("text", "history"),
    [(text, []) for text in UTTERANCES]
    + [(text, [user("running shoes"), LISTING]) for text in WITH_HISTORY],
)
def test_calls_validate_against_the_registry(text: str, history: list[ChatMessage]) -> None:
    run = run_turn(text, history=history, tools=openai_tools())
    for call in run.calls:
        spec = get_tool(call.name)
        assert spec is not None, call.name
        spec.parse_args(call.arguments)
        # Strict mode: the model passes every argument, null where optional.
        required = spec.openai_schema()["function"]["parameters"].get("required", [])
        assert set(call.arguments) == set(required), call.name
