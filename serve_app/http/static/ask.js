// The ask box: a question about the shown stream's current picture, its answer streamed
// into the log as the model writes it.
import { apiWrite, errorOf, showError } from "./api.js";
import { addAnswerLine, setAnswerText } from "./commentary.js";
import { $ } from "./dom.js";
import { shownId, streamPath, view } from "./view.js";

// The answer comes back as SSE over this POST (answer pieces, then done or error): read
// with fetch, since EventSource only GETs.
async function* sseMessages(body, signal) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  signal.addEventListener("abort", () => reader.cancel().catch(() => {}), { once: true });
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    let end;
    while ((end = buffer.search(/\r?\n\r?\n/)) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end).replace(/^\r?\n\r?\n/, "");
      let event = "message"; const data = [];
      for (const line of block.split(/\r?\n/)) {
        if (line.startsWith("event:")) event = line.slice(6).trim();
        else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
      }  // comment lines (": ping") are keep-alives
      if (data.length) yield { event, data: JSON.parse(data.join("\n")) };
    }
  }
}

$("ask-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const question = $("ask-input").value.trim();
  const id = shownId();
  if (!question || !id) return;
  const signal = view.abort.signal;  // a stream switch ends the answer's reading
  $("ask-error").textContent = "";
  $("ask-submit").disabled = true;
  let entry = null;
  try {
    const res = await apiWrite("POST", `${streamPath(id)}/ask`, { question }, signal);
    if (!res.ok || !res.body) { showError($("ask-error"), await errorOf(res)); return; }
    $("ask-input").value = "";
    entry = addAnswerLine(question);
    for await (const { event, data } of sseMessages(res.body, signal)) {
      if (event === "answer") setAnswerText(entry, entry.text + data.text);
      else if (event === "done") setAnswerText(entry, data.text);
      else if (event === "error") { showError($("ask-error"), data); entry.li.classList.add("error"); }
    }
  } catch (err) {
    if (!signal.aborted) showError($("ask-error"), { error: `the answer broke off: ${err.message}` });
  } finally {
    $("ask-submit").disabled = false;
  }
});

// After a stream switch: the last stream's error no longer applies.
export function resetAsk() {
  $("ask-error").textContent = "";
}
