"""The HTML report: one self-contained page, readable offline and attachable to a CI run.

Everything is inline: the CSS, and the charts, drawn here as SVG (success rate by tag,
a histogram of turn latencies, verdict outcomes and the rules that fired most). There
is no script: each scenario is a ``<details>`` row that opens onto its trials, turn by
turn, with the decision-record essentials the runner kept (``evals.turn_summary``).
Every piece of text from a run goes through ``html.escape``; red-team messages are
hostile by design.
"""

from __future__ import annotations

import json
import math
from collections import Counter, defaultdict
from dataclasses import dataclass
from html import escape as e
from typing import TYPE_CHECKING, Any

from evals.costs import PriceTable, trial_cost, trial_tokens, usd
from evals.metrics import percentile
from evals.runner import TrialResult, TurnOutcome
from evals.turn_summary import TurnSummary

if TYPE_CHECKING:
    from evals.report import RunReport

PASS, FAIL, WARN, NEUTRAL = "#2e7d32", "#c62828", "#e09a00", "#4a78c2"
OUTCOME_COLORS = {"allow": PASS, "deny": FAIL, "require_approval": WARN}
TOP_RULES = 10

_CSS = """
body{font:14px/1.45 system-ui,sans-serif;margin:1.5em auto;max-width:1240px;padding:0 1em;
color:#222}
h1{font-size:1.5em}h2{margin-top:1.6em;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:.4em 0}td,th{border:1px solid #ccc;padding:2px 6px;
text-align:left;vertical-align:top}th{background:#f3f3f3}
.charts{display:flex;flex-wrap:wrap;gap:1em}
figure{margin:0;border:1px solid #ddd;padding:.5em;border-radius:4px}
figcaption{font-weight:600;margin-bottom:.3em}
.row{display:grid;grid-template-columns:1.2em 8em minmax(14em,1fr) 16em 8em 5em 5em;
gap:.5em;padding:3px 4px;border-bottom:1px solid #eee;align-items:baseline}
.head{font-weight:600;background:#f3f3f3}
summary.row{cursor:pointer;list-style:none}summary.row::-webkit-details-marker{display:none}
summary.row::before{content:"\\25B8"}details[open]>summary.row::before{content:"\\25BE"}
details.failed>summary{background:#fff1f1}
.ok{color:#2e7d32;font-weight:700}.ko{color:#c62828;font-weight:700}
.body{padding:.3em 1em 1em 2.2em;background:#fafafa;border-bottom:1px solid #ddd}
.turn{border-left:3px solid #cbd6ea;padding:.2em .8em;margin:.6em 0}
.msg{white-space:pre-wrap;background:#eef3fb;padding:.3em .6em;margin:.3em 0}
pre{white-space:pre-wrap;margin:.3em 0;background:#fff;border:1px solid #e4e4e4;padding:.4em}
code{font-size:12px}.muted{color:#777}
.allow{color:#2e7d32}.deny{color:#c62828}.require_approval{color:#a86f00}
"""


@dataclass(frozen=True)
class Bar:
    """One bar of a horizontal bar chart."""

    label: str
    value: float
    text: str
    color: str = NEUTRAL


def page(report: RunReport, headers: list[str], rows: list[list[str]]) -> str:
    """The whole page: run summary, charts, failing trials and the scenario drill-down."""
    parts = [
        "<!doctype html><html lang='en'><meta charset='utf-8'>",
        "<title>Arbiter eval report</title>",
        f"<style>{_CSS}</style>",
        _header(report),
        summary_table(headers, rows),
        "<h2>Charts</h2>",
        "<div class='charts'>",
        _figure("Success rate by tag", tag_chart(report)),
        _figure("Turn latency", latency_chart(report)),
        _figure("Verdicts", verdict_chart(report)),
        _figure(f"Rules fired (top {TOP_RULES})", rules_chart(report)),
        "</div>",
        failing_section(report),
        scenarios_section(report),
        "</html>",
    ]
    return "\n".join(parts) + "\n"


def _header(report: RunReport) -> str:
    scores = report.scores
    policies = ", ".join(f"{e(name)} {e(sha[:12])}" for name, sha in report.policy_versions.items())
    return (
        f"<h1>Arbiter eval run {e(report.started_at.isoformat(timespec='seconds'))}</h1>"
        f"<p>Model <b>{e(report.model)}</b>, {report.trials_per_scenario} trial(s) per "
        f"scenario, concurrency {report.concurrency} over {report.workers} process(es); "
        f"{scores.overall.trials} runs in "
        f"{scores.wall_s:.1f} s. Suites: {e(', '.join(report.suites))}."
        + (f" Policy: {policies}." if policies else "")
        + "</p>"
    )


def summary_table(headers: list[str], rows: list[list[str]]) -> str:
    """The score table, a header row then one row per suite (already formatted)."""

    def cells(tag: str, row: list[str]) -> str:
        return "<tr>" + "".join(f"<{tag}>{e(c)}</{tag}>" for c in row) + "</tr>"

    body = [cells("th", headers)] + [cells("td", row) for row in rows]
    return "<table>" + "".join(body) + "</table>"


def _figure(caption: str, svg: str) -> str:
    return f"<figure><figcaption>{e(caption)}</figcaption>{svg}</figure>"


def _svg(chart_id: str, width: int, height: int, body: list[str], label: str) -> str:
    return (
        f"<svg id='{e(chart_id)}' xmlns='http://www.w3.org/2000/svg' role='img' "
        f"aria-label='{e(label)}' width='{width}' height='{height}' "
        f"viewBox='0 0 {width} {height}' font-family='system-ui,sans-serif' font-size='11' "
        f"fill='#333'>" + "".join(body) + "</svg>"
    )


def bar_chart(
    chart_id: str, bars: list[Bar], label: str, empty: str, full: float | None = None
) -> str:
    """Horizontal bars, one per ``Bar``; ``empty`` if none.

    Bars are scaled to ``full`` (drawn as a grey track behind each bar) when given, else
    to the largest value.
    """
    width, left, right, step = 560, 200, 110, 22
    if not bars:
        return _svg(chart_id, width, 30, [f"<text x='4' y='18'>{e(empty)}</text>"], label)
    scale = full or max(b.value for b in bars) or 1.0
    span = width - left - right
    body = []
    for i, bar in enumerate(bars):
        y = 6 + i * step
        length = max(1.0, span * bar.value / scale) if bar.value else 0.0
        name = bar.label if len(bar.label) <= 31 else bar.label[:30] + "…"
        if full is not None:
            body.append(
                f"<rect x='{left}' y='{y}' width='{span}' height='{step - 6}' fill='#eee'/>"
            )
        body.append(
            f"<text x='{left - 6}' y='{y + 13}' text-anchor='end'>{e(name)}</text>"
            f"<rect class='bar' x='{left}' y='{y}' width='{length:.1f}' height='{step - 6}' "
            f"fill='{bar.color}'><title>{e(bar.label)}: {e(bar.text)}</title></rect>"
            f"<text x='{left + length + 5:.1f}' y='{y + 13}'>{e(bar.text)}</text>"
        )
    return _svg(chart_id, width, 10 + len(bars) * step, body, label)


def _rate_color(rate: float) -> str:
    return PASS if rate >= 0.95 else WARN if rate >= 0.7 else FAIL


def tag_chart(report: RunReport) -> str:
    """Success rate of the trials of each tag's scenarios, one bar per tag."""
    bars = [
        Bar(
            tag,
            s.success_rate,
            f"{s.success_rate:.0%} ({s.successes}/{s.trials})",
            _rate_color(s.success_rate),
        )
        for tag, s in sorted(report.scores.tags.items())
    ]
    return bar_chart("chart-tags", bars, "success rate by tag", "No tagged scenarios.", full=1.0)


def _turns(report: RunReport) -> list[TurnOutcome]:
    return [t for r in report.results for t in r.turns]


def latency_chart(report: RunReport) -> str:
    """A histogram of every turn's latency, with the p50 and p95 marked."""
    values = [t.latency_ms for t in _turns(report)]
    return histogram("chart-latency", values, "turn latency histogram (ms)")


def _nice(step: float) -> float:
    """The largest of 1, 2 or 5 times a power of ten that is at most ``step``."""
    if step <= 0:
        return 1.0
    power = 10.0 ** math.floor(math.log10(step))
    return next((m * power for m in (5, 2, 1) if m * power <= step), power)


@dataclass(frozen=True)
class Bins:
    """Equal-width bins over some values, starting at a round number."""

    start: float
    width: float
    counts: list[int]

    @classmethod
    def of(cls, values: list[float]) -> Bins:
        """Bins of a round width: at least the square root of the values in number (up to 12)."""
        lo, hi = min(values), max(values)
        wanted = max(1, min(12, math.ceil(math.sqrt(len(values)))))
        width = _nice((hi - lo) / wanted)
        start = math.floor(lo / width) * width
        counts = [0] * (int((hi - start) // width) + 1)
        for v in values:
            counts[min(len(counts) - 1, int((v - start) // width))] += 1
        return cls(start, width, counts)

    @property
    def end(self) -> float:
        """Where the last bin ends."""
        return self.start + self.width * len(self.counts)


def histogram(chart_id: str, values: list[float], label: str) -> str:
    """Counts of ``values`` (milliseconds) in equal-width bins, p50 and p95 as lines."""
    width, height = 520, 210
    if not values:
        return _svg(chart_id, width, 30, ["<text x='4' y='18'>No turns.</text>"], label)
    bins = Bins.of(values)
    plot = _Plot(left=40, top=24, width=width - 40 - 24, height=height - 24 - 34)
    body = [f"<text x='{plot.left}' y='12'>{len(values)} turns</text>"]
    body += _axes(plot, bins)
    body += _columns(plot, bins)
    for name, q in (("p50", 50), ("p95", 95)):
        value = percentile(values, q)
        x = plot.x(bins, value)
        y = plot.top - 6 + (q == 95) * 12
        body.append(
            f"<line x1='{x:.1f}' y1='{plot.top - 4}' x2='{x:.1f}' y2='{plot.base}' "
            f"stroke='#333' stroke-dasharray='3 3'/>"
            f"<text x='{x + 3:.1f}' y='{y}'>{name} {value:.0f}</text>"
        )
    return _svg(chart_id, width, height, body, label)


@dataclass(frozen=True)
class _Plot:
    left: float
    top: float
    width: float
    height: float

    @property
    def base(self) -> float:
        return self.top + self.height

    def x(self, bins: Bins, value: float) -> float:
        return self.left + self.width * (value - bins.start) / (bins.end - bins.start)


def _axes(plot: _Plot, bins: Bins) -> list[str]:
    right = plot.left + plot.width
    out = [
        f"<line x1='{plot.left}' y1='{plot.base}' x2='{right}' y2='{plot.base}' stroke='#888'/>",
        f"<text x='{plot.left - 4}' y='{plot.top + 8}' text-anchor='end'>{max(bins.counts)}</text>",
        f"<text x='{plot.left - 4}' y='{plot.base}' text-anchor='end'>0</text>",
        f"<text x='{right}' y='{plot.base + 28}' text-anchor='end'>ms per turn</text>",
    ]
    every = max(1, math.ceil(len(bins.counts) / 6))
    for i in range(0, len(bins.counts) + 1, every):
        edge = bins.start + i * bins.width
        out.append(
            f"<text x='{plot.x(bins, edge):.1f}' y='{plot.base + 14}' "
            f"text-anchor='middle'>{edge:g}</text>"
        )
    return out


def _columns(plot: _Plot, bins: Bins) -> list[str]:
    out, peak = [], max(bins.counts)
    col = plot.width / len(bins.counts)
    for i, count in enumerate(bins.counts):
        h = plot.height * count / peak
        start = bins.start + i * bins.width
        out.append(
            f"<rect class='bar' x='{plot.left + i * col + 1:.1f}' y='{plot.base - h:.1f}' "
            f"width='{max(1.0, col - 2):.1f}' height='{h:.1f}' fill='{NEUTRAL}'>"
            f"<title>{start:g}–{start + bins.width:g} ms: {count} turn(s)</title></rect>"
        )
    return out


def _records(report: RunReport) -> list[TurnSummary]:
    return [t.record for t in _turns(report) if t.record is not None]


def verdict_chart(report: RunReport) -> str:
    """How many proposals were allowed, denied or sent for approval."""
    records = _records(report)
    if not records:
        return bar_chart("chart-verdicts", [], "verdicts", "No decision records in this report.")
    outcomes = Counter(str(p.outcome) for r in records for p in r.proposals)
    total = sum(outcomes[o] for o in OUTCOME_COLORS)
    bars = [
        Bar(o, outcomes[o], f"{outcomes[o]} ({outcomes[o] / total:.0%})" if total else "0", c)
        for o, c in OUTCOME_COLORS.items()
    ]
    return bar_chart("chart-verdicts", bars, "verdict outcomes", "")


def rules_chart(report: RunReport) -> str:
    """The rule ids that fired most often, over every verdict of the run."""
    fired = Counter(rule for r in _records(report) for p in r.proposals for rule in p.rule_ids)
    bars = [Bar(rule, n, str(n), FAIL) for rule, n in fired.most_common(TOP_RULES)]
    return bar_chart("chart-rules", bars, "rules fired", "No rule fired.")


def _anchor(suite: str, scenario_id: str) -> str:
    slug = "".join(c if c.isalnum() or c in "-_" else "-" for c in f"{suite}--{scenario_id}")
    return f"scn-{slug}"


def failing_section(report: RunReport) -> str:
    """Each failing trial with its failures, linked to its scenario's drill-down."""
    failed = [r for r in report.results if not r.passed]
    parts = [f"<h2>Failing trials ({len(failed)})</h2>"]
    if not failed:
        return parts[0] + "<p>None.</p>"
    parts.append("<ul>")
    for r in failed:
        parts.append(
            f"<li><a href='#{_anchor(r.suite, r.scenario_id)}' class='ko'>"
            f"{e(r.suite)}/{e(r.scenario_id)} [{r.trial}]</a>: {e('; '.join(r.failures))}</li>"
        )
    return "".join(parts) + "</ul>"


def scenarios_section(report: RunReport) -> str:
    """Every scenario as a row that opens onto its trials, turn by turn."""
    groups: dict[tuple[str, str], list[TrialResult]] = defaultdict(list)
    for r in report.results:
        groups[(r.suite, r.scenario_id)].append(r)
    head = ["", "suite", "scenario", "tags", "trials", "p50 ms", "p95 ms"]
    parts = [
        f"<h2>Scenarios ({len(groups)})</h2>",
        "<p class='muted'>Open a row for its trials and each turn's decision record.</p>",
        "<div class='row head'>" + "".join(f"<span>{h}</span>" for h in head) + "</div>",
    ]
    for key in sorted(groups):
        parts.append(scenario_block(sorted(groups[key], key=lambda r: r.trial), report.prices))
    return "\n".join(parts)


def _mark(passed: bool) -> str:
    return "<span class='ok'>✓</span>" if passed else "<span class='ko'>✗</span>"


def scenario_block(trials: list[TrialResult], prices: PriceTable | None = None) -> str:
    """One scenario's row (``<summary>``) and, opened, each of its trials."""
    first = trials[0]
    latencies = [t.latency_ms for r in trials for t in r.turns]
    failed = " failed" if not all(r.passed for r in trials) else ""
    cells = [
        e(first.suite),
        e(first.scenario_id),
        e(", ".join(first.tags)),
        "".join(_mark(r.passed) for r in trials),
        f"{percentile(latencies, 50):.0f}",
        f"{percentile(latencies, 95):.0f}",
    ]
    row = "".join(f"<span>{c}</span>" for c in cells)  # the ::before marker is column 1
    body = "".join(trial_block(r, prices) for r in trials)
    anchor = _anchor(first.suite, first.scenario_id)
    return (
        f"<details id='{anchor}' class='scn{failed}'><summary class='row'>{row}</summary>"
        f"<div class='body'>{body}</div></details>"
    )


def trial_block(result: TrialResult, prices: PriceTable | None = None) -> str:
    """One trial: passed or not, its failures (unsafe executions among them), end cart, turns."""
    status = "passed" if result.passed else "failed"
    tokens = trial_tokens(result)
    spent = f", {tokens} tokens, {usd(trial_cost(result, prices))}" if tokens else ""
    parts = [
        f"<h4>{_mark(result.passed)} trial {result.trial}: {status}, "
        f"{result.duration_ms:.0f} ms{e(spent)}</h4>"
    ]
    if result.user != "turns":
        model = result.user.removeprefix("llm:")
        who = "scripted persona" if result.user == "scripted" else f"persona played by {model}"
        stop = f"; stopped: {result.user_stop}" if result.user_stop else ""
        parts.append(f"<p class='muted'>User: {e(who + stop)}</p>")
    if result.failures:
        parts.append("<ul>" + "".join(f"<li>{e(f)}</li>" for f in result.failures) + "</ul>")
    if result.cart:
        lines = ", ".join(
            f"{line.get('sku')} ×{line.get('quantity')} "
            f"({float(line.get('discount_percent') or 0):g}% off)"
            for line in result.cart
        )
        parts.append(f"<p class='muted'>Cart at the end: {e(lines)}</p>")
    parts += [turn_block(i + 1, t) for i, t in enumerate(result.turns)]
    return "".join(parts)


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(", ", ": "), default=str)


def _table(headers: list[str], rows: list[list[str]]) -> str:
    """A small table of already escaped cells (nothing when there are no rows)."""
    if not rows:
        return ""
    head = "".join(f"<th>{h}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def turn_block(number: int, turn: TurnOutcome) -> str:
    """One turn: message, decision-record essentials, answer."""
    record = turn.record
    meta = [f"<b>Turn {number}</b>", f"{turn.latency_ms:.0f} ms"]
    if turn.turn_id:
        meta.insert(1, f"<code>{e(turn.turn_id)}</code>")
    if record is not None:
        meta.append(f"policy <code>{e(record.policy_version[:12])}</code>")
        meta.append(f"{record.llm_calls} model call(s)")
        if record.input_flags:
            meta.append("flags " + e(", ".join(record.input_flags)))
    parts = [f"<div class='turn'><p>{' · '.join(meta)}</p>"]
    parts.append(f"<div class='msg'>{e(turn.message)}</div>")
    if turn.rejected:
        parts.append(f"<p class='ko'>Refused at input: {e(turn.rejected)}</p>")
    if turn.error:
        parts.append(f"<p class='ko'>Turn error: {e(turn.error)}</p>")
    if record is not None:
        parts.append(record_tables(record))
    elif turn.decisions:  # a report written before turns kept their record
        lines = "\n".join(turn.decisions)
        parts.append(f"<pre>{e(lines)}</pre>")
    if turn.text:
        repaired = " (repaired by the claim check)" if record and record.output_repaired else ""
        parts.append(f"<p class='muted'>Answer{repaired}:</p><pre>{e(turn.text)}</pre>")
    return "".join(parts) + "</div>"


def record_tables(record: TurnSummary) -> str:
    """Tools, proposals with their verdicts, executions and claim checks of one turn."""
    tools = [
        [
            e(c.tool),
            e(c.status if c.error is None else f"{c.status}: {c.error}"),
            f"{c.duration_ms:.0f}",
            str(c.attempts),
            f"<code>{e(_json(c.args))}</code>",
        ]
        for c in record.tools
    ]
    proposals = [
        [
            e(p.type),
            f"<code>{e(_json(p.params))}</code>",
            f"<b class='{e(p.outcome or '')}'>{e(p.outcome or 'no verdict')}</b>",
            "<br>".join(f"<code>{e(rule)}</code>" for rule in p.rule_ids),
            "<br>".join(e(reason) for reason in p.reasons),
        ]
        for p in record.proposals
    ]
    executions = [
        [
            e(x.type),
            e(x.status if x.error is None else f"{x.status}: {x.error}"),
            f"<code>{e(x.idempotency_key)}</code>",
        ]
        for x in record.executions
    ]
    claims = [[e(c.kind), e(c.text), _mark(c.verified), e(c.detail)] for c in record.claim_checks]
    return (
        _table(["tool", "status", "ms", "tries", "arguments"], tools)
        + _table(["proposed", "params", "verdict", "rules", "reasons"], proposals)
        + _table(["executed", "status", "idempotency key"], executions)
        + _table(["claim", "text", "verified", "detail"], claims)
    )
