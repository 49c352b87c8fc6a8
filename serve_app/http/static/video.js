// The shown stream's video: MJPEG in an <img>, reconnected when it fails or freezes.
//
// The browser plays multipart MJPEG in an <img> by itself. Chromium fires no "load" per
// frame, so a watchdog samples the picture: frozen for 15 s means the connection broke
// quietly, and it reconnects.
import { $ } from "./dom.js";
import { nextRetry, RETRY_MIN_MS } from "./retry.js";
import { shownStreamUrl } from "./view.js";

const video = $("video");
const probe = Object.assign(document.createElement("canvas"), { width: 16, height: 9 })
  .getContext("2d", { willReadFrequently: true });
const STALL_CHECK_EVERY = 5, STALL_CHECKS = 3;  // ticks of 1 s: frozen for 15 s → reconnect
let lastDigest = null, sameCount = 0, ticks = 0, videoRetryMs = RETRY_MIN_MS, videoTimer = 0;

export function connectVideo() {
  clearTimeout(videoTimer);
  sameCount = 0;
  lastDigest = null;
  // A new URL each time: setting the same src again would not reconnect.
  video.src = `${shownStreamUrl("mjpeg")}?t=${Date.now()}`;
}

// After a stream switch: "waiting for video…" until its first frame, and a quick retry.
export function resetVideo() {
  videoRetryMs = RETRY_MIN_MS;
  $("nosignal").hidden = false;
}

function frameDigest() {
  probe.drawImage(video, 0, 0, 16, 9);
  return probe.getImageData(0, 0, 16, 9).data.join(",");
}

video.addEventListener("error", () => {
  // A refused video (a stream gone, a restart) is retried, more slowly each time.
  $("nosignal").hidden = false;
  clearTimeout(videoTimer);
  videoTimer = setTimeout(connectVideo, videoRetryMs);
  videoRetryMs = nextRetry(videoRetryMs);
});

setInterval(() => {
  const showing = video.naturalWidth > 0;
  $("nosignal").hidden = showing;
  if (showing) videoRetryMs = RETRY_MIN_MS;
  if (++ticks % STALL_CHECK_EVERY) return;
  const digest = showing ? frameDigest() : null;
  // Only a picture that stays the same is frozen; before the first frame (or after a
  // refused one) the "error" handler does the retrying.
  sameCount = digest !== null && digest === lastDigest ? sameCount + 1 : 0;
  lastDigest = digest;
  if (sameCount >= STALL_CHECKS) connectVideo();
}, 1000);
