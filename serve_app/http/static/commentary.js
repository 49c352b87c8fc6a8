// The shown stream's commentary: its events (SSE) become the current line, the overlay
// caption on the video, the log, and the state and figures they carry.
import { $ } from "./dom.js";
import { fmtTime } from "./format.js";
import { nextRetry, RETRY_MIN_MS } from "./retry.js";
import { setDelay, setSourceState, showBanner, showLatency } from "./status.js";
import { shownId, shownStreamUrl, view } from "./view.js";

const MAX_LINES = 200;  // older lines are dropped from the list

// questions: cycle → the question it answers. Per cycle, since a question's cycle_start can
// come before the previous cycle's cycle_end (that one waits for its picture).
const state = { lines: [], lastText: "", cycle: null, text: "", questions: new Map() };
// Read-only figures for the browser tests (and a curious console).
window.commentaryState = Object.freeze({
  get lines() { return state.lines.map((l) => ({ ...l })); },
  get lastText() { return state.lastText; },
  get delay() { return view.delay; },
  get stream() { return shownId(); },
});
const current = $("current"), list = $("lines"), caption = $("caption");
// Questions asked from this page whose answer has not come by on the events stream yet:
// the answer is streamed into its line as the model writes it, and the later cycle_end
// of kind "answer" completes that line instead of adding a second one.
let pendingAnswers = [];

function showCurrent(text) {
  current.textContent = text || "Listening…";
  current.className = "current " + (text ? "live" : "idle");
  caption.textContent = text;
}
function addLine(text, mediaTs, classes) {
  const li = document.createElement("li");
  li.className = classes.filter(Boolean).join(" ");
  li.dataset.stream = shownId() || "";
  const time = document.createElement("time");
  time.textContent = fmtTime(mediaTs);
  time.title = "media time";
  const span = document.createElement("span");
  span.textContent = text;
  li.append(time, span);
  list.prepend(li);
  while (list.children.length > MAX_LINES) list.lastElementChild.remove();
  return li;
}
function rememberLine(d, text, kind) {
  state.lines.push({ cycle: d.cycle, media_ts_s: d.media_ts_s, text, kind, stream: shownId() });
  if (state.lines.length > MAX_LINES) state.lines.shift();
  state.lastText = text;
}

// --- answers to this page's questions (ask.js streams them in) -----------------------------
export function addAnswerLine(question) {
  const li = addLine(`${question} — `, null, ["answer", "pending"]);
  li.dataset.kind = "answer";
  li.querySelector("time").textContent = "…";  // its media time comes with its cycle_end
  const entry = { question, li, text: "", complete: false };
  pendingAnswers.push(entry);
  return entry;
}
export function setAnswerText(entry, text) {
  if (entry.complete) return;  // the events stream already gave the whole answer
  entry.text = text;
  entry.li.querySelector("span").textContent = `${entry.question} — ${text}`;
}
function completeAnswer(entry, text, mediaTs) {
  // The answer reached its picture on the events stream: it gets its media time there.
  pendingAnswers = pendingAnswers.filter((a) => a !== entry);
  setAnswerText(entry, text);
  entry.complete = true;
  entry.li.querySelector("time").textContent = fmtTime(mediaTs);
  entry.li.classList.remove("pending");
}

// --- the events, by name ---------------------------------------------------------------------
const handlers = {
  state(d) { setSourceState(d.state, d.detail); },
  delay(d) { setDelay(d.target_delay_s); $("delay").title = `policy: ${d.policy}`; },
  cycle_start(d) {
    state.cycle = d.cycle; state.text = "";
    if (d.question) state.questions.set(d.cycle, d.question);
  },
  text(d) {
    if (d.cycle !== state.cycle) { state.cycle = d.cycle; state.text = ""; }
    state.text += d.text;
    state.lastText = state.text;
    showCurrent(state.text);
  },
  cycle_end(d) {
    showLatency(d.latency_s);
    const text = (d.text || (d.cycle === state.cycle ? state.text : "")).trim();
    state.cycle = null; state.text = "";
    const question = state.questions.get(d.cycle) || "";
    state.questions.delete(d.cycle);
    if (d.error) {
      addLine(`model error: ${d.error}`, d.media_ts_s, ["error"]);
    } else if (!d.skip && text) {
      rememberLine(d, text, d.kind || "commentary");
      const asked = d.kind === "answer" &&
        (pendingAnswers.find((a) => a.question === question) || (!question && pendingAnswers[0]));
      if (asked) {
        completeAnswer(asked, text, d.media_ts_s);
      } else {
        const shown = question ? `${question} — ${text}` : text;
        const li = addLine(shown, d.media_ts_s, [d.late ? "late" : "", d.kind === "answer" ? "answer" : ""]);
        li.dataset.kind = d.kind || "commentary";
      }
    }  // skip answers ("nothing new") are not listed: the previous line stays current
    showCurrent("");
    if (state.lastText) caption.textContent = state.lastText;
  },
};

let events = null, eventsRetryMs = RETRY_MIN_MS, eventsTimer = 0;
export function connectEvents() {
  clearTimeout(eventsTimer);
  if (events) events.close();
  const source = new EventSource(shownStreamUrl("events"));
  events = source;
  for (const [name, handle] of Object.entries(handlers)) {
    source.addEventListener(name, (e) => {
      let data;
      try { data = JSON.parse(e.data); } catch (err) { console.warn("bad event", name, err); return; }
      // An event of another stream (a switch raced a late message) is not this view's.
      if (shownId() && data.stream_id && data.stream_id !== shownId()) return;
      handle(data);
    });
  }
  source.onopen = () => { eventsRetryMs = RETRY_MIN_MS; view.eventsDown = false; showBanner(); };
  source.onerror = () => {
    if (source !== events) return;
    view.eventsDown = true;
    showBanner();
    // EventSource retries by itself (with Last-Event-ID); a closed one is reopened here.
    if (source.readyState === EventSource.CLOSED) {
      source.close();
      eventsTimer = setTimeout(connectEvents, eventsRetryMs);
      eventsRetryMs = nextRetry(eventsRetryMs);
    }
  };
}

// After a stream switch: an empty log, no half-written line, a quick first reconnect.
export function resetCommentary() {
  Object.assign(state, { lines: [], lastText: "", cycle: null, text: "", questions: new Map() });
  pendingAnswers = [];
  list.replaceChildren();
  current.textContent = "Waiting for the first commentary…";
  current.className = "current idle";
  caption.textContent = "";
  eventsRetryMs = RETRY_MIN_MS;
}
