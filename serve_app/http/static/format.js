// How times and durations read on the page. A missing or non-finite value shows as "–",
// never as "NaN" or "undefined".

// Media time as m:ss.s (the log's first column).
export const fmtTime = (s) => {
  if (typeof s !== "number" || !isFinite(s)) return "–";
  const m = Math.floor(s / 60), sec = s - m * 60;
  return `${m}:${sec.toFixed(1).padStart(4, "0")}`;
};

// A duration in seconds (delays and latencies).
export const fmtS = (s) => (typeof s === "number" && isFinite(s)) ? `${s.toFixed(2)} s` : "–";
