// caseframe: play a transcribed document's recording from any turn or coding, relabel turns.
// Plain ES module beside workspace.js. It only adds to what workspace.js renders: a play button
// on each speaker label and each coding, and (for coders) a relabel button. Character offsets
// are turned into times through the document's timed passages, interpolating inside a passage.

const docId = document.body.dataset.document;
const csrf = () => document.querySelector('meta[name="csrf-token"]')?.content || "";
const role = () => document.getElementById("who")?.dataset.role || "viewer";
const state = { timeline: null, audio: null, codings: null, lit: null };

async function getJson(url, init = {}) {
  const res = await fetch(url, { ...init, headers: { Accept: "application/json", ...(init.headers || {}) } });
  const data = await res.json().catch(() => null);
  if (!res.ok) throw new Error((data && data.error) || `request failed (${res.status})`);
  return data;
}

function say(message) {
  const box = document.getElementById("flash");
  if (!box) return;
  box.textContent = message;
  box.className = "flash error";
  box.hidden = false;
}

// The time (seconds) at which the character at `offset` is said.
function timeAt(offset) {
  const segs = state.timeline.segments;
  for (const s of segs) {
    if (offset < s.start) return s.start_ms / 1000;
    if (offset < s.end) {
      const share = (offset - s.start) / Math.max(1, s.end - s.start);
      return (s.start_ms + share * (s.end_ms - s.start_ms)) / 1000;
    }
  }
  return segs.length ? segs[segs.length - 1].end_ms / 1000 : 0;
}

function playFrom(offset) {
  const audio = state.audio;
  const seek = () => {
    audio.currentTime = timeAt(offset);
    audio.play().catch(() => { /* the browser may refuse until the user presses play */ });
  };
  if (audio.readyState >= 1) seek();
  else audio.addEventListener("loadedmetadata", seek, { once: true });
}

function button(label, title, onclick) {
  const b = document.createElement("button");
  b.type = "button";
  b.textContent = label;
  b.title = title;
  b.setAttribute("aria-label", title);
  b.dataset.audio = "1";
  b.style.padding = "0 .3rem";
  b.style.fontSize = ".75rem";
  b.addEventListener("click", (e) => { e.stopPropagation(); onclick(); });
  return b;
}

function turnStart(turnEl) {
  const seg = turnEl.querySelector(".seg");
  return seg ? Number(seg.dataset.s) : null;
}

function decorateTurns() {
  for (const turnEl of document.querySelectorAll("#transcript .turn:not(.plain)")) {
    const label = turnEl.querySelector(".speaker");
    if (!label || label.querySelector("button[data-audio]")) continue;
    const start = turnStart(turnEl);
    const turn = state.timeline.turns.find((t) => t.start <= start && start < t.end);
    if (start === null || !turn) continue;
    turnEl.dataset.turn = turn.index;
    // the buttons go on a row under the name, inside the speaker column
    const tools = document.createElement("span");
    tools.style.display = "flex";
    tools.style.gap = ".25rem";
    tools.append(button("▶", `Play from turn ${turn.index + 1}`, () => playFrom(start)));
    if (role() !== "viewer") {
      tools.append(button("✎", `Relabel turn ${turn.index + 1}`, () => relabel(turn)));
    }
    label.append(tools);
  }
}

async function codingStart(id) {
  if (!state.codings || !state.codings.has(id)) {
    const data = await getJson(`/api/documents/${docId}/codings`);
    state.codings = new Map(data.codings.map((c) => [c.id, c.start]));
  }
  return state.codings.get(id);
}

function decorateCodings() {
  for (const li of document.querySelectorAll("#codings li[data-coding]")) {
    if (li.querySelector("button[data-audio]")) continue;
    const id = Number(li.dataset.coding);
    const play = button("▶", "Play this coding", async () => {
      try { playFrom(await codingStart(id)); } catch (err) { say(err.message); }
    });
    play.style.alignSelf = "flex-start";
    li.prepend(play);
  }
}

async function relabel(turn) {
  const speaker = window.prompt(`Speaker of turn ${turn.index + 1}`, turn.speaker);
  if (speaker === null || !speaker.trim() || speaker.trim() === turn.speaker) return;
  try {
    await getJson(`/api/documents/${docId}/turns/${turn.index}`, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf() },
      body: JSON.stringify({ speaker: speaker.trim() }),
    });
    location.reload();  // the workspace reads the turns again
  } catch (err) {
    say(err.message);
  }
}

// Outline the turn being heard.
function follow() {
  const ms = state.audio.currentTime * 1000;
  const seg = state.timeline.segments.find((s) => s.start_ms <= ms && ms < s.end_ms);
  const turn = seg && state.timeline.turns.find((t) => t.start <= seg.start && seg.start < t.end);
  const el = turn ? document.querySelector(`#transcript .turn[data-turn="${turn.index}"]`) : null;
  if (el === state.lit) return;
  if (state.lit) state.lit.style.outline = "";
  if (el) el.style.outline = "2px solid #6cc3e0";
  state.lit = el;
}

async function init() {
  if (!docId || document.body.dataset.page !== "document") return;
  state.timeline = await getJson(`/api/documents/${docId}/timeline`);
  const box = document.getElementById("recording");
  if (!state.timeline.media || !box) return;
  const audio = document.createElement("audio");
  audio.id = "recording-audio";
  audio.controls = true;
  audio.preload = "metadata";
  audio.src = state.timeline.media.url;
  audio.style.width = "100%";
  audio.addEventListener("timeupdate", follow);
  state.audio = audio;
  const note = document.createElement("p");
  note.className = "note";
  note.textContent = "▶ beside a speaker or a coding plays from there" +
    (role() !== "viewer" ? "; ✎ relabels a turn." : ".");
  box.append(audio, note);
  box.hidden = false;
  const watch = (id, fn) => {
    const el = document.getElementById(id);
    if (el) new MutationObserver(fn).observe(el, { childList: true, subtree: true });
    fn();
  };
  watch("transcript", decorateTurns);
  watch("codings", decorateCodings);
  document.body.dataset.audioReady = "1";
}

init().catch((err) => say(err.message));
