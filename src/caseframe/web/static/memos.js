// caseframe: memos beside the transcript, on the document and on the selected coding's code.
// Adding and deleting one's own memo is undoable (the History of document.js).

import { api, el, flash, me } from "./common.js";

const $ = (id) => document.getElementById(id);

export class Memos {
  constructor(docId, history, canCode) {
    this.docId = docId;
    this.history = history;
    this.canCode = canCode;
    this.code = null; // {id, name} of the code whose memos are shown
  }

  item(m) {
    const li = el("li", { dataset: { memo: m.id } },
      m.title ? el("b", {}, m.title) : null,
      el("span", { class: "memo-text" }, m.text),
      el("span", { class: "meta" }, m.author || ""));
    if (this.canCode() && m.author === me().user) {
      li.append(el("span", { class: "actions" },
        el("button", { type: "button", class: "delete-memo", onclick: () => this.remove(m) }, "Delete")));
    }
    return li;
  }

  async load() {
    const docs = await api("GET", `/api/memos?target_type=document&target_id=${this.docId}`);
    $("doc-memos").replaceChildren(...(docs.length ? docs.map((m) => this.item(m)) : [el("li", { class: "note" }, "No memo yet.")]));
    if (this.code) {
      const codes = await api("GET", `/api/memos?target_type=code&target_id=${this.code.id}`);
      $("code-memo-list").replaceChildren(...(codes.length ? codes.map((m) => this.item(m)) : [el("li", { class: "note" }, "No memo on this code yet.")]));
    }
  }

  showCode(codeId, name) {
    this.code = { id: codeId, name };
    $("code-memos").hidden = false;
    $("code-memos-title").textContent = `On the code ${name}`;
    this.load().catch((err) => flash(err.message));
  }

  async add(targetType, targetId, textarea, label) {
    const text = textarea.value.trim();
    if (!text) { flash("Write the memo first."); textarea.focus(); return; }
    const body = { target_type: targetType, target_id: targetId, text };
    try {
      const memo = await api("POST", "/api/memos", body);
      textarea.value = "";
      const ref = this.history.ref(`memo-${memo.id}`);
      ref.memo = memo.id;
      this.history.push({
        label: `memo on ${label}`,
        undo: async () => { await api("DELETE", `/api/memos/${ref.memo}`); },
        redo: async () => { ref.memo = (await api("POST", "/api/memos", body)).id; },
      });
      await this.load();
      flash("Memo saved.", "ok");
    } catch (err) {
      flash(err.message);
    }
  }

  async remove(m) {
    const body = { target_type: m.target_type, target_id: m.target_id, text: m.text, title: m.title || null };
    try {
      const ref = this.history.ref(`memo-${m.id}`);
      ref.memo = ref.memo || m.id;
      await api("DELETE", `/api/memos/${ref.memo}`);
      this.history.push({
        label: "deletion of a memo",
        undo: async () => { ref.memo = (await api("POST", "/api/memos", body)).id; },
        redo: async () => { await api("DELETE", `/api/memos/${ref.memo}`); },
      });
      await this.load();
      flash("Memo deleted; Ctrl+Z brings it back.", "ok");
    } catch (err) {
      flash(err.message);
    }
  }

  bind() {
    $("doc-memo-add")?.addEventListener("click", () => this.add("document", this.docId, $("doc-memo-text"), "the document"));
    $("code-memo-add")?.addEventListener("click", () => this.code && this.add("code", this.code.id, $("code-memo-text"), `the code ${this.code.name}`));
  }
}
