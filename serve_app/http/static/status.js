// What the page says about the shown stream outside the log: the header's pills, the
// banner, and the figures under the video.
import { setSpeechAvailable } from "./audio.js";
import { $, setText } from "./dom.js";
import { fmtS } from "./format.js";
import { shownId, streamPath, view } from "./view.js";

// A source state's colour, for the state pill and the list's badges.
export const TONES = { live: "ok", starting: "warn", reconnecting: "warn", failed: "bad", ended: "bad",
                       stopped: "bad", missing: "bad" };

export function pill(id, text, tone) {
  $(id).textContent = text;
  $(id).parentElement.className = "pill" + (tone ? " " + tone : "");
}

export function setSourceState(s, detail) {
  if (s !== view.sourceState || detail !== undefined) view.detail = detail || "";
  view.sourceState = s;
  pill("state", s, TONES[s]);
  $("state-pill").title = view.detail || "Source state";
  showBanner();
}

// The banner says, in words, whatever keeps the shown stream from playing normally.
function bannerMessage() {
  const id = shownId(), why = view.detail ? ` (${view.detail})` : "";
  if (view.unreachable) return ["The service is not answering; retrying…", "bad"];
  if (view.pollError) return [`The service refused the stream list: ${view.pollError}`, "bad"];
  switch (view.sourceState) {
    case "reconnecting": return [`Stream ${id} is reconnecting to its source${why}; video, commentary and audio resume on their own.`, ""];
    case "ended": return [`Stream ${id} has ended: its source finished${why}.`, "bad"];
    case "failed": return [`Stream ${id} failed${why}.`, "bad"];
    case "stopped": return [`Stream ${id} was stopped${why}.`, "bad"];
    case "missing": return [`There is no stream ${id} (it may have been deleted).`, "bad"];
  }
  if (view.eventsDown) return ["Commentary connection lost; reconnecting…", ""];
  return null;
}
export function showBanner() {
  const message = bannerMessage();
  $("banner").hidden = !message;
  if (!message) return;
  setText($("banner-text"), message[0]);
  $("banner-text").className = message[1];
}

// The service can't be reached: said in the state pill and the banner.
export function showUnreachable() {
  view.unreachable = true;
  view.pollError = "";
  pill("state", "unreachable", "bad");
  showBanner();
}
// The service answered a poll with an error: its own words, in the banner.
export function showPollError(error) {
  view.unreachable = false;
  view.pollError = error;
  showBanner();
}
// A poll was answered: whatever the banner said about the service no longer holds.
export function showAnswering() {
  view.unreachable = false;
  view.pollError = "";
  showBanner();
}

export function setDelay(s) {
  view.delay = s;
  $("delay").textContent = fmtS(s);
}
export function showLatency(s) {
  $("latency").textContent = fmtS(s);
}
// The shown stream's figures as the stream list gives them.
export function showStreamFigures(s) {
  setSourceState(s.source_state);
  const speechOn = !!s.speech;
  pill("speech", speechOn ? "on" : "off", speechOn ? "ok" : "");
  setDelay(s.target_delay_s);
  if (s.last_latency_s != null) showLatency(s.last_latency_s);
  $("p50").textContent = fmtS(s.latency_p50_s);
  $("cycles").textContent = `${s.cycles ?? 0}` + (s.skips ? ` (${s.skips} skipped)` : "");
  setSpeechAvailable(speechOn);
}
export function clearFigures() {
  for (const id of ["delay", "latency", "p50", "cycles"]) $(id).textContent = "–";
}

// The header names the shown stream; the transcript links point at it.
export function showStreamName() {
  const id = shownId();
  $("stream-id").textContent = id || "…";
  for (const a of document.querySelectorAll(".links a")) {
    if (id) a.href = `${streamPath(id)}/transcript?format=${a.dataset.format}`;
  }
}
