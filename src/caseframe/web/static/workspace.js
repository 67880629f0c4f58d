// caseframe workspace: text selection and coding, code-tree edits, users, imports.
// Plain ES module, no dependencies. Document text is only ever put into the page as text
// (textContent), never as HTML, so a transcript containing markup is shown, not run.
// Offsets are Unicode code points (the store's convention), not JavaScript's UTF-16 units.

const csrf = () => document.querySelector('meta[name="csrf-token"]')?.content || "";

async function api(method, url, body) {
  const init = { method, headers: { "X-CSRF-Token": csrf(), Accept: "application/json" } };
  if (body instanceof FormData) init.body = body;
  else if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const res = await fetch(url, init);
  if (res.status === 401) {
    location.href = "/login?expired=1&next=" + encodeURIComponent(location.pathname);
    throw new Error("signed out");
  }
  const data = res.status === 204 ? null : await res.json().catch(() => null);
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

const me = () => document.getElementById("who")?.dataset || {};
const PALETTE = ["#f4c542", "#6cc3e0", "#f28e8e", "#8fd18b", "#c49be8", "#f5a25d", "#7fd6c2", "#e59acb"];

// -- the transcript workspace --------------------------------------------------------------------

const ws = {
  doc: null, cps: [], codings: [], coders: [], codes: [], hidden: new Set(),
  pending: null, focus: null, editing: null,
  suggestions: [], showSuggestions: true, sugFocus: null,
};

function coderColour(name) {
  const i = ws.coders.indexOf(name);
  return PALETTE[(i < 0 ? 0 : i) % PALETTE.length];
}

function visibleCodings() {
  return ws.codings.filter((c) => !ws.hidden.has(c.coder));
}

function blocks() {
  // Speaker turns, plus the stretches between them, cover the whole text.
  const out = [];
  let at = 0;
  for (const t of [...ws.doc.turns].sort((a, b) => a.start - b.start)) {
    if (t.start > at) out.push({ start: at, end: t.start, speaker: null });
    if (t.end > Math.max(at, t.start)) out.push({ start: Math.max(at, t.start), end: t.end, speaker: t.speaker });
    at = Math.max(at, t.end);
  }
  if (at < ws.cps.length) out.push({ start: at, end: ws.cps.length, speaker: null });
  return out;
}

function visibleSuggestions() {
  return ws.showSuggestions ? ws.suggestions : [];
}

function renderTranscript() {
  const root = document.getElementById("transcript");
  const shown = visibleCodings();
  const sugs = visibleSuggestions();
  const cuts = new Set();
  for (const c of [...shown, ...sugs]) { cuts.add(c.start); cuts.add(c.end); }
  const frag = document.createDocumentFragment();
  for (const b of blocks()) {
    const points = [b.start, ...[...cuts].filter((x) => x > b.start && x < b.end).sort((x, y) => x - y), b.end];
    const text = el("div", { class: "turn-text" });
    for (let i = 0; i + 1 < points.length; i++) {
      const s = points[i], e = points[i + 1];
      const seg = el("span", { class: "seg", dataset: { s, e } }, ws.cps.slice(s, e).join(""));
      const over = shown.filter((c) => c.start <= s && c.end >= e);
      const suggested = sugs.filter((c) => c.start <= s && c.end >= e);
      const titles = [];
      if (suggested.length) {
        // machine suggestions: a dashed outline, never a coder's colour
        seg.classList.add("sug");
        seg.dataset.suggestions = suggested.map((c) => c.id).join(" ");
        titles.push(...suggested.map((c) => `suggested: ${c.code} (${fmtScore(c.score)})`));
      }
      if (over.length) {
        const colours = [...new Set(over.map((c) => coderColour(c.coder)))];
        seg.classList.add("hl");
        seg.dataset.codings = over.map((c) => c.id).join(" ");
        titles.unshift(...over.map((c) => `${c.code} (${c.coder})`));
        seg.style.backgroundColor = colours[0] + "88";
        if (colours.length > 1) {
          const stops = colours.map((col, k) => `${col}88 ${(k * 100) / colours.length}% ${((k + 1) * 100) / colours.length}%`);
          seg.style.backgroundImage = `linear-gradient(180deg, ${stops.join(", ")})`;
        }
      }
      if (titles.length) seg.title = titles.join("\n");
      text.append(seg);
    }
    const turn = el("div", { class: b.speaker ? "turn" : "turn plain" });
    if (b.speaker) turn.append(el("span", { class: "speaker" }, b.speaker));
    turn.append(text);
    frag.append(turn);
  }
  root.replaceChildren(frag);
}

function renderCoders() {
  const box = document.getElementById("coders");
  box.replaceChildren(
    ...ws.coders.map((name) => {
      const input = el("input", { type: "checkbox", dataset: { coder: name } });
      input.checked = !ws.hidden.has(name);
      input.addEventListener("change", () => {
        if (input.checked) ws.hidden.delete(name); else ws.hidden.add(name);
        renderAll();
      });
      const swatch = el("span", { class: "swatch" });
      swatch.style.backgroundColor = coderColour(name);
      return el("label", { class: "coder-toggle" }, input, swatch, name);
    }),
  );
}

function renderCodingList() {
  const list = document.getElementById("codings");
  let shown = visibleCodings().sort((a, b) => a.start - b.start || a.id - b.id);
  if (ws.focus) shown = shown.filter((c) => ws.focus.includes(c.id));
  const items = shown.map((c) => {
    const quote = ws.cps.slice(c.start, c.end).join("");
    const li = el("li", { dataset: { coding: c.id } },
      el("span", { class: "quote" }, quote.length > 160 ? quote.slice(0, 160) + "…" : quote),
      el("span", { class: "meta" }, `${c.code_path || c.code} · ${c.coder}${c.valence ? " · " + c.valence : ""}`));
    if (c.memo) li.append(el("span", { class: "memo" }, c.memo));
    if (c.mine && me().role !== "viewer") {
      li.append(el("span", { class: "actions" },
        el("button", { type: "button", class: "edit", onclick: () => openEditor(c) }, "Edit"),
        el("button", { type: "button", class: "delete", onclick: () => removeCoding(c) }, "Delete")));
    }
    return li;
  });
  if (ws.focus) items.unshift(el("li", { class: "note" }, el("a", { href: "#", onclick: (e) => { e.preventDefault(); ws.focus = null; renderCodingList(); } }, "Show all codings")));
  list.replaceChildren(...items);
}

function fmtScore(score) {
  return score === null || score === undefined ? "no score" : Number(score).toFixed(2);
}

function renderSuggestionList() {
  const box = document.getElementById("suggestions-box");
  const list = document.getElementById("suggestions");
  if (!box || !list) return;
  box.hidden = ws.suggestions.length === 0;
  let shown = ws.suggestions;
  if (ws.sugFocus) shown = shown.filter((c) => ws.sugFocus.includes(c.id));
  const canReview = ["coder", "owner"].includes(me().role);
  const items = shown.map((c) => {
    const li = el("li", { class: "suggestion", dataset: { suggestion: c.id } },
      el("span", { class: "meta" }, el("b", {}, c.code), ` · score ${fmtScore(c.score)} · ${c.method}`),
      el("span", { class: "quote" }, c.snippet));
    if (canReview) {
      li.append(el("span", { class: "actions" },
        el("button", { type: "button", class: "accept", onclick: () => reviewSuggestion(c, true) }, "Accept"),
        el("button", { type: "button", class: "reject", onclick: () => reviewSuggestion(c, false) }, "Reject")));
    }
    return li;
  });
  if (ws.sugFocus) items.unshift(el("li", { class: "note" }, el("a", { href: "#", onclick: (e) => { e.preventDefault(); ws.sugFocus = null; renderSuggestionList(); } }, "Show all suggestions")));
  list.replaceChildren(...items);
}

async function loadSuggestions() {
  const data = await api("GET", `/api/documents/${ws.doc.id}/suggestions`);
  ws.suggestions = data.suggestions;
  const ids = new Set(ws.suggestions.map((c) => c.id));
  if (ws.sugFocus) ws.sugFocus = ws.sugFocus.filter((id) => ids.has(id));
  if (ws.sugFocus && !ws.sugFocus.length) ws.sugFocus = null;
}

async function reviewSuggestion(c, accept) {
  try {
    await api("POST", "/api/suggestions/review", accept ? { accept: [c.id] } : { reject: [c.id] });
    await Promise.all([loadCodings(), loadSuggestions()]);
    renderAll();
    flash(accept ? `Accepted: ${c.code} is now your coding.` : `Rejected: ${c.code}.`, "ok");
  } catch (err) {
    flash(err.message);
  }
}

function renderAll() {
  renderCoders();
  renderTranscript();
  renderCodingList();
  renderSuggestionList();
}

async function loadCodings() {
  const data = await api("GET", `/api/documents/${ws.doc.id}/codings`);
  ws.codings = data.codings;
  ws.coders = data.coders;
}

function selectionOffsets() {
  const sel = window.getSelection();
  if (!sel || sel.rangeCount === 0 || sel.isCollapsed) return null;
  const range = sel.getRangeAt(0);
  const root = document.getElementById("transcript");
  if (!root.contains(range.commonAncestorContainer)) return null;
  const segs = [...root.querySelectorAll("span.seg")].filter((s) => range.intersectsNode(s));
  if (!segs.length) return null;
  const first = segs[0], last = segs[segs.length - 1];
  const points = (node, off) => Array.from((node.data || "").slice(0, off)).length;
  let start = +first.dataset.s, end = +last.dataset.e;
  if (first.contains(range.startContainer) && range.startContainer.nodeType === 3) start += points(range.startContainer, range.startOffset);
  if (last.contains(range.endContainer) && range.endContainer.nodeType === 3) end = +last.dataset.s + points(range.endContainer, range.endOffset);
  while (start < end && /\s/u.test(ws.cps[start])) start++;
  while (end > start && /\s/u.test(ws.cps[end - 1])) end--;
  return end > start ? { start, end } : null;
}

function pickerItems(filter) {
  const words = filter.toLowerCase().split(/\s+/).filter(Boolean);
  return ws.codes.filter((c) => words.every((w) => c.path.toLowerCase().includes(w)));
}

function renderPicker() {
  const list = document.getElementById("picker-list");
  const items = pickerItems(document.getElementById("picker-filter").value);
  ws.pickIndex = Math.min(ws.pickIndex || 0, Math.max(items.length - 1, 0));
  list.replaceChildren(...items.map((c, i) => {
    const li = el("li", { role: "option", dataset: { code: c.id }, class: i === ws.pickIndex ? "active" : "" },
      el("span", { class: "name" }, c.name), el("span", { class: "path" }, c.path));
    li.addEventListener("click", () => { ws.pickIndex = i; renderPicker(); });
    li.addEventListener("dblclick", () => { ws.pickIndex = i; applyPicked(); });
    return li;
  }));
  list.querySelector(".active")?.scrollIntoView({ block: "nearest" });
  ws.pickItems = items;
}

function openPicker() {
  if (me().role === "viewer") return;
  const range = selectionOffsets();
  if (!range) { flash("Select a passage of the transcript first."); return; }
  ws.pending = range;
  const dlg = document.getElementById("picker");
  document.getElementById("picker-quote").textContent = ws.cps.slice(range.start, range.end).join("");
  document.getElementById("picker-filter").value = "";
  document.getElementById("picker-memo").value = "";
  document.getElementById("picker-valence").value = "";
  ws.pickIndex = 0;
  renderPicker();
  dlg.showModal();
  document.getElementById("picker-filter").focus();
}

async function applyPicked() {
  const code = ws.pickItems?.[ws.pickIndex];
  if (!code || !ws.pending) { flash("Choose a code."); return; }
  const body = {
    document_id: ws.doc.id, start: ws.pending.start, end: ws.pending.end, code_id: code.id,
    valence: document.getElementById("picker-valence").value || null,
    memo: document.getElementById("picker-memo").value || null,
  };
  try {
    await api("POST", "/api/codings", body);
    document.getElementById("picker").close();
    window.getSelection()?.removeAllRanges();
    await loadCodings();
    renderAll();
    flash(`Coded with ${code.name}.`, "ok");
  } catch (err) {
    flash(err.message);
  }
}

function openEditor(coding) {
  ws.editing = coding;
  document.getElementById("editor-quote").textContent = ws.cps.slice(coding.start, coding.end).join("");
  const select = document.getElementById("editor-code");
  select.replaceChildren(...ws.codes.map((c) => el("option", { value: c.id }, c.path)));
  select.value = String(coding.code_id);
  document.getElementById("editor-valence").value = coding.valence || "";
  document.getElementById("editor-memo").value = coding.memo || "";
  document.getElementById("editor").showModal();
}

async function saveEditor() {
  const c = ws.editing;
  try {
    await api("PATCH", `/api/codings/${c.id}`, {
      code_id: +document.getElementById("editor-code").value,
      valence: document.getElementById("editor-valence").value || null,
      memo: document.getElementById("editor-memo").value || null,
    });
    document.getElementById("editor").close();
    await loadCodings();
    renderAll();
    flash("Coding saved.", "ok");
  } catch (err) {
    flash(err.message);
  }
}

async function removeCoding(c) {
  if (!confirm(`Delete this coding (${c.code})?`)) return;
  try {
    await api("DELETE", `/api/codings/${c.id}`);
    await loadCodings();
    renderAll();
  } catch (err) {
    flash(err.message);
  }
}

async function initDocument() {
  const id = document.body.dataset.document;
  const [doc, codes] = await Promise.all([api("GET", `/api/documents/${id}`), api("GET", "/api/codes")]);
  ws.doc = doc;
  ws.cps = Array.from(doc.text);
  ws.codes = codes;
  const cases = doc.case_attributes.map((c) => {
    const attrs = Object.entries(c).filter(([k, v]) => v !== null && !["key", "label", "kind", "parent", "path", "depth"].includes(k));
    return `${c.key} (${c.kind})` + (attrs.length ? ": " + attrs.map(([k, v]) => `${k} ${v}`).join(", ") : "");
  });
  document.getElementById("doc-cases").textContent = cases.join(" · ");
  await Promise.all([loadCodings(), loadSuggestions()]);
  renderAll();
  document.body.dataset.ready = "1";

  document.getElementById("show-suggestions")?.addEventListener("change", (e) => {
    ws.showSuggestions = e.target.checked;
    renderTranscript();
  });

  document.getElementById("open-picker")?.addEventListener("mousedown", (e) => e.preventDefault());
  document.getElementById("open-picker")?.addEventListener("click", openPicker);
  document.addEventListener("keydown", (e) => {
    if (e.target.closest("input, textarea, select, dialog")) return;
    if (e.key === "c" && !e.ctrlKey && !e.metaKey && !e.altKey) { e.preventDefault(); openPicker(); }
  });
  const filter = document.getElementById("picker-filter");
  filter?.addEventListener("input", () => { ws.pickIndex = 0; renderPicker(); });
  filter?.addEventListener("keydown", (e) => {
    if (e.key === "ArrowDown") { ws.pickIndex++; renderPicker(); e.preventDefault(); }
    else if (e.key === "ArrowUp") { ws.pickIndex = Math.max(0, ws.pickIndex - 1); renderPicker(); e.preventDefault(); }
    else if (e.key === "Enter") { e.preventDefault(); applyPicked(); }
  });
  document.getElementById("picker-apply")?.addEventListener("click", applyPicked);
  document.getElementById("picker-cancel")?.addEventListener("click", () => document.getElementById("picker").close());
  document.getElementById("editor-save").addEventListener("click", saveEditor);
  document.getElementById("editor-cancel").addEventListener("click", () => document.getElementById("editor").close());
  document.getElementById("transcript").addEventListener("click", (e) => {
    const seg = e.target.closest("span.hl, span.sug");
    if (!seg || !window.getSelection().isCollapsed) return;
    const ids = (key) => (seg.dataset[key] ? seg.dataset[key].split(" ").map(Number) : null);
    ws.focus = ids("codings");
    ws.sugFocus = ids("suggestions");
    renderCodingList();
    renderSuggestionList();
  });
  // Others code the same document at the same time: pick up their codings now and then.
  setInterval(async () => {
    if (document.querySelector("dialog[open]") || !window.getSelection().isCollapsed) return;
    try { await Promise.all([loadCodings(), loadSuggestions()]); renderAll(); } catch { /* shown on the next action */ }
  }, 15000);
}

// -- code tree (owners) ---------------------------------------------------------------------------

function initCodes() {
  const form = document.getElementById("add-code");
  if (!form) return;
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const f = new FormData(form);
    try {
      await api("POST", "/api/codes", {
        name: f.get("name"), parent_id: f.get("parent_id") ? +f.get("parent_id") : null, kind: f.get("kind") || null,
      });
      location.reload();
    } catch (err) { flash(err.message); }
  });
  const dlg = document.getElementById("code-edit");
  let action = null, row = null;
  document.getElementById("code-tree").addEventListener("click", (e) => {
    const button = e.target.closest("button[data-action]");
    if (!button) return;
    action = button.dataset.action;
    row = button.closest("tr");
    document.getElementById("code-edit-title").textContent = `${action[0].toUpperCase() + action.slice(1)} '${row.dataset.name}'`;
    document.getElementById("code-edit-name-label").hidden = action !== "rename";
    document.getElementById("code-edit-target-label").hidden = action === "rename";
    document.getElementById("code-edit-name").value = row.dataset.name;
    dlg.showModal();
  });
  document.getElementById("code-edit-cancel").addEventListener("click", () => dlg.close());
  document.getElementById("code-edit-save").addEventListener("click", async () => {
    const id = row.dataset.code, version = +row.dataset.version;
    const target = document.getElementById("code-edit-target").value;
    const body = action === "rename" ? { name: document.getElementById("code-edit-name").value, version }
      : action === "move" ? { parent_id: target ? +target : null, version }
        : { into_id: +target, version };
    try {
      await api("POST", `/api/codes/${id}/${action}`, body);
      location.reload();
    } catch (err) { dlg.close(); flash(err.message); }
  });
}

// -- users and import (owners) --------------------------------------------------------------------

function initUsers() {
  const form = document.getElementById("add-user");
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const f = new FormData(form);
    try {
      await api("POST", "/api/users", { name: f.get("name"), password: f.get("password"), role: f.get("role") });
      location.reload();
    } catch (err) { flash(err.message); }
  });
  for (const select of document.querySelectorAll("select.role")) {
    select.addEventListener("change", async () => {
      try {
        await api("PATCH", `/api/users/${encodeURIComponent(select.dataset.user)}`, { role: select.value === "none" ? null : select.value });
        flash(`Role of ${select.dataset.user} is now ${select.value}.`, "ok");
      } catch (err) { flash(err.message); }
    });
  }
}

function initImport() {
  const form = document.getElementById("import-form");
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    try {
      const data = await api("POST", "/api/import", new FormData(form));
      document.getElementById("import-results").replaceChildren(...data.results.map((r) =>
        el("li", { class: r.error ? "error" : "" }, r.error ? `${r.path}: ${r.error}` : `${r.path} → ${r.document} (${r.words} words, ${r.turns} turns)`)));
    } catch (err) { flash(err.message); }
  });
}

// -- site profiles: the stand-alone profile page in a frame, as tall as its content ------------

function initProfiles() {
  const frame = document.getElementById("profile-frame");
  if (!frame) return;
  const fit = () => {
    const doc = frame.contentDocument;
    if (doc?.documentElement) frame.style.height = doc.documentElement.scrollHeight + 24 + "px";
  };
  frame.addEventListener("load", fit);
  if (frame.contentDocument?.readyState === "complete") fit();
}

const pages = { document: initDocument, codes: initCodes, users: initUsers, import: initImport, profiles: initProfiles };
const init = pages[document.body.dataset.page];
if (init) Promise.resolve().then(init).catch((err) => flash(err.message));
