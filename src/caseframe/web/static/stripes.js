// caseframe: coding stripes in the transcript's margin, NVivo-style. One lane per code and
// coder (codes that never overlap share a lane), a bar from the first to the last line of each
// coding in its coder's colour. Positions are read from the rendered text spans in one pass
// (all reads, then all writes), so 500 codings cost one layout.

const LANE = 7; // px per lane
const MAX_LANES = 16;

function firstAtOrAfter(ends, offset) {
  // first span whose end is after `offset`
  let lo = 0, hi = ends.length;
  while (lo < hi) { const mid = (lo + hi) >> 1; if (ends[mid] > offset) hi = mid; else lo = mid + 1; }
  return lo;
}

function lastBefore(starts, offset) {
  // last span whose start is before `offset`
  let lo = 0, hi = starts.length;
  while (lo < hi) { const mid = (lo + hi) >> 1; if (starts[mid] < offset) lo = mid + 1; else hi = mid; }
  return lo - 1;
}

// codings: [{id, start, end, code_id, code, code_path, coder}]; opts: {colour(coder),
// selected: id|null, fresh: Set(id), onPick(id)}. Returns the number of lanes drawn.
export function drawStripes(root, layer, codings, opts) {
  const segs = root.querySelectorAll("span.seg");
  const starts = new Array(segs.length), ends = new Array(segs.length);
  segs.forEach((s, i) => { starts[i] = +s.dataset.s; ends[i] = +s.dataset.e; });
  const origin = layer.getBoundingClientRect().top;
  const bars = [];
  for (const c of codings) {
    const i = firstAtOrAfter(ends, c.start), j = lastBefore(starts, c.end);
    if (i > j || i >= segs.length) continue;
    const first = segs[i].getClientRects(), last = segs[j].getClientRects();
    if (!first.length || !last.length) continue;
    const top = first[0].top - origin, bottom = last[last.length - 1].bottom - origin;
    bars.push({ c, top, bottom: Math.max(bottom, top + 4), key: `${c.code_id}:${c.coder}` });
  }
  // lanes: a code-and-coder keeps one lane; it goes to the first lane it does not overlap
  const byKey = new Map();
  for (const b of bars) {
    if (!byKey.has(b.key)) byKey.set(b.key, []);
    byKey.get(b.key).push(b);
  }
  const groups = [...byKey.values()].sort((a, b) => a[0].top - b[0].top);
  const lanes = [];
  for (const group of groups) {
    let lane = lanes.findIndex((taken) => group.every((b) => taken.every((t) => b.bottom <= t.top || b.top >= t.bottom)));
    if (lane < 0) {
      lane = lanes.length < MAX_LANES ? lanes.length : MAX_LANES - 1;
      if (lane === lanes.length) lanes.push([]);
    }
    lanes[lane].push(...group);
    for (const b of group) b.lane = lane;
  }
  const frag = document.createDocumentFragment();
  for (const b of bars) {
    const bar = document.createElement("div");
    bar.className = "stripe" + (b.c.id === opts.selected ? " selected" : "") + (opts.fresh?.has(b.c.id) ? " fresh" : "");
    bar.dataset.coding = b.c.id;
    bar.style.top = `${b.top}px`;
    bar.style.height = `${b.bottom - b.top}px`;
    bar.style.left = `${b.lane * LANE}px`;
    bar.style.backgroundColor = opts.colour(b.c.coder);
    bar.title = `${b.c.code} — ${b.c.coder}\n${b.c.code_path || b.c.code}`;
    frag.append(bar);
  }
  layer.replaceChildren(frag);
  layer.style.width = `${Math.max(1, lanes.length) * LANE + 2}px`;
  return lanes.length;
}
