// Arbiter console: shared helpers (vanilla ES module, no build step).
// Everything from the server reaches the page as text nodes or attribute values set
// through the DOM (never innerHTML), so nothing it sends is interpreted as markup.

/** Build an element: h("a", {href, class: "x", onclick}, "text", child, ...). */
export function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "class") node.className = value;
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

/** Persisted console settings (per browser tab). */
export const store = {
  get: (name, fallback = "") => sessionStorage.getItem(`arbiter.${name}`) ?? fallback,
  set: (name, value) => {
    if (value === null || value === undefined || value === "") {
      sessionStorage.removeItem(`arbiter.${name}`);
    } else {
      sessionStorage.setItem(`arbiter.${name}`, value);
    }
  },
};

export class ApiError extends Error {
  constructor(status, code, message, field) {
    super(message);
    this.status = status;
    this.code = code;
    this.field = field;
  }
}

function toError(status, body) {
  const e = body && body.error;
  if (e) return new ApiError(status, e.code, e.message, e.field);
  return new ApiError(status, "http_error", `HTTP ${status}`, null);
}

function headers({ key, customer, json }) {
  const out = { Accept: "application/json" };
  if (key) out.Authorization = `Bearer ${key}`;
  if (customer) out["X-Customer-Id"] = customer;
  if (json) out["Content-Type"] = "application/json";
  return out;
}

/** Call the API; resolves to the JSON body (null for 204), rejects with ApiError. */
export async function api(path, { method = "GET", body, key, customer } = {}) {
  let response;
  try {
    response = await fetch(path, {
      method,
      headers: headers({ key, customer, json: body !== undefined }),
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (err) {
    throw new ApiError(0, "network", `the server could not be reached (${err.message})`, null);
  }
  if (response.status === 204) return null;
  const data = await response.json().catch(() => null);
  if (!response.ok) throw toError(response.status, data);
  return data;
}

/** POST and read Server-Sent Events; onEvent(name, data) per event. */
export async function stream(path, { body, key, customer, onEvent }) {
  const response = await fetch(path, {
    method: "POST",
    headers: { ...headers({ key, customer, json: true }), Accept: "text/event-stream" },
    body: JSON.stringify(body),
  });
  if (!response.ok) throw toError(response.status, await response.json().catch(() => null));
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += value.replace(/\r\n/g, "\n");
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let name = "message";
      const data = [];
      for (const line of block.split("\n")) {
        if (line.startsWith("event:")) name = line.slice(6).trim();
        else if (line.startsWith("data:")) data.push(line.slice(5).trimStart());
      }
      if (data.length) onEvent(name, JSON.parse(data.join("\n")));
    }
  }
}

/** An error as a paragraph. */
export function errorBox(err) {
  const code = err && err.code ? ` (${err.code}${err.field ? `, ${err.field}` : ""})` : "";
  return h("p", { class: "error", role: "alert" }, `${err.message || err}${code}`);
}

export const badge = (text, kind = text) => h("span", { class: `badge ${kind}` }, text);
export const rule = (id) => h("span", { class: "rule" }, id);
export const short = (hash, n = 12) => (hash ? String(hash).slice(0, n) : "");
export function ms(value) {
  if (value === null || value === undefined) return "";
  return value >= 1000 ? `${(value / 1000).toFixed(2)} s` : `${Math.round(value)} ms`;
}
export const when = (iso) => (iso ? new Date(iso).toLocaleString() : "");
export const json = (value) => h("pre", { class: "json" }, JSON.stringify(value, null, 2));

/** A card with a heading. */
export const section = (title, ...children) => h("div", { class: "card" }, h("h2", {}, title), children);
export const table = (heads, rows) =>
  h("table", {}, h("thead", {}, h("tr", {}, heads.map((x) => h("th", {}, x)))), h("tbody", {}, rows));
export const row = (...cells) => h("tr", {}, cells.map((c) => h("td", {}, c)));
export const kv = (pairs) =>
  h(
    "dl",
    { class: "kv" },
    pairs.filter(([, v]) => v !== null && v !== "").map(([k, v]) => [h("dt", {}, k), h("dd", {}, v)]),
  );

/** Link to a turn in the operator's decision viewer. */
export const decisionHref = (turnId) => `operator.html#decision/${encodeURIComponent(turnId)}`;

/** Arguments as "k=v" text (compact, for one line). */
export function params(obj) {
  return Object.entries(obj || {})
    .filter(([, v]) => v !== null && v !== undefined && v !== "")
    .map(([k, v]) => `${k}=${typeof v === "object" ? JSON.stringify(v) : v}`)
    .join(" ");
}

/** Group equal entries: [[item, count], ...] in first-seen order. */
function grouped(items, keyOf) {
  const seen = new Map();
  for (const item of items) {
    const key = keyOf(item);
    const entry = seen.get(key);
    if (entry) entry[1] += 1;
    else seen.set(key, [item, 1]);
  }
  return [...seen.values()];
}

const times = (n) => (n > 1 ? ` ×${n}` : "");

/** The compact form of a DecisionSummary (TurnView.decision), shown under an answer. */
export function summaryView(decision) {
  const box = h("div", { class: "summary", "data-turn-id": decision.turn_id });
  if (decision.tools.length) {
    const tools = grouped(decision.tools, (t) => `${t.tool}|${t.status}`);
    box.append(
      h(
        "div",
        { class: "line tools" },
        h("span", { class: "label" }, "tools"),
        tools.map(([t, n]) =>
          h("span", { class: "chip" }, `${t.tool}${times(n)}${t.status === "ok" ? "" : ` (${t.status})`}`),
        ),
      ),
    );
  }
  for (const [v, n] of grouped(decision.verdicts, (v) => JSON.stringify(v))) {
    box.append(
      h(
        "div",
        { class: "line verdict" },
        h("span", { class: "label" }, "verdict"),
        h("strong", {}, v.type || v.action_id),
        badge(v.outcome),
        n > 1 ? h("span", { class: "reason", title: "the same verdict, given again (re-validation after an approval)" }, `×${n}`) : null,
        v.rule_ids.map(rule),
        v.reasons.length ? h("span", { class: "reason" }, v.reasons.join(" ")) : null,
      ),
    );
  }
  for (const e of decision.executions) {
    box.append(
      h(
        "div",
        { class: "line execution" },
        h("span", { class: "label" }, "executed"),
        h("strong", {}, e.type),
        badge(e.status),
        h("span", { class: "chip", title: "idempotency key" }, e.idempotency_key),
      ),
    );
  }
  for (const a of decision.approvals) {
    box.append(
      h(
        "div",
        { class: "line approval" },
        h("span", { class: "label" }, "approval"),
        badge(a.decision),
        a.outcome ? badge(a.outcome) : null,
        h("span", { class: "reason" }, `by ${a.decided_by || "?"}`),
      ),
    );
  }
  if (decision.error) box.append(h("div", { class: "line" }, badge("error"), decision.error));
  box.append(
    h(
      "div",
      { class: "line foot" },
      `${ms(decision.duration_ms)} · policy ${short(decision.policy_version)}`,
      decision.output_repaired ? " · answer repaired by the claim check" : "",
      " · ",
      h("a", { href: decisionHref(decision.turn_id), class: "decision-link" }, "decision ›"),
    ),
  );
  return box;
}

/** Mark the current page's link in the top bar. */
export function markNav() {
  const page = location.pathname.endsWith("operator.html") ? "operator" : "chat";
  for (const link of document.querySelectorAll(".bar nav a")) {
    if (link.dataset.page === page) link.setAttribute("aria-current", "page");
  }
}
