// caseframe: the search language of the Search page (words, "phrases", prefix*) applied to one
// text in the browser: the same rules as caseframe.analysis.search, so a document's hits here
// are the hits the Search page listed. Offsets are Unicode code points.

const WORD = /[\p{L}\p{N}_]+/gu;
const W = "\\p{L}\\p{N}_";

export function parseQuery(text) {
  const terms = [];
  for (const m of (text || "").matchAll(/"([^"]*)"?|(\S+)/g)) {
    const raw = m[1] !== undefined ? m[1] : m[2];
    const words = (raw.match(WORD) || []).map((w) => w.toLowerCase());
    if (!words.length) continue;
    const prefix = m[2] !== undefined && m[2].endsWith("*");
    if (!terms.some((t) => t.prefix === prefix && t.words.join(" ") === words.join(" "))) {
      terms.push({ words, prefix });
    }
  }
  return terms;
}

const escape = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

function pattern(term) {
  const body = term.words.map(escape).join(`[^${W}]+`);
  return `(?<![${W}])${body}` + (term.prefix ? `[${W}]*` : `(?![${W}])`);
}

// For a text, a function from UTF-16 index to code point index.
export function codePointIndex(text) {
  const map = new Uint32Array(text.length + 1);
  let cp = 0;
  for (let i = 0; i < text.length; i++) {
    map[i] = cp;
    const c = text.charCodeAt(i);
    if (c < 0xd800 || c > 0xdbff) cp++;
  }
  map[text.length] = cp;
  return (i) => map[i];
}

// [[start, end], ...] in code points; none unless every term occurs (as on the server).
export function findHits(text, terms, toCp) {
  if (!terms.length) return [];
  const ordered = [...terms].sort((a, b) => b.words.length - a.words.length || a.prefix - b.prefix);
  if (terms.length > 1 && !terms.every((t) => new RegExp(pattern(t), "iu").test(text))) return [];
  const re = new RegExp(ordered.map(pattern).join("|"), "giu");
  const out = [];
  for (const m of text.matchAll(re)) {
    if (!m[0].length) continue;
    out.push([toCp(m.index), toCp(m.index + m[0].length)]);
  }
  return out;
}
