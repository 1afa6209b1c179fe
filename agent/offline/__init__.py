"""The offline reasoning component: a deterministic intent planner (no LLM, no network)."""

from agent.offline.planner import OfflinePlanner

__all__ = ["OfflinePlanner"]
