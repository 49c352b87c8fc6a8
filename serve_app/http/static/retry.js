// Waiting between attempts: the backoff the video and the events stream reconnect with,
// and a sleep that a stream switch can cut short.

export const RETRY_MIN_MS = 2000, RETRY_MAX_MS = 16000;

// Each failed attempt doubles the wait, up to RETRY_MAX_MS.
export const nextRetry = (ms) => Math.min(ms * 2, RETRY_MAX_MS);

// A sleep an AbortSignal cuts short, so a stream switch never waits on an old loop.
export const sleep = (ms, signal) => new Promise((resolve) => {
  const done = () => { clearTimeout(timer); if (signal) signal.removeEventListener("abort", done); resolve(); };
  const timer = setTimeout(done, ms);
  if (signal) signal.addEventListener("abort", done, { once: true });
});
