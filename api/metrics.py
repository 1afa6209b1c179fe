"""Prometheus metrics, observed from each turn's DecisionRecord (one registry per app).

Under ``arbiter serve --workers N`` the samples of every worker process are summed:
prometheus_client's multiprocess mode, on when ``PROMETHEUS_MULTIPROC_DIR`` is set.
"""

from __future__ import annotations

import os

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

from agent.record import DecisionRecord

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)


class Metrics:
    """Turns, verdicts by outcome and rule, tool and LLM latency, tokens, approvals."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.turns = Counter(
            "arbiter_turns", "Turns finished or paused.", ["channel", "status"], registry=r
        )
        self.turn_seconds = Histogram(
            "arbiter_turn_duration_seconds",
            "Wall time of a finished turn.",
            ["channel"],
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.verdicts = Counter(
            "arbiter_verdicts", "Verdicts by outcome.", ["action", "outcome"], registry=r
        )
        self.rule_hits = Counter(
            "arbiter_rule_hits",
            "Rules that fired, by rule id and effect.",
            ["rule_id", "effect"],
            registry=r,
        )
        self.executions = Counter(
            "arbiter_executions", "Executed actions by status.", ["action", "status"], registry=r
        )
        self.tool_seconds = Histogram(
            "arbiter_tool_duration_seconds",
            "Read-tool call latency.",
            ["tool", "status"],
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.llm_seconds = Histogram(
            "arbiter_llm_duration_seconds",
            "Model call latency.",
            ["model"],
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.llm_tokens = Counter(
            "arbiter_llm_tokens", "Tokens used, by direction.", ["model", "direction"], registry=r
        )
        self.approvals = Counter(
            "arbiter_approval_decisions",
            "Approval decisions by decision.",
            ["decision"],
            registry=r,
        )

    def observe(self, record: DecisionRecord) -> None:
        """Count one finished turn."""
        channel = record.principal.channel
        self.turns.labels(channel, "error" if record.error else "answered").inc()
        self.turn_seconds.labels(channel).observe(record.duration_ms / 1000)
        types = {p.id: p.type for p in record.proposals}
        for verdict in record.verdicts:
            self.verdicts.labels(types.get(verdict.action_id, ""), verdict.outcome).inc()
            for hit in verdict.hits:
                self.rule_hits.labels(hit.rule_id, hit.effect).inc()
        for execution in record.executions:
            self.executions.labels(execution.type, execution.status).inc()
        for call in record.context:
            self.tool_seconds.labels(call.tool, call.status).observe(call.duration_ms / 1000)
        for llm in record.llm_calls:
            self.llm_seconds.labels(llm.model).observe(llm.latency_ms / 1000)
            if llm.usage is not None:
                self.llm_tokens.labels(llm.model, "input").inc(llm.usage.input_tokens)
                self.llm_tokens.labels(llm.model, "output").inc(llm.usage.output_tokens)
        for approval in record.approvals:
            self.approvals.labels(str(approval.get("decision"))).inc()

    def paused(self, channel: str) -> None:
        """Count a turn that paused for approval."""
        self.turns.labels(channel, "pending_approval").inc()

    def render(self) -> bytes:
        """The Prometheus text exposition (of all worker processes in multiprocess mode)."""
        shared = os.environ.get(MULTIPROC_ENV)
        if not shared:
            return generate_latest(self.registry)
        registry = CollectorRegistry()
        MultiProcessCollector(registry, path=shared)  # type: ignore[no-untyped-call]
        return generate_latest(registry)
