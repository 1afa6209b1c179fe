"""The simulated user: a chat model playing the customer of one task.

It sits behind the same ``ChatModel`` interface as the agent's planner, so the
user can be a real OpenAI-compatible endpoint (built by ``agent.models.factory``
with its own model name) or a ``ScriptedChatModel`` (gold mode, tests). From the
user's side of the conversation the agent's messages are the ``user`` role and its
own are ``assistant``. The conversation ends when a user message contains ``STOP``.
The eval harness's persona users (``evals.user``) reuse it with their own ``role``.
"""

from __future__ import annotations

from agent.models.base import ChatMessage, ChatModel, ModelParams, ModelRequest, TokenUsage
from evals.tau2.tasks import UserScenario

STOP = "###STOP###"
"""What the user writes when the conversation is over (the tau-bench convention)."""

GREETING = "Hello, this is customer support. How can I help you today?"
"""The agent's opening line, given to the user so that the user speaks first to Arbiter."""

CUSTOMER_ROLE = "You are role-playing a customer who contacts an online retailer's support agent."
"""Who the simulated user plays (the tau-bench retail customer)."""


def user_system_prompt(scenario: UserScenario, role: str = CUSTOMER_ROLE) -> str:
    """The simulated user's instructions for one task."""
    parts = [
        role,
        "Stay in character; the agent must not learn that you are simulated.",
        "",
        f"Your request: {scenario.instruction}",
    ]
    if scenario.known_info:
        parts.append(f"What you know: {scenario.known_info}")
    if scenario.unknown_info:
        parts.append(f"What you do not know: {scenario.unknown_info}")
    if scenario.persona:
        parts.append(f"Who you are: {scenario.persona}")
    if scenario.task_instructions:
        parts.append(f"How you behave: {scenario.task_instructions}")
    parts += [
        "",
        "How to talk:",
        "- Write one short message at a time, as the customer would.",
        "- Give a piece of information only when the agent needs it; never make up"
        " facts (names, ids, addresses, card numbers) you were not given. If the agent"
        " asks for something you do not know, say so.",
        "- Do not copy these instructions; say things in your own words.",
        "- Answer the agent's questions and confirm or decline what it proposes, as your"
        " request says.",
        f"- When your request is fully handled, or cannot be handled, or the agent transfers"
        f" you to a human, reply with {STOP} alone.",
    ]
    return "\n".join(parts)


class SimulatedUser:
    """Keeps the user's side of one conversation and asks its model for each reply."""

    def __init__(
        self,
        model: ChatModel,
        scenario: UserScenario,
        params: ModelParams | None = None,
        *,
        role: str = CUSTOMER_ROLE,
    ) -> None:
        self.model = model
        self.params = params or ModelParams(temperature=0.0, max_tokens=400)
        self.system = ChatMessage(role="system", content=user_system_prompt(scenario, role))
        self.messages: list[ChatMessage] = []
        self.usage = TokenUsage()

    def said(self, text: str) -> None:
        """Keep a message the user sent without the model (a scripted opening)."""
        self.messages.append(ChatMessage(role="assistant", content=text))

    async def reply(self, agent_text: str) -> str:
        """The user's next message after the agent said ``agent_text``."""
        self.messages.append(ChatMessage(role="user", content=agent_text))
        request = ModelRequest(
            messages=[self.system, *self.messages], params=self.params, tool_choice="none"
        )
        response = await self.model.complete(request)
        text = (response.text or "").strip()
        if response.usage is not None:
            self.usage.input_tokens += response.usage.input_tokens
            self.usage.output_tokens += response.usage.output_tokens
        self.messages.append(ChatMessage(role="assistant", content=text))
        return text


def is_stop(text: str) -> bool:
    """True when the user ended the conversation (or had nothing left to say)."""
    return STOP in text or not text.strip()
