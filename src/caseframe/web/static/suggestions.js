// The review queue (/suggestions): units with pending machine suggestions, most useful first,
// each suggestion with its reasons; accept or reject by keyboard (a / r, j k or arrows to move).
// Text from the store is only ever put into the page as text, never as HTML. Offsets are
// Unicode code points (the store's convention), so strings are cut with Array.from.

const csrf = () => document.querySelector('meta[name="csrf-token"]')?.content || "";
const queue = document.getElementById("queue");
const state = document.getElementById("queue-state");
const canReview = queue?.dataset.canReview === "yes";
let focusId = null; // the suggestion the keys act on
let busy = false;

async function api(method, url, body) {
  const init = { method, headers: { "X-CSRF-Token": csrf(), Accept: "application/json" } };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const res = await fetch(url, init);
  if (res.status === 401) {
    location.href = "/login?expired=1&next=" + encodeURIComponent(location.pathname);
    throw new Error("signed out");
  }
  const data = await res.json().catch(() => null);
  if (!res.ok) throw new Error((data && data.error) || `request failed (${res.status})`);
  return data;
}

function flash(message, kind = "error") {
  const box = document.getElementById("flash");
  if (!box) return;
  box.textContent = message;
  box.className = "flash " + kind;
  box.hidden = false;
  clearTimeout(flash.timer);
  flash.timer = setTimeout(() => (box.hidden = true), kind === "error" ? 12000 : 4000);
}

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === "class") node.className = v;
    else if (k === "dataset") Object.assign(node.dataset, v);
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v);
  }
  for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return node;
}

// The unit's text with the phrases that drove its suggestions marked.
function passage(unit) {
  const cps = Array.from(unit.text);
  const spans = [];
  for (const s of unit.suggestions) for (const p of s.phrases || []) spans.push([p.start, p.end]);
  spans.sort((a, b) => a[0] - b[0]);
  const quote = el("blockquote", { class: "passage" });
  let at = 0;
  for (const [start, end] of spans) {
    if (start < at || end > cps.length) continue; // overlapping or stale: leave unmarked
    quote.append(cps.slice(at, start).join(""), el("mark", {}, cps.slice(start, end).join("")));
    at = end;
  }
  quote.append(cps.slice(at).join(""));
  return quote;
}

function suggestionItem(s) {
  const head = el("div", { class: "sug-head" },
    el("span", { class: "code" }, s.code),
    el("span", { class: "score" }, s.score == null ? "" : `score ${s.score.toFixed(2)}`));
  if (canReview) {
    head.append(el("span", { class: "actions" },
      el("button", { type: "button", class: "accept", onclick: () => decide(s.id, true) }, "Accept"),
      el("button", { type: "button", class: "reject", onclick: () => decide(s.id, false) }, "Reject")));
  }
  const item = el("li", {
    class: "suggestion", tabindex: "-1", dataset: { id: String(s.id) },
    "aria-label": `${s.code}, suggested by ${s.method}`,
  }, head);
  item.addEventListener("focus", () => (focusId = s.id));
  item.append(el("p", { class: "reason reliability" }, s.reliability || ""));
  if (s.phrases?.length) {
    item.append(el("p", { class: "reason phrases" },
      "Because of: " + s.phrases.map((p) => `“${p.text}”`).join(", ")));
  }
  if (s.similar?.length) {
    const box = el("div", { class: "similar" }, el("span", {}, "Coded alike by people:"));
    for (const p of s.similar) {
      box.append(el("blockquote", {}, `${p.text.trim().slice(0, 300)} `,
        el("span", { class: "note" }, `(${p.document})`)));
    }
    item.append(box);
  }
  const made = [s.model, s.prompt_version, s.seconds == null ? null : `${s.seconds}s`].filter(Boolean);
  if (s.model && s.model !== s.method) item.append(el("p", { class: "reason" }, `Model: ${made.join(", ")}`));
  return item;
}

function unitItem(unit) {
  const where = el("p", { class: "where" },
    el("a", { href: `/documents/${unit.document_id}` }, unit.document),
    ` · characters ${unit.start}–${unit.end}`);
  return el("li", { class: "unit", dataset: { unit: String(unit.unit_id ?? "") } },
    where, passage(unit),
    el("ul", { class: "queue-suggestions" }, ...unit.suggestions.map(suggestionItem)));
}

function describe(data) {
  const m = data.model || {};
  if (!data.pending) return "Nothing to review: no pending suggestions.";
  let order = m.order || "";
  if (m.state === "ready" && m.last_refit_seconds != null) order += `; last refit ${m.last_refit_seconds} s`;
  if (m.state === "ready") order += `; refits after every ${m.k} decisions`;
  if (m.state === "unavailable") order = `stored scores (${m.error})`;
  return `${data.pending} pending suggestions; showing ${data.units.length} units. Order: ${order}.`;
}

async function load(keepFocus = true) {
  const data = await api("GET", "/api/suggestions/queue?limit=100");
  const wanted = keepFocus ? focusId : null;
  queue.replaceChildren(...data.units.map(unitItem));
  state.textContent = describe(data);
  const items = [...queue.querySelectorAll("li.suggestion")];
  const target = items.find((i) => Number(i.dataset.id) === wanted) || items[0];
  if (target && canReview) {
    focusId = Number(target.dataset.id);
    target.focus({ preventScroll: false });
  }
  if (data.model?.state === "fitting") setTimeout(() => load().catch((e) => flash(e.message)), 3000);
}

async function decide(id, accept) {
  if (busy || !canReview) return;
  busy = true;
  const items = [...queue.querySelectorAll("li.suggestion")];
  const at = items.findIndex((i) => Number(i.dataset.id) === id);
  const next = items[at + 1] || items[at - 1];
  try {
    await api("POST", "/api/suggestions/review", accept ? { accept: [id] } : { reject: [id] });
    flash(accept ? "Accepted: now your coding." : "Rejected.", "ok");
    focusId = next ? Number(next.dataset.id) : null;
    await load();
  } catch (err) {
    flash(err.message);
  } finally {
    busy = false;
  }
}

function move(step) {
  const items = [...queue.querySelectorAll("li.suggestion")];
  if (!items.length) return;
  const at = items.findIndex((i) => Number(i.dataset.id) === focusId);
  const target = items[Math.min(items.length - 1, Math.max(0, at + step))];
  focusId = Number(target.dataset.id);
  target.focus();
}

document.addEventListener("keydown", (e) => {
  if (e.ctrlKey || e.metaKey || e.altKey || e.target.closest("input, textarea, select")) return;
  const key = e.key;
  if (key === "j" || key === "ArrowDown") move(1);
  else if (key === "k" || key === "ArrowUp") move(-1);
  else if ((key === "a" || key === "r") && focusId != null) decide(focusId, key === "a");
  else return;
  e.preventDefault();
});

if (queue) load(false).catch((err) => flash(err.message));
