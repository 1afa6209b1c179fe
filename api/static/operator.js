// The operator page: the approvals queue, the decision viewer (decision.js) and the kill switch.
import {
  api,
  badge,
  decisionHref,
  errorBox,
  h,
  markNav,
  ms,
  row,
  rule,
  section,
  short,
  store,
  summaryView,
  table,
  when,
} from "./app.js";
import { factsBlock, recordView } from "./decision.js";

const $ = (id) => document.getElementById(id);
const errors = $("errors");
const enc = encodeURIComponent;

/** The operator key for everything on this page. */
function creds() {
  return { key: store.get("operator.key") };
}

/** For reading decisions: the operator key, else the chat page's (a shopper's own turns). */
function readerCreds() {
  const key = store.get("operator.key");
  if (key) return { key };
  return { key: store.get("chat.key"), customer: store.get("chat.customer") };
}

function showError(err) {
  errors.replaceChildren(errorBox(err));
}

// ---- policy -------------------------------------------------------------------

async function loadPolicy() {
  const el = $("policy");
  try {
    const state = await api("/v1/policy", creds());
    const shadow = state.shadow ? ` · shadow ${short(state.shadow.version)}` : "";
    const { name, version, rules } = state.active;
    el.textContent = `policy ${name} · ${short(version)} · ${rules} rules${shadow}`;
  } catch {
    el.textContent = "";
  }
}

// ---- approvals ----------------------------------------------------------------

function paramsTable(request) {
  const names = [
    ...new Set([...Object.keys(request.presented_params), ...Object.keys(request.proposed_params)]),
  ];
  const show = (v) =>
    v === null || v === undefined ? "—" : typeof v === "object" ? JSON.stringify(v) : String(v);
  return table(
    ["argument", "proposed by the model", "will execute"],
    names.map((name) => {
      const proposed = request.proposed_params[name];
      const presented = request.presented_params[name];
      const tr = row(h("code", {}, name), show(proposed), h("strong", {}, show(presented)));
      if (show(proposed) !== show(presented)) tr.className = "changed-param";
      return tr;
    }),
  );
}

function turnResult(turn) {
  return h(
    "div",
    { class: "result" },
    h("div", {}, badge(turn.status), " ", h("span", { class: "muted small" }, turn.turn_id)),
    h("div", { class: "text" }, turn.text),
    turn.pending_approvals.length
      ? h(
          "p",
          { class: "notice small" },
          `Shown again for approval as ${turn.pending_approvals.map((a) => a.approval_id).join(", ")}`,
          " (what was approved had moved).",
        )
      : null,
    turn.decision ? summaryView(turn.decision) : null,
  );
}

function approvalCard(a) {
  const r = a.request;
  const status = h("span", { class: "status" }, badge(a.status), a.outcome ? [" ", badge(a.outcome)] : null);
  const card = h(
    "article",
    { class: "card approval", "data-approval-id": a.approval_id },
    h("header", {}, status, h("strong", {}, a.summary)),
    h(
      "div",
      { class: "muted small" },
      h("code", {}, a.approval_id),
      ` · customer ${r.customer_id} · ${r.channel} · shown ${when(r.presented_at)}`,
      a.status === "pending" ? ` · expires ${when(r.expires_at)}` : "",
      r.presentation > 1 ? ` · presentation ${r.presentation}` : "",
      " · ",
      h("a", { href: `#session/${enc(r.session_id)}` }, "session"),
      a.status === "pending" ? null : [" · ", h("a", { href: decisionHref(r.turn_id) }, "decision ›")],
    ),
    h("h3", {}, "Why a person decides"),
    r.rule_ids.map((id, i) => h("div", { class: "hit" }, rule(id), " ", r.reasons[i] || "")),
    h("h3", {}, "Arguments"),
    paramsTable(r),
    factsBlock(r.facts),
  );
  if (a.status !== "pending") {
    card.append(
      h(
        "p",
        { class: "small muted" },
        `Decided by ${a.decided_by || "?"} ${when(a.decided_at)}`,
        a.comment ? ` — “${a.comment}”` : "",
      ),
    );
    return card;
  }
  const comment = h("input", {
    class: "comment",
    placeholder: "Comment (kept in the decision record)",
    maxlength: 1000,
    "aria-label": "Comment",
  });
  const approve = h("button", { class: "approve", type: "button" }, "Approve");
  const reject = h("button", { class: "reject", type: "button" }, "Reject");
  const out = h("div", {});
  const decide = async (verb) => {
    approve.disabled = reject.disabled = comment.disabled = true;
    const working = verb === "approve" ? "Re-validating and executing…" : "Rejecting…";
    out.replaceChildren(h("p", { class: "muted small" }, working));
    try {
      const turn = await api(`/v1/approvals/${enc(a.approval_id)}/${verb}`, {
        method: "POST",
        body: { comment: comment.value, digest: r.digest },
        ...creds(),
      });
      status.replaceChildren(badge(verb === "approve" ? "approved" : "rejected"));
      decideRow.replaceWith(
        h(
          "p",
          { class: "small muted" },
          `${verb === "approve" ? "Approved" : "Rejected"} just now`,
          comment.value ? ` — “${comment.value}”` : "",
        ),
      );
      out.replaceChildren(turnResult(turn));
      refreshCount();
    } catch (err) {
      out.replaceChildren(errorBox(err));
      approve.disabled = reject.disabled = comment.disabled = false;
    }
  };
  approve.addEventListener("click", () => decide("approve"));
  reject.addEventListener("click", () => decide("reject"));
  const decideRow = h("div", { class: "decide" }, comment, approve, reject);
  card.append(decideRow, out);
  return card;
}

async function refreshCount() {
  try {
    const pending = await api("/v1/approvals?status=pending", creds());
    const count = $("pending-count");
    count.textContent = String(pending.length);
    count.hidden = pending.length === 0;
  } catch {
    // the list shows the error
  }
}

async function loadApprovals() {
  const list = $("approval-list");
  const status = $("approval-status").value;
  try {
    const approvals = await api(`/v1/approvals?status=${enc(status)}`, creds());
    if (approvals.length) list.replaceChildren(...approvals.map(approvalCard));
    else list.replaceChildren(h("p", { class: "empty" }, `No ${status} approvals.`));
    if (status === "pending") {
      $("pending-count").textContent = String(approvals.length);
      $("pending-count").hidden = approvals.length === 0;
    }
  } catch (err) {
    list.replaceChildren(errorBox(err));
  }
}

// ---- decisions ----------------------------------------------------------------

async function showDecision(turnId) {
  const view = $("decision-view");
  $("decision-id").value = turnId;
  view.replaceChildren(h("p", { class: "muted" }, "Loading…"));
  try {
    const record = await api(`/v1/decisions/${enc(turnId)}`, readerCreds());
    view.replaceChildren(...recordView(record));
  } catch (err) {
    if (err.status === 404) err.message += " (a turn waiting for approval is recorded once it is decided)";
    view.replaceChildren(errorBox(err));
  }
}

async function showSession(sessionId) {
  const view = $("decision-view");
  $("decision-id").value = sessionId;
  view.replaceChildren(h("p", { class: "muted" }, "Loading…"));
  try {
    const path = `/v1/sessions/${enc(sessionId)}`;
    const [detail, summaries] = await Promise.all([
      api(path, readerCreds()),
      api(`${path}/decisions`, readerCreds()),
    ]);
    const said = new Map(detail.transcript.map((t) => [t.turn_id, t.user]));
    view.replaceChildren(
      section(
        `Session ${detail.session_id}`,
        h(
          "p",
          { class: "muted small" },
          `${detail.customer_id} · ${detail.channel} · started ${when(detail.created_at)}`,
          ` · ${detail.pending_approvals.length} waiting for approval`,
        ),
        summaries.length
          ? table(
              ["turn", "message", "verdicts", "executions", "time"],
              summaries.map((s) =>
                row(
                  h("a", { href: decisionHref(s.turn_id) }, h("code", {}, s.turn_id)),
                  said.get(s.turn_id) || "",
                  s.verdicts.map((v) =>
                    h("div", {}, `${v.type} `, badge(v.outcome), " ", v.rule_ids.map(rule)),
                  ),
                  s.executions.map((e) => h("div", {}, `${e.type} `, badge(e.status))),
                  ms(s.duration_ms),
                ),
              ),
            )
          : h("p", { class: "empty" }, "No recorded turns yet."),
      ),
    );
  } catch (err) {
    view.replaceChildren(errorBox(err));
  }
}

// ---- kill switch --------------------------------------------------------------

async function loadSwitches() {
  const list = $("switch-list");
  try {
    const switches = await api("/v1/kill-switch", creds());
    list.replaceChildren(
      switches.length
        ? table(
            ["scope", "reason", "set by", "since", ""],
            switches.map((s) => {
              const off = h("button", { type: "button", class: "reject" }, "Turn off");
              off.addEventListener("click", async () => {
                off.disabled = true;
                try {
                  await api(`/v1/kill-switch/${enc(s.scope)}`, { method: "DELETE", ...creds() });
                } catch (err) {
                  showError(err);
                }
                loadSwitches();
              });
              const tr = row(h("code", {}, s.scope), s.reason, s.set_by, when(s.set_at), off);
              tr.dataset.scope = s.scope;
              return tr;
            }),
          )
        : h("p", { class: "empty" }, "Nothing is switched off: every action follows the policy."),
    );
  } catch (err) {
    list.replaceChildren(errorBox(err));
  }
}

async function setSwitch(event) {
  event.preventDefault();
  errors.replaceChildren();
  try {
    await api("/v1/kill-switch", {
      method: "POST",
      body: { scope: $("switch-scope").value.trim(), reason: $("switch-reason").value.trim() },
      ...creds(),
    });
    $("switch-form").reset();
  } catch (err) {
    showError(err);
  }
  loadSwitches();
}

// ---- routing ------------------------------------------------------------------

function route() {
  errors.replaceChildren();
  let hash = "";
  try {
    hash = decodeURIComponent(location.hash.slice(1));
  } catch {
    // a malformed address shows the approvals
  }
  const [head, ...rest] = hash.split("/");
  const arg = rest.join("/");
  const tabs = { decision: "decisions", session: "decisions", decisions: "decisions", "kill-switch": "kill-switch" };
  const tab = tabs[head] || "approvals";
  for (const link of document.querySelectorAll(".tabs a")) {
    link.setAttribute("aria-selected", String(link.dataset.tab === tab));
  }
  for (const panel of document.querySelectorAll("[data-tab-panel]")) {
    panel.hidden = panel.dataset.tabPanel !== tab;
  }
  const reading = tab === "decisions";
  if (!(reading ? readerCreds() : creds()).key) {
    showError(new Error("Enter an operator or support-agent key (see api-keys.yaml in the data directory)."));
    return;
  }
  if (tab === "approvals") loadApprovals();
  else if (tab === "kill-switch") loadSwitches();
  else if (head === "decision" && arg) showDecision(arg);
  else if (head === "session" && arg) showSession(arg);
}

function init() {
  markNav();
  $("key").value = store.get("operator.key");
  $("who").addEventListener("submit", (event) => {
    event.preventDefault();
    store.set("operator.key", $("key").value.trim());
    loadPolicy();
    refreshCount();
    route();
  });
  $("approval-filter").addEventListener("submit", (event) => {
    event.preventDefault();
    loadApprovals();
  });
  $("approval-status").addEventListener("change", loadApprovals);
  $("decision-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const id = $("decision-id").value.trim();
    const target = id.startsWith("ses_") ? `#session/${enc(id)}` : `#decision/${enc(id)}`;
    if (location.hash === target) route();
    else location.hash = target;
  });
  $("switch-form").addEventListener("submit", setSwitch);
  window.addEventListener("hashchange", route);
  if (creds().key) {
    loadPolicy();
    refreshCount();
  }
  route();
}

init();
