// The chat page: a shopper (or support agent) talks to Arbiter; each answer shows how
// it was decided. Turns are streamed (one step per graph node) and end with the answer.
import { api, badge, errorBox, h, markNav, rule, store, stream, summaryView } from "./app.js";

const $ = (id) => document.getElementById(id);
const log = $("log");
const errors = $("errors");
const text = $("text");
const send = $("send");
let pollTimer = null;

function creds() {
  return { key: store.get("chat.key"), customer: store.get("chat.customer", "C1001") };
}

function currentSession() {
  try {
    const saved = JSON.parse(store.get("chat.session", "null"));
    const { customer } = creds();
    const channel = store.get("chat.channel", "shopper");
    return saved && saved.customer_id === customer && saved.channel === channel ? saved : null;
  } catch {
    return null;
  }
}

function showSession(session) {
  const line = $("session-line");
  if (!session) {
    line.replaceChildren("No conversation yet: say something to start one.");
    return;
  }
  line.replaceChildren(
    "Conversation ",
    h("code", { id: "session-id" }, session.session_id),
    ` · ${session.customer_id} · ${session.channel}`,
  );
}

function showError(err) {
  errors.replaceChildren(errorBox(err));
}

function setBusy(busy, why = "") {
  send.disabled = busy;
  text.disabled = busy;
  text.placeholder = why || "Ask about products, your cart or an order…";
}

function scrollDown() {
  window.scrollTo({ top: document.body.scrollHeight });
}

const userMessage = (words) => h("li", { class: "msg user" }, h("div", { class: "text" }, words));

function pendingBlock(approvals) {
  return approvals.map((a) =>
    h(
      "div",
      { class: "notice small pending-approval", "data-approval-id": a.approval_id },
      badge("pending"),
      " ",
      h("strong", {}, a.summary),
      " ",
      a.request.rule_ids.map(rule),
      h("div", { class: "muted" }, a.request.reasons.join(" ")),
      h("a", { href: "operator.html#approvals" }, "Open the approvals queue ›"),
    ),
  );
}

function answer(turn) {
  const pending = turn.status === "pending_approval";
  return h(
    "li",
    { class: `msg assistant${pending ? " pending" : ""}`, "data-turn-id": turn.turn_id },
    h("div", { class: "text" }, turn.text),
    pending ? pendingBlock(turn.pending_approvals) : null,
    turn.decision ? summaryView(turn.decision) : null,
  );
}

function waitForApproval(session) {
  setBusy(true, "Waiting for a person to approve…");
  clearInterval(pollTimer);
  pollTimer = setInterval(async () => {
    try {
      const detail = await api(`/v1/sessions/${encodeURIComponent(session.session_id)}`, creds());
      if (!detail.pending_approvals.length) {
        clearInterval(pollTimer);
        await loadSession(session);
      }
    } catch (err) {
      clearInterval(pollTimer);
      showError(err);
      setBusy(false);
    }
  }, 2000);
}

/** Render a stored conversation: transcript, decision summaries, what it waits for. */
async function loadSession(session) {
  const path = `/v1/sessions/${encodeURIComponent(session.session_id)}`;
  const [detail, summaries] = await Promise.all([
    api(path, creds()),
    api(`${path}/decisions`, creds()),
  ]);
  const byTurn = new Map(summaries.map((s) => [s.turn_id, s]));
  log.replaceChildren();
  for (const entry of detail.transcript) {
    log.append(userMessage(entry.user));
    log.append(
      answer({
        turn_id: entry.turn_id,
        status: "answered",
        text: entry.assistant,
        decision: byTurn.get(entry.turn_id) || null,
        pending_approvals: [],
      }),
    );
  }
  if (detail.pending_approvals.length) {
    const first = detail.pending_approvals[0];
    log.append(
      answer({
        turn_id: first.request.turn_id,
        status: "pending_approval",
        text: "Waiting for approval; nothing has been done yet.",
        decision: null,
        pending_approvals: detail.pending_approvals,
      }),
    );
    waitForApproval(session);
  } else {
    setBusy(false);
  }
  scrollDown();
}

async function ensureSession() {
  const existing = currentSession();
  if (existing) return existing;
  const { key, customer } = creds();
  const channel = store.get("chat.channel", "shopper");
  const session = await api("/v1/sessions", {
    method: "POST",
    body: { customer_id: customer, channel },
    key,
    customer,
  });
  store.set("chat.session", JSON.stringify(session));
  showSession(session);
  return session;
}

function stepLabel(step) {
  const tools = (step.detail.tools || []).map((t) => t.tool);
  const verdicts = (step.detail.verdicts || []).map((v) => `${v.type}: ${v.outcome}`);
  const executions = (step.detail.executions || []).map((e) => `${e.type}: ${e.status}`);
  const extra = [...new Set([...tools, ...verdicts, ...executions])];
  return extra.length ? `${step.node} · ${extra.join(", ")}` : step.node;
}

async function say(words) {
  syncSettings();
  errors.replaceChildren();
  if (!creds().key) {
    showError(new Error("Enter an API key first (see api-keys.yaml in the data directory)."));
    return;
  }
  setBusy(true, "Working…");
  try {
    const session = await ensureSession();
    log.append(userMessage(words));
    const steps = h("div", { class: "steps" });
    const progress = h("li", { class: "msg progress" }, "Deciding…", steps);
    log.append(progress);
    scrollDown();
    let turn = null;
    await stream(`/v1/sessions/${encodeURIComponent(session.session_id)}/messages/stream`, {
      body: { text: words },
      ...creds(),
      onEvent(name, data) {
        if (name === "step") steps.append(h("span", {}, stepLabel(data)));
        else if (name === "turn") turn = data;
        else if (name === "error") throw Object.assign(new Error(data.error.message), data.error);
      },
    }).finally(() => progress.remove());
    if (!turn) throw new Error("the turn ended without an answer");
    log.append(answer(turn));
    scrollDown();
    if (turn.status === "pending_approval") waitForApproval(session);
    else setBusy(false);
  } catch (err) {
    showError(err);
    setBusy(false);
  }
  text.focus();
}

/** Remember the settings; another customer or channel starts another conversation. */
function syncSettings() {
  const before = currentSession();
  store.set("chat.key", $("key").value.trim());
  store.set("chat.customer", $("customer").value.trim());
  store.set("chat.channel", $("channel").value);
  if (before && !currentSession()) newConversation();
}

function newConversation() {
  clearInterval(pollTimer);
  store.set("chat.session", null);
  log.replaceChildren();
  errors.replaceChildren();
  showSession(null);
  setBusy(false);
}

function init() {
  markNav();
  $("key").value = store.get("chat.key");
  $("customer").value = store.get("chat.customer", "C1001");
  $("channel").value = store.get("chat.channel", "shopper");
  for (const id of ["key", "customer", "channel"]) $(id).addEventListener("change", syncSettings);
  $("new-session").addEventListener("click", newConversation);
  $("say").addEventListener("submit", (event) => {
    event.preventDefault();
    const words = text.value.trim();
    if (!words) return;
    text.value = "";
    say(words);
  });
  const session = currentSession();
  showSession(session);
  if (session && creds().key) loadSession(session).catch(showError);
}

init();
