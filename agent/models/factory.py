"""Pick the reasoning component from settings, and say which one and why."""

from __future__ import annotations

from agent.models.base import ChatModel
from arbiter.settings import Settings


def build_model(settings: Settings) -> ChatModel:
    """The openai component when an endpoint is configured (or forced), else offline."""
    if settings.resolved_planner() == "openai":
        from agent.models.openai_model import OpenAIChatModel  # the SDK costs ~0.3 s to import

        key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else None
        return OpenAIChatModel(
            transport=settings.llm_transport,
            model=settings.model,
            api_key=key,
            base_url=settings.openai_base_url,
            timeout_s=settings.llm_timeout_s,
            max_attempts=settings.llm_max_retries + 1,
        )
    from agent.offline import OfflinePlanner

    return OfflinePlanner()


def describe_model(settings: Settings) -> str:
    """One line for the CLI: which planner runs and why."""
    if settings.resolved_planner() == "openai":
        where = settings.openai_base_url or "api.openai.com"
        return f"Planner: openai ({settings.model} at {where})."
    reason = (
        "forced by ARBITER_PLANNER"
        if settings.planner == "offline"
        else ("no OPENAI_API_KEY or OPENAI_BASE_URL set")
    )
    return f"Planner: offline deterministic intent planner ({reason}); no LLM is used."
