// caseframe: the code picker. Finds codes by name, path, description and by the framework
// components they are or map to (id such as "O10", name, definition, keywords); shows each
// hit's definition; puts the user's recently used codes first. Nothing is chosen until the
// user types or moves, so Enter on an empty filter codes nothing.

import { el } from "./common.js";

const RECENT = 8;

export function recentKey(project, user) {
  return `caseframe.recent.${project}.${user}`;
}

export function loadRecent(key) {
  try { return JSON.parse(localStorage.getItem(key) || "[]").filter(Number.isInteger); } catch { return []; }
}

export function useCode(key, id) {
  const ids = [id, ...loadRecent(key).filter((x) => x !== id)].slice(0, RECENT);
  try { localStorage.setItem(key, JSON.stringify(ids)); } catch { /* private mode: no memory */ }
}

export function prepare(codes) {
  return codes.map((c) => {
    const comps = c.components || [];
    const lower = (s) => (s || "").toLowerCase();
    return {
      code: c,
      keys: comps.map((x) => lower(x.key)),
      name: lower(c.name),
      nameWords: lower(c.name).split(/[^\p{L}\p{N}]+/u).filter(Boolean),
      path: lower(c.path),
      compNames: lower(comps.map((x) => x.name).join(" ")),
      keywords: comps.flatMap((x) => x.keywords || []).map(lower),
      text: lower([c.description, ...comps.map((x) => x.definition)].join(" ")),
      definition: c.description || comps.map((x) => x.definition).filter(Boolean)[0] || "",
      comps: comps.map((x) => ({ comp: x, key: lower(x.key), text: lower([x.name, x.definition, ...(x.keywords || [])].join(" ")) })),
    };
  });
}

function wordScore(e, w) {
  if (e.keys.includes(w)) return 100;
  if (e.name.startsWith(w)) return 40;
  if (e.nameWords.some((x) => x.startsWith(w))) return 30;
  if (e.name.includes(w)) return 20;
  if (e.keys.some((k) => k.startsWith(w))) return 15;
  if (e.keywords.some((k) => k.includes(w))) return 12;
  if (e.compNames.includes(w)) return 10;
  if (e.path.includes(w)) return 8;
  if (e.text.includes(w)) return 4;
  return 0;
}

// The codes to list for a filter: best first; with no filter, recent codes then the tree.
export function rank(entries, filter, recent) {
  const words = filter.toLowerCase().split(/\s+/).filter(Boolean);
  const recency = new Map(recent.map((id, i) => [id, RECENT - i]));
  if (!words.length) {
    const first = recent.map((id) => entries.find((e) => e.code.id === id)).filter(Boolean);
    return [...first, ...entries.filter((e) => !recency.has(e.code.id))];
  }
  const scored = [];
  for (const e of entries) {
    let score = 0;
    for (const w of words) {
      const s = wordScore(e, w);
      if (!s) { score = 0; break; }
      score += s;
    }
    if (score) scored.push([score + (recency.get(e.code.id) || 0), e]);
  }
  scored.sort((a, b) => b[0] - a[0] || a[1].path.localeCompare(b[1].path));
  // the framework component that matched (by id, or by its name, definition, keywords)
  return scored.map(([, e]) => ({
    ...e,
    matched: (e.comps.find((x) => words.includes(x.key)) || e.comps.find((x) => words.every((w) => x.text.includes(w) || x.key.startsWith(w))))?.comp,
  }));
}

export function renderItems(list, items, active, recent, onChoose) {
  const recentSet = new Set(recent);
  list.replaceChildren(...items.map((e, i) => {
    const c = e.code;
    const keys = (c.components || []).map((x) => x.key).join(" · ");
    const li = el("li", {
      role: "option", id: `pick-${c.id}`, class: i === active ? "active" : "",
      "aria-selected": i === active ? "true" : "false", dataset: { code: c.id }, title: c.path,
    },
    el("span", { class: "line" },
      el("span", { class: "name" }, c.name),
      keys ? el("span", { class: "keys" }, keys) : null,
      recentSet.has(c.id) ? el("span", { class: "recent" }, "recent") : null),
    el("span", { class: "path" }, c.path),
    e.matched ? el("span", { class: "definition component" }, el("b", {}, `${e.matched.key} ${e.matched.name}: `), e.matched.definition) : null,
    e.definition && (!e.matched || e.definition !== e.matched.definition) ? el("span", { class: "definition" }, e.definition) : null);
    li.addEventListener("click", () => onChoose(i, false));
    li.addEventListener("dblclick", () => onChoose(i, true));
    return li;
  }));
}
