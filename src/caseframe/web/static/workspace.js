// caseframe workspace: the page scripts (code tree, users, imports, profiles, framework, search,
// overview) and what every page has: the keyboard-shortcut overlay (?). The transcript
// workspace is its own module (document.js), loaded on document pages only. Plain ES modules,
// no dependencies; text from the store goes into the page as text only, never as HTML.

import { api, el, flash, typing } from "./common.js";

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

// -- a framework's components as codes (owners) ---------------------------------------------------

function initFramework() {
  const button = document.getElementById("add-framework-codes");
  if (!button) return;
  button.addEventListener("click", async () => {
    button.disabled = true;
    try {
      const data = await api("POST", `/api/frameworks/${encodeURIComponent(document.body.dataset.framework)}/codes`);
      flash(`Added ${data.added} codes to the code tree.`, "ok");
      setTimeout(() => location.reload(), 800);
    } catch (err) {
      button.disabled = false;
      flash(err.message);
    }
  });
}

// -- search: code every hit (owners) -------------------------------------------------------------

function initSearch() {
  const form = document.getElementById("code-hits");
  if (!form) return;
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const f = new FormData(form);
    const select = form.querySelector("select[name=code_id]");
    const name = select.options[select.selectedIndex]?.textContent || "";
    try {
      const done = await api("POST", "/api/search/code", {
        query: form.dataset.query, code_id: +f.get("code_id"), unit: f.get("unit"),
      });
      const skipped = done.skipped ? ` (${done.skipped} already coded)` : "";
      flash(`Coded ${done.created.length} ${done.unit === "turn" ? "turns" : "hits"} with ${name}${skipped}.`, "ok");
      form.dataset.done = String(done.created.length);
    } catch (err) { flash(err.message); }
  });
}

// -- overview: a select filters at once -----------------------------------------------------------

function initOverview() {
  for (const select of document.querySelectorAll("select[data-autosubmit]")) {
    select.addEventListener("change", () => select.form.requestSubmit());
  }
}

// -- every page: ? lists the shortcuts, / goes to the page's search or filter ---------------------

function initKeys() {
  const help = document.getElementById("help");
  const page = document.body.dataset.page;
  if (help) help.querySelector(".doc-keys").hidden = page !== "document";
  document.getElementById("help-open")?.addEventListener("click", () => help?.showModal());
  document.addEventListener("keydown", (e) => {
    if (typing(e) || e.ctrlKey || e.metaKey || e.altKey || document.querySelector("dialog[open]")) return;
    if (e.key === "?" && help) { e.preventDefault(); help.showModal(); return; }
    if (e.key === "/" && page !== "document") {
      const box = document.querySelector("main input[type=search], main input[name=q]");
      if (box) { e.preventDefault(); box.focus(); box.select(); }
    }
  });
}

const pages = {
  document: () => import("./document.js").then((m) => m.initDocument()),
  codes: initCodes, users: initUsers, import: initImport, profiles: initProfiles,
  framework: initFramework, search: initSearch, overview: initOverview,
};
initKeys();
const init = pages[document.body.dataset.page];
if (init) Promise.resolve().then(init).catch((err) => flash(err.message));
