// caseframe: the transcript as blocks (speaker turns and what lies between them) and as DOM.
// Compact: the turn number and the speaker sit in the margin, the "Speaker:" label is left out of
// the text (unless a coding takes it in), paragraph and page numbers between turns are dropped.
// Text goes into the page as text only (textContent), never as HTML.

import { el } from "./common.js";
import { codePointIndex } from "./find.js";


function prefixLength(cps, start, end, speaker) {
  // "Dan: Okay." shows as "Dan" in the speaker column and "Okay." as the text
  const head = cps.slice(start, Math.min(end, start + speaker.length + 40)).join("");
  const m = head.match(new RegExp("^\\s*" + speaker.replace(/[.*+?^${}()|[\]\\]/g, "\\$&") + "\\s*:\\s*", "iu"));
  return m ? Array.from(m[0]).length : 0;
}

export function textBlocks(doc, cps) {
  const out = [];
  const len = cps.length;
  let at = 0, number = 0;
  const gap = (s, e) => {
    // paragraph and page numbers ("12", "4/7") and blank lines between turns: the turn number
    // in the margin takes their place
    const text = cps.slice(s, e).join("");
    if (!/^[\s\d./]*$/u.test(text)) out.push({ start: s, body: s, end: e, speaker: null });
  };
  for (const t of [...doc.turns].sort((a, b) => a.start - b.start)) {
    if (t.start > at) gap(at, t.start);
    const s = Math.max(at, t.start);
    if (t.end > s) {
      const body = Math.min(t.end, s + prefixLength(cps, s, t.end, t.speaker));
      out.push({ start: s, body, end: t.end, speaker: t.speaker, number: ++number });
    }
    at = Math.max(at, t.end);
  }
  if (at < len) gap(at, len);
  // blank lines inside a block become visible breaks; single newlines flow as spaces
  const toCp = codePointIndex(doc.text);
  const breaks = [...doc.text.matchAll(/\n[ \t]*\n\s*/g)].map((m) => [toCp(m.index), toCp(m.index + m[0].length)]);
  return { blocks: out, breaks };
}

function sweep(items) {
  // walk sorted items along increasing offsets; covering(s) gives those over [s, next cut)
  const sorted = [...items].sort((a, b) => a.start - b.start);
  let next = 0, active = [];
  return (s) => {
    while (next < sorted.length && sorted[next].start <= s) active.push(sorted[next++]);
    active = active.filter((c) => c.end > s);
    return active;
  };
}

// The transcript as DOM: one .turn per block, its text cut into span.seg wherever a coding,
// suggestion, search hit or paragraph break starts or ends (data-s/data-e: code points).
export function drawText(ws, shown, sugs, colourOf) {
  const hits = ws.hits.map(([start, end], i) => ({ start, end, i }));
  const breaks = ws.breaks.map(([start, end]) => ({ start, end }));
  const cutSet = new Set();
  for (const c of [...shown, ...sugs, ...hits, ...breaks]) { cutSet.add(c.start); cutSet.add(c.end); }
  const cuts = [...cutSet].sort((a, b) => a - b);
  const coding = sweep(shown), suggested = sweep(sugs), hitAt = sweep(hits), breakAt = sweep(breaks);
  const selected = ws.selected;
  const labelled = blocksWithCodedLabels(ws.blocks, [...shown, ...sugs]);
  let k = 0;
  const frag = document.createDocumentFragment();
  ws.blocks.forEach((b, index) => {
    const text = el("div", { class: "turn-text" });
    // the "Dan:" label is left out of the text unless a coding or suggestion takes it in
    const from = labelled.has(index) ? b.start : b.body;
    while (k < cuts.length && cuts[k] <= from) k++;
    let s = from;
    while (s < b.end) {
      const e = k < cuts.length && cuts[k] < b.end ? cuts[k++] : b.end;
      const seg = el("span", { class: "seg", dataset: { s, e } }, ws.cps.slice(s, e).join(""));
      const over = coding(s), sug = suggested(s), hit = hitAt(s);
      const titles = [];
      if (breakAt(s).length) seg.classList.add("br");
      if (sug.length) {
        seg.classList.add("sug"); // machine suggestions: a dashed outline, never a coder's colour
        seg.dataset.suggestions = sug.map((c) => c.id).join(" ");
        titles.push(...sug.map((c) => `suggested: ${c.code} (${fmtScore(c.score)})`));
      }
      if (over.length) {
        const colours = [...new Set(over.map((c) => colourOf(c.coder)))];
        seg.classList.add("hl");
        seg.dataset.codings = over.map((c) => c.id).join(" ");
        titles.unshift(...over.map((c) => `${c.code} (${c.coder})`));
        seg.style.backgroundColor = colours[0] + "55";
        if (colours.length > 1) {
          const stops = colours.map((col, n) => `${col}55 ${(n * 100) / colours.length}% ${((n + 1) * 100) / colours.length}%`);
          seg.style.backgroundImage = `linear-gradient(180deg, ${stops.join(", ")})`;
        }
        if (selected !== null && over.some((c) => c.id === selected)) seg.classList.add("selected");
      }
      if (hit.length) seg.classList.add("hit", ...(hit[0].i === ws.hit ? ["current"] : []));
      if (titles.length) seg.title = titles.join("\n");
      text.append(seg);
      s = e;
    }
    const turn = el("div", { class: b.speaker ? "turn" : "turn plain", dataset: { start: b.start, end: b.end } });
    if (b.speaker) {
      turn.append(el("span", { class: "turn-no", "aria-hidden": "true" }, b.number),
        el("span", { class: "speaker" }, b.speaker));
      if (index === ws.turn) turn.classList.add("current");
    }
    turn.append(text);
    frag.append(turn);
  });
  return frag;
}

function blocksWithCodedLabels(blocks, items) {
  // indexes of the blocks whose speaker label [start, body) some item overlaps
  const out = new Set();
  const starts = blocks.map((b) => b.start);
  for (const c of items) {
    let i = Math.max(0, starts.findLastIndex((x) => x <= c.start));
    for (; i < blocks.length && blocks[i].start < c.end; i++) {
      const b = blocks[i];
      if (b.body > b.start && c.start < b.body && c.end > b.start) out.add(i);
    }
  }
  return out;
}

function fmtScore(score) {
  return score === null || score === undefined ? "no score" : Number(score).toFixed(2);
}
