"""Run reports: JSON for machines, Markdown for people, a rich table for the terminal."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

from pydantic import BaseModel, Field
from rich.table import Table

from evals import report_html
from evals.costs import PriceTable, usd
from evals.metrics import RunScores, Scores
from evals.runner import TrialResult


class RunReport(BaseModel):
    """What a run wrote: its settings, scores and every trial."""

    started_at: datetime
    model: str
    trials_per_scenario: int
    concurrency: int
    workers: int = Field(default=1, description="Processes the trials ran in.")
    suites: list[str] = Field(description="Suite files run.")
    policy_versions: dict[str, str] = Field(description="Suite name to policy sha256.")
    scores: RunScores
    results: list[TrialResult]
    prices: PriceTable | None = Field(default=None, description="USD per 1M tokens, if given.")


def default_out_dir(base: Path, now: datetime | None = None) -> Path:
    """``<base>/evals/<UTC timestamp>/``."""
    moment = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    return base / "evals" / moment


def write_reports(report: RunReport, out_dir: Path) -> tuple[Path, Path]:
    """Write ``report.json``, ``summary.md`` and ``report.html``; return the first two."""
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path = out_dir / "report.json"
    json_path.write_text(
        json.dumps(report.model_dump(mode="json"), indent=2) + "\n", encoding="utf-8"
    )
    md_path = out_dir / "summary.md"
    md_path.write_text(markdown(report), encoding="utf-8")
    (out_dir / "report.html").write_text(html_page(report), encoding="utf-8")
    return json_path, md_path


def html_page(report: RunReport) -> str:
    """The self-contained HTML page (``evals.report_html``): scores, charts, drill-down."""
    rows = [_row(name, s) for name, s in sorted(report.scores.suites.items())]
    rows.append(_row("all", report.scores.overall))
    return report_html.page(report, HEADERS, rows)


def write_junit(report: RunReport, path: Path) -> Path:
    """JUnit XML for CI: a testsuite per suite, a testcase per trial, failures as text."""
    by_suite: dict[str, list[TrialResult]] = defaultdict(list)
    for result in report.results:
        by_suite[result.suite].append(result)
    root = ET.Element("testsuites", name="arbiter-evals")
    for name, results in sorted(by_suite.items()):
        failed = sum(not r.passed for r in results)
        suite = ET.SubElement(
            root,
            "testsuite",
            name=name,
            tests=str(len(results)),
            failures=str(failed),
            time=f"{sum(r.duration_ms for r in results) / 1000:.3f}",
        )
        for r in results:
            case = ET.SubElement(
                suite,
                "testcase",
                classname=f"evals.{name}",
                name=f"{r.scenario_id}[{r.trial}]",
                time=f"{r.duration_ms / 1000:.3f}",
            )
            if not r.passed:
                failure = ET.SubElement(case, "failure", message=r.failures[0][:200])
                failure.text = "\n".join(r.failures)
    path.parent.mkdir(parents=True, exist_ok=True)
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)
    return path


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value * 100:.0f}%"


def _row(name: str, s: Scores) -> list[str]:
    return [
        name,
        str(s.scenarios),
        str(s.trials),
        _pct(s.success_rate),
        _pct(s.pass_hat_k),
        _pct(s.pass_at_k),
        str(s.unsafe_executions),
        str(s.guardrail_catches),
        str(s.false_blocks),
        _pct(s.tool_precision),
        _pct(s.tool_recall),
        f"{s.latency_p50_ms:.0f}",
        f"{s.latency_p95_ms:.0f}",
        str(s.tokens) if s.tokens else "n/a",
        usd(s.cost_usd),
    ]


HEADERS = [
    "suite",
    "scen.",
    "runs",
    "success",
    "pass^k",
    "pass@k",
    "unsafe",
    "caught",
    "false blk",
    "tool P",
    "tool R",
    "p50 ms",
    "p95 ms",
    "tokens",
    "cost",
]
"""Columns: guardrail catches, false blocks, tool precision and recall, turn latency, tokens
(the agent's and an LLM user's) and their cost in USD (n/a: none reported, or no price)."""


def markdown(report: RunReport) -> str:
    """The human summary: scores by suite, then every failing scenario."""
    scores = report.scores
    lines = [
        f"# Arbiter eval run {report.started_at.isoformat(timespec='seconds')}",
        "",
        f"Model `{report.model}`, {report.trials_per_scenario} trial(s) per scenario, "
        f"concurrency {report.concurrency} over {report.workers} process(es); "
        f"{scores.overall.trials} scenario runs in "
        f"{scores.wall_s:.1f} s ({scores.scenarios_per_s:.1f}/s).",
        "",
        *price_lines(report.prices),
        "| " + " | ".join(HEADERS) + " |",
        "|" + "---|" * len(HEADERS),
    ]
    rows = [_row(name, s) for name, s in sorted(scores.suites.items())]
    rows.append(_row("**all**", scores.overall))
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    lines += ["", "## By tag", "", "| " + " | ".join(["tag", *HEADERS[1:]]) + " |"]
    lines.append("|" + "---|" * len(HEADERS))
    lines += ["| " + " | ".join(_row(tag, s)) + " |" for tag, s in scores.tags.items()]
    lines += ["", "## Scenarios", ""]
    lines += ["| scenario | tags | passed | p95 ms | tokens | cost |", "|---|---|---|---|---|---|"]
    lines += [
        f"| {s.suite}/{s.scenario_id} | {', '.join(s.tags)} | "
        f"{s.scores.successes}/{s.scores.trials} | {s.scores.latency_p95_ms:.0f} | "
        f"{s.scores.tokens or 'n/a'} | {usd(s.scores.cost_usd)} |"
        for s in sorted(scores.scenarios, key=lambda s: (s.suite, s.scenario_id))
    ]
    failing = [s for s in scores.scenarios if s.failures]
    lines += ["", f"## Failing scenarios ({len(failing)})", ""]
    if not failing:
        lines.append("None.")
    for s in failing:
        lines.append(
            f"- **{s.suite}/{s.scenario_id}** ({s.scores.successes}/{s.scores.trials} passed)"
        )
        lines += [f"  - {failure}" for failure in s.failures]
    return "\n".join(lines) + "\n"


def price_lines(prices: PriceTable | None) -> list[str]:
    """The price table as Markdown lines (none without prices)."""
    if prices is None:
        return []
    named = [f"`{name}` {p.input:g}/{p.output:g}" for name, p in sorted(prices.models.items())]
    if prices.default is not None:
        named.append(f"any other model {prices.default.input:g}/{prices.default.output:g}")
    return [f"Prices, USD per 1M input/output tokens: {', '.join(named)}.", ""]


def table(scores: RunScores) -> Table:
    """The terminal table: one row per suite and the total."""
    out = Table(*HEADERS, title=f"{scores.scenarios_per_s:.1f} scenario runs/s")
    for name, s in sorted(scores.suites.items()):
        out.add_row(*_row(name, s))
    out.add_row(*_row("all", scores.overall), style="bold")
    return out


def failures_table(scores: RunScores) -> Table | None:
    """Failing scenarios and why, or None when all passed."""
    failing = [s for s in scores.scenarios if s.failures]
    if not failing:
        return None
    out = Table("scenario", "passed", "failures", title="failing scenarios")
    for s in failing:
        out.add_row(
            f"{s.suite}/{s.scenario_id}",
            f"{s.scores.successes}/{s.scores.trials}",
            "\n".join(s.failures),
        )
    return out


class Comparison(BaseModel):
    """A candidate run against a baseline: metric deltas and scenarios that changed."""

    baseline: Scores
    candidate: Scores
    regressions: list[str] = Field(description="Scenarios that passed (pass^k) and now do not.")
    fixes: list[str] = Field(description="Scenarios that did not pass and now do.")
    missing: list[str] = Field(description="Baseline scenarios the candidate did not run.")

    @property
    def worse(self) -> bool:
        """A regression, or more unsafe executions than the baseline."""
        return bool(self.gate_failures())

    def gate_failures(self, max_success_drop: float | None = None) -> list[str]:
        """Why the candidate fails the release gate (empty: it passes).

        More unsafe executions always fail it. Without ``max_success_drop`` any scenario
        that stopped passing fails it; with it (in percentage points), only an overall
        success drop beyond that does (for model runs that vary from trial to trial).
        """
        failures = []
        before, after = self.baseline.unsafe_executions, self.candidate.unsafe_executions
        if after > before:
            failures.append(f"unsafe executions rose from {before} to {after}")
        if max_success_drop is None:
            if self.regressions:
                failures.append(f"{len(self.regressions)} scenario(s) stopped passing")
        else:
            old = self.baseline.success_rate or 0.0
            new = self.candidate.success_rate or 0.0
            drop = (old - new) * 100
            if drop > max_success_drop:
                failures.append(f"success fell {drop:.1f} points (gate: {max_success_drop:g})")
        return failures


def load_report(path: Path) -> RunReport:
    """Read a ``report.json`` (a file, or the run directory holding one)."""
    if path.is_dir():
        path = path / "report.json"
    return RunReport.model_validate_json(path.read_text(encoding="utf-8"))


def compare(baseline: RunReport, candidate: RunReport) -> Comparison:
    """What changed from ``baseline`` to ``candidate``, scenario by scenario (pass^k)."""

    def passing(report: RunReport) -> dict[str, bool]:
        return {
            f"{s.suite}/{s.scenario_id}": s.scores.pass_hat_k == 1.0
            for s in report.scores.scenarios
        }

    before, after = passing(baseline), passing(candidate)
    return Comparison(
        baseline=baseline.scores.overall,
        candidate=candidate.scores.overall,
        regressions=sorted(k for k, ok in after.items() if not ok and before.get(k)),
        fixes=sorted(k for k, ok in after.items() if ok and before.get(k) is False),
        missing=sorted(set(before) - set(after)),
    )


_COMPARED = [
    ("success", "success_rate", True),
    ("pass^k", "pass_hat_k", True),
    ("pass@k", "pass_at_k", True),
    ("unsafe", "unsafe_executions", False),
    ("caught", "guardrail_catches", False),
    ("false blk", "false_blocks", False),
    ("tool P", "tool_precision", True),
    ("tool R", "tool_recall", True),
    ("p50 ms", "latency_p50_ms", False),
    ("p95 ms", "latency_p95_ms", False),
]


def comparison_table(result: Comparison) -> Table:
    """Baseline, candidate and the change for each overall metric."""
    out = Table("metric", "baseline", "candidate", "change", title="candidate vs baseline")
    for label, name, ratio in _COMPARED:
        old, new = getattr(result.baseline, name), getattr(result.candidate, name)

        def shown(value: float | None, is_ratio: bool = ratio) -> str:
            if value is None:
                return "n/a"
            return _pct(value) if is_ratio else f"{value:.0f}"

        if old is None or new is None:
            change = ""
        else:
            change = f"{(new - old) * 100:+.0f} pts" if ratio else f"{new - old:+.0f}"
        out.add_row(label, shown(old), shown(new), change)
    return out
