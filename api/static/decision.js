// The decision viewer: one turn's DecisionRecord, laid out for a person.
import { badge, h, json, kv, ms, params, row, rule, section, short, table, when } from "./app.js";

const enc = encodeURIComponent;
const muted = (...children) => h("span", { class: "muted small" }, ...children);
const empty = (text) => h("p", { class: "empty" }, text);

/** The facts a verdict was decided on, folded. */
export function factsBlock(facts) {
  if (!facts.length) return null;
  return h(
    "details",
    { class: "facts" },
    h("summary", {}, `Facts the rules used (${facts.length})`),
    facts.map((f) =>
      h(
        "div",
        {},
        h(
          "div",
          { class: "small" },
          h("strong", {}, `${f.kind} ${f.key}`),
          muted(` from ${f.source}, read ${when(f.read_at)}`),
        ),
        json(f.value),
      ),
    ),
  );
}

function timingsTable(timings) {
  const longest = Math.max(1, ...timings.map((t) => t.duration_ms));
  const bar = (t) => {
    const el = h("div", { class: "timing-bar" });
    el.style.width = `${Math.max(0.5, (100 * t.duration_ms) / longest).toFixed(1)}%`; // CSSOM: CSP-safe
    return el;
  };
  const view = table(
    ["step", "time", ""],
    timings.map((t) => row(h("code", {}, t.node), ms(t.duration_ms), bar(t))),
  );
  view.className = "timings";
  return view;
}

function askedFor(call) {
  if (call.tool_calls.length) {
    return call.tool_calls.map((t) => h("div", {}, h("code", {}, t.name), " ", muted(params(t.arguments))));
  }
  return call.text !== null ? "the answer" : "";
}

function llmTable(calls) {
  return table(
    ["#", "prompt", "model", "asked for", "tokens in/out", "latency"],
    calls.map((c) =>
      row(
        String(c.index),
        h("code", {}, `${c.template_id}@${c.template_version}`),
        `${c.response_model || c.model} (${c.endpoint_kind})`,
        askedFor(c),
        c.usage ? `${c.usage.input_tokens}/${c.usage.output_tokens}` : "—",
        ms(c.latency_ms),
      ),
    ),
  );
}

function toolsTable(context) {
  return table(
    ["tool", "arguments", "status", "time", "result"],
    context.map((t) =>
      row(
        h("code", {}, t.tool),
        h("span", { class: "small" }, params(t.args)),
        badge(t.status),
        `${ms(t.duration_ms)}${t.attempts > 1 ? ` · ${t.attempts} tries` : ""}`,
        h(
          "details",
          {},
          h("summary", {}, t.error ? t.error.message || "error" : t.source_service),
          json(t.error || t.result),
        ),
      ),
    ),
  );
}

function verdictBlock(proposal, verdict) {
  const resolved = params(verdict.resolved_params);
  return h(
    "div",
    { class: "record-verdict" },
    h(
      "div",
      {},
      muted(verdict.stage === "after_approval" ? "re-validated after the approval" : "verdict"),
      " ",
      badge(verdict.outcome),
      verdict.hits.length ? null : muted(" no rule fired"),
      resolved && resolved !== params(proposal.params) ? muted(` · executes with ${resolved}`) : null,
    ),
    verdict.hits.map((hit) =>
      h("div", { class: "hit" }, rule(hit.rule_id), " ", muted(hit.effect), " · ", hit.reason),
    ),
    factsBlock(verdict.facts),
  );
}

function proposalsBlock(record) {
  if (!record.proposals.length) return empty("No actions proposed.");
  return record.proposals.map((p) =>
    h(
      "div",
      { class: "proposal" },
      h(
        "div",
        {},
        h("strong", {}, p.type),
        " ",
        h("code", { class: "muted" }, p.id),
        " ",
        h("span", { class: "small" }, params(p.params)),
      ),
      record.verdicts.filter((v) => v.action_id === p.id).map((v) => verdictBlock(p, v)),
    ),
  );
}

function headCard(r) {
  const usage = r.token_usage ? `${r.token_usage.input_tokens} in / ${r.token_usage.output_tokens} out` : "";
  const { customer, principal } = r;
  return h(
    "div",
    { class: "card" },
    h(
      "div",
      { class: "record-head" },
      h("h2", {}, "Turn ", h("code", { id: "record-turn-id" }, r.turn_id)),
      badge(r.error ? "error" : "ok"),
    ),
    kv([
      ["session", h("a", { href: `#session/${enc(r.session_id)}` }, r.session_id)],
      ["customer", `${principal.customer_id} · ${customer.name} · ${customer.loyalty_tier} · ${principal.channel}`],
      [
        "started",
        `${when(r.started_at)} · took ${ms(r.duration_ms)}` +
          (r.waited_ms ? ` · waited ${ms(r.waited_ms)} for approval` : ""),
      ],
      ["policy", h("code", {}, r.policy_version)],
      [
        "record",
        h("span", {}, h("code", {}, short(r.record_hash, 16)), muted(` (prev ${short(r.prev_hash, 16) || "none"})`)),
      ],
      ["tokens", usage],
      ["input flags", r.input_flags.join(", ")],
      ["error", r.error || ""],
    ]),
    h("h3", {}, "Message"),
    h("div", { class: "quote" }, r.user_message),
    h("h3", {}, r.output_repaired ? "Answer (repaired by the claim check)" : "Answer"),
    h("div", { class: "quote final-text" }, r.final_text),
    r.output_repaired && r.draft_text
      ? h("details", {}, h("summary", {}, "The model's draft"), h("div", { class: "quote" }, r.draft_text))
      : null,
  );
}

function executionsCard(executions) {
  return section(
    "Executions",
    table(
      ["action", "status", "idempotency key", "arguments", "result"],
      executions.map((e) =>
        row(
          h("strong", {}, e.type),
          badge(e.status),
          h("code", { class: "nowrap" }, e.idempotency_key),
          h("span", { class: "small" }, params(e.params)),
          h("span", { class: "small" }, e.error ? e.error.message || JSON.stringify(e.error) : params(e.result)),
        ),
      ),
    ),
  );
}

function approvalsCard(approvals) {
  return section(
    "Approvals",
    table(
      ["approval", "decision", "by", "comment", "after re-validation"],
      approvals.map((a) =>
        row(
          h("code", {}, a.approval_id),
          badge(a.decision),
          a.decided_by,
          a.comment || "—",
          [badge(a.outcome), " ", (a.revalidated_rule_ids || []).map(rule)],
        ),
      ),
    ),
  );
}

function claimsCard(checks) {
  if (!checks.length) return section("Claim checks", empty("No checkable claims in the answer."));
  return section(
    "Claim checks",
    table(
      ["kind", "claim", "", "detail"],
      checks.map((c) =>
        row(c.kind, h("code", {}, c.text), badge(c.verified ? "verified" : "unverified"), c.detail),
      ),
    ),
  );
}

function shadowCard(shadow) {
  return section(
    "Shadow policy",
    h(
      "p",
      { class: "small" },
      `${short(shadow.policy_version)} evaluated ${shadow.evaluated} proposals; ${shadow.differences.length} differ.`,
    ),
    shadow.differences.map((d) =>
      h(
        "div",
        { class: "hit" },
        h("strong", {}, d.type),
        " active ",
        badge(d.active.outcome),
        " shadow ",
        badge(d.shadow.outcome),
        " ",
        d.shadow.rule_ids.map(rule),
      ),
    ),
  );
}

/** The record as a list of cards. */
export function recordView(r) {
  return [
    headCard(r),
    section("Steps", timingsTable(r.timings)),
    section("Proposals and verdicts", proposalsBlock(r)),
    r.executions.length ? executionsCard(r.executions) : null,
    r.approvals.length ? approvalsCard(r.approvals) : null,
    claimsCard(r.claim_checks),
    section("Tools", r.context.length ? toolsTable(r.context) : empty("No tools read.")),
    section("Model calls", llmTable(r.llm_calls)),
    r.shadow ? shadowCard(r.shadow) : null,
    h("details", { class: "card" }, h("summary", {}, "The full record (JSON)"), json(r)),
  ].filter(Boolean);
}
