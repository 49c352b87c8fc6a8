// The page's entry point: which stream is shown (the URL's ?stream=, kept in history) and
// switching it, then starting the video, the events and the polls.
import { resetAsk } from "./ask.js";
import { restartAudio } from "./audio.js";
import { connectEvents, resetCommentary } from "./commentary.js";
import { clearFigures, pill, showBanner, showStreamName } from "./status.js";
import { markShown, pollStatus, pollStreams, renderStreams, useStreamSwitcher } from "./streams.js";
import { connectVideo, resetVideo } from "./video.js";
import { shownId, view } from "./view.js";

const LIST_EVERY_MS = 3000;     // the stream list (and the shown stream's figures)
const STATUS_EVERY_MS = 15000;  // backends and the default stream: they rarely change

// Shows stream `id` (null: the default stream); `push` adds a history entry for it.
function switchStream(id, push) {
  const param = id || null;
  if (param === view.param) return;
  if (push) history.pushState({ stream: param }, "", param ? `?stream=${encodeURIComponent(param)}` : location.pathname);
  const same = (param || view.defaultId) === shownId();
  view.param = param;
  if (same) { markShown(); return; }  // the default stream by its own name: nothing to reconnect
  view.abort.abort();  // the old stream's audio and any answer still streaming
  view.abort = new AbortController();
  resetStreamView();
  connectVideo();
  connectEvents();
  restartAudio();
  renderStreams(view.streams);
}
function resetStreamView() {
  Object.assign(view, { sourceState: null, detail: "", eventsDown: false, delay: null });
  resetCommentary();
  clearFigures();
  resetAsk();
  resetVideo();
  pill("state", "connecting");
  showStreamName();
  showBanner();
}
useStreamSwitcher(switchStream);
window.addEventListener("popstate", () => {
  // Back and forward: the URL already says which stream; show it without a new entry.
  switchStream(new URLSearchParams(location.search).get("stream"), false);
});

connectVideo();
connectEvents();
showStreamName();
pollStatus();  // also lists the streams, with the default stream known
setInterval(pollStatus, STATUS_EVERY_MS);
setInterval(pollStreams, LIST_EVERY_MS);
