"""What recording and tracing cost a turn: offline planner, in-process sandbox.

    .venv/bin/python -m benchmarks.recording_overhead [--turns 30]

Four Arbiters over identical fresh data directories run the same utterances with:
nothing (an audit store that keeps nothing, a no-op tracer provider), the real
AuditStore only, SDK tracing only (a BatchSpanProcessor to an exporter that discards),
and both. Their turns are interleaved in rotating order so drift (caches, the
sandbox's growing carts, CPU frequency) falls on all of them alike. Prints the p50 of
each and the ratio of both to nothing; the goal is under 1.10x.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from collections.abc import Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from pathlib import Path

from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.trace import NoOpTracerProvider
from opentelemetry.trace import TracerProvider as ApiTracerProvider
from rich.console import Console
from rich.table import Table

from agent.audit_store import AuditStore
from agent.record import DecisionRecord
from agent.runtime import Arbiter
from arbiter.settings import Settings
from benchmarks.turn_latency import UTTERANCES
from sandbox.seed import SAMPLE_CUSTOMER_ID


class NoAuditStore(AuditStore):
    """Keeps nothing: the turn without its audit write."""

    def __init__(self) -> None:
        pass

    def append(self, record: DecisionRecord) -> DecisionRecord:
        return record

    def close(self) -> None:
        pass


class DiscardingExporter(SpanExporter):
    """Counts spans and drops them: the SDK's full cost without a network."""

    def __init__(self) -> None:
        self.spans = 0

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        self.spans += len(spans)
        return SpanExportResult.SUCCESS


@dataclass
class Variant:
    """One configuration under test."""

    name: str
    audit: bool
    tracing: bool
    exporter: DiscardingExporter = field(default_factory=DiscardingExporter)
    samples: dict[str, list[float]] = field(default_factory=dict)
    arbiter: Arbiter | None = None
    session_id: str = ""
    provider: TracerProvider | None = None

    def tracer_provider(self) -> ApiTracerProvider:
        if not self.tracing:
            return NoOpTracerProvider()
        self.provider = TracerProvider()
        self.provider.add_span_processor(BatchSpanProcessor(self.exporter))
        return self.provider

    async def turn(self, text: str) -> float:
        assert self.arbiter is not None
        started = time.perf_counter()
        await self.arbiter.ask(self.session_id, text)
        elapsed = (time.perf_counter() - started) * 1000
        self.samples.setdefault(text, []).append(elapsed)
        return elapsed


VARIANTS = (
    ("off", False, False),
    ("recording", True, False),
    ("tracing", False, True),
    ("both", True, True),
)


async def run(turns: int, root: Path) -> list[Variant]:
    variants = [Variant(name, audit, tracing) for name, audit, tracing in VARIANTS]
    async with AsyncExitStack() as stack:
        for variant in variants:
            settings = Settings(data_dir=root / variant.name, planner="offline")
            variant.arbiter = await stack.enter_async_context(
                Arbiter.open(settings, tracer_provider=variant.tracer_provider())
            )
            if not variant.audit:
                variant.arbiter.deps.audit = NoAuditStore()
            session = await variant.arbiter.start_session(SAMPLE_CUSTOMER_ID)
            variant.session_id = session.session_id
            for text in UTTERANCES:  # warm caches, then forget these samples
                await variant.turn(text)
            variant.samples.clear()
        for i in range(turns):
            for text in UTTERANCES:
                shift = i % len(variants)
                for variant in variants[shift:] + variants[:shift]:
                    await variant.turn(text)
    for variant in variants:
        if variant.provider is not None:
            variant.provider.shutdown()  # flushes the batch processor
    return variants


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=30, help="turns per utterance and variant")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        variants = asyncio.run(run(args.turns, Path(tmp)))
    by_name = {v.name: v for v in variants}
    table = Table(
        title=f"recording + tracing overhead, offline planner, p50 of {args.turns} turns (ms)"
    )
    table.add_column("utterance")
    for variant in variants:
        table.add_column(variant.name, justify="right")
    table.add_column("both / off", justify="right")
    totals = {v.name: 0.0 for v in variants}
    for text in UTTERANCES:
        p50 = {v.name: statistics.median(v.samples[text]) for v in variants}
        for name, value in p50.items():
            totals[name] += value
        table.add_row(
            text,
            *(f"{p50[v.name]:.2f}" for v in variants),
            f"{p50['both'] / p50['off']:.3f}x",
        )
    table.add_row(
        "sum of p50s",
        *(f"{totals[v.name]:.2f}" for v in variants),
        f"{totals['both'] / totals['off']:.3f}x",
        style="bold",
    )
    measured = args.turns * len(UTTERANCES) + len(UTTERANCES)
    spans = by_name["both"].exporter.spans / measured
    Console().print(table)
    Console().print(f"spans exported per traced turn: {spans:.1f}")


if __name__ == "__main__":
    main()
