// How times and durations read on the page. A missing or non-finite value shows as "–",
// never as "NaN" or "undefined".

// Media time as m:ss.s (the log's first column).
export const fmtTime = (s) => {
  if (typeof s !== "number" || !isFinite(s)) return "–";
  const tenths = Math.round(s * 10);  // rounded first: 59.96 s is 1:00.0, never 0:60.0
  const m = Math.floor(tenths / 600), sec = (tenths - m * 600) / 10;
  return `${m}:${sec.toFixed(1).padStart(4, "0")}`;
};

// A duration in seconds (delays and latencies).
export const fmtS = (s) => (typeof s === "number" && isFinite(s)) ? `${s.toFixed(2)} s` : "–";
