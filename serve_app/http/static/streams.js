// The stream list: polled from the service, each item a link to its stream with its state
// and a Delete button, and the form that adds a stream.
import { apiWrite, authHeaders, errorOf, showError } from "./api.js";
import { $, setText } from "./dom.js";
import { pill, setSourceState, showAnswering, showPollError, showStreamFigures, showStreamName, showUnreachable,
         TONES } from "./status.js";
import { shownId, streamPath, view } from "./view.js";

// Switching reconnects video, events and audio; main.js owns that and hands it in here,
// so the list need not know the players.
let switchStream = () => {};
export function useStreamSwitcher(switcher) {
  switchStream = switcher;
}

// --- polling -------------------------------------------------------------------------------
// Polls overlap (an add or a delete polls at once, between the timers' polls): each takes
// the next number, and one that a later poll overtook drops what it got, so an older list
// is never drawn over a newer one.
let pollSeq = 0;

// GET `path`: { body, latest }, or null when it failed (the banner says how) or was
// overtaken before it failed. Only a fetch that could not reach the service is
// "not answering"; an error answer is shown in the API's own words.
async function poll(path) {
  const mine = ++pollSeq;
  let res;
  try {
    res = await fetch(path, { cache: "no-store", headers: authHeaders() });
  } catch (err) {
    if (mine === pollSeq) showUnreachable();
    return null;
  }
  if (!res.ok) {
    const { error } = await errorOf(res);
    if (mine === pollSeq) showPollError(error);
    return null;
  }
  let body;
  try {
    body = await res.json();
  } catch (err) {
    if (mine === pollSeq) showPollError(`unreadable answer to ${path}: ${err.message}`);
    return null;
  }
  if (mine === pollSeq) showAnswering();
  return { body, latest: mine === pollSeq };
}

export async function pollStatus() {
  const got = await poll("/api/status");
  if (!got) return;
  // The backends and the default stream hold even when a later poll overtook this one;
  // its list does not.
  const status = got.body;
  view.defaultId = status.default_stream;
  const b = status.backend || {};
  pill("backend", `${b.describer ?? "?"} · ${b.voice ?? "?"}`);
  $("backend-pill").title = b.reason || "";
  showStreamName();
  if (got.latest) renderStreams(status.streams || []);
}
export async function pollStreams() {
  if (document.hidden) return;  // a background tab does not poll
  const got = await poll("/api/streams");
  if (got && got.latest) renderStreams(got.body);
}

// --- the list ------------------------------------------------------------------------------
// Items are updated in place (never rebuilt), so keyboard focus survives each poll.
const streamList = $("stream-list");
export function renderStreams(streams) {
  view.streams = streams;
  const ids = new Set(streams.map((s) => s.id));
  for (const li of [...streamList.children]) if (!ids.has(li.dataset.id)) li.remove();
  streams.forEach((s, i) => {
    const li = streamItem(s.id);
    const badge = li.querySelector(".badge");
    badge.textContent = s.source_state;
    badge.className = "badge " + (TONES[s.source_state] || "");
    li.querySelector(".src").textContent = `${shortSource(s.source)}${s.speech ? " · speech" : ""}`;
    li.querySelector(".src").title = s.source || "";
    // The service's order. Only a node out of place is moved: moving one drops its focus.
    if (streamList.children[i] !== li) streamList.insertBefore(li, streamList.children[i] || null);
  });
  markShown();
  setText($("list-note"), streams.length ? "" : "No streams yet.");
  const shown = streams.find((s) => s.id === shownId());
  if (shown) showStreamFigures(shown);
  else if (shownId() && !view.unreachable) setSourceState("missing", `no stream ${shownId()}`);
}
// A file's name says enough in a narrow list; the whole source is in the tooltip.
const shortSource = (source) => !source || source.includes("://") ? source || "" : source.split("/").pop();
function streamItem(id) {
  const existing = [...streamList.children].find((li) => li.dataset.id === id);
  if (existing) return existing;
  const li = document.createElement("li");
  li.className = "stream";
  li.dataset.id = id;
  const link = document.createElement("a");
  link.href = `?stream=${encodeURIComponent(id)}`;
  link.innerHTML = '<span class="name"></span><span class="badge"></span><span class="src"></span>';
  link.querySelector(".name").textContent = id;
  link.addEventListener("click", (e) => {
    // A plain click (or Enter) switches in place; a middle or modified click opens a tab.
    if (e.button !== 0 || e.ctrlKey || e.metaKey || e.shiftKey || e.altKey) return;
    e.preventDefault();
    switchStream(id, true);
  });
  const remove = document.createElement("button");
  remove.type = "button";
  remove.className = "delete";
  remove.textContent = "Delete";
  remove.setAttribute("aria-label", `Delete stream ${id}`);
  remove.addEventListener("click", () => confirmDelete(id, remove));
  li.append(link, remove);
  return li;
}
// The shown stream's item is marked current (for the eye and for screen readers).
export function markShown() {
  for (const li of streamList.children) {
    const link = li.querySelector("a");
    if (li.dataset.id === shownId()) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
}

// --- add -----------------------------------------------------------------------------------
$("add-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const source = $("add-source").value.trim(), id = $("add-id").value.trim();
  const body = { source, settings: { enable_tts: $("add-speech").checked } };
  if (id) body.id = id;
  $("add-error").replaceChildren();
  $("add-submit").disabled = true;
  $("add-status").textContent = "Opening the source…";  // it is probed before the answer
  try {
    const res = await apiWrite("POST", "/api/streams", body);
    if (res.status !== 201) { showError($("add-error"), await errorOf(res)); return; }
    const created = await res.json();
    const newId = (created.urls && created.urls.self || "").split("/").pop() || id;
    $("add-source").value = ""; $("add-id").value = "";
    await pollStreams();
    switchStream(newId, true);
  } catch (err) {
    showError($("add-error"), { error: `could not reach the service: ${err.message}` });
  } finally {
    $("add-submit").disabled = false;
    $("add-status").textContent = "";
  }
});

// --- delete --------------------------------------------------------------------------------
// Delete asks for a second press within a few seconds: a stream and its clients go at once.
const CONFIRM_MS = 4000;
function confirmDelete(id, button) {
  if (!button.classList.contains("armed")) {
    button.classList.add("armed");
    button.textContent = "Confirm";
    button.setAttribute("aria-label", `Press again to delete stream ${id}`);
    setTimeout(() => disarm(button, id), CONFIRM_MS);
    return;
  }
  disarm(button, id);
  deleteStream(id, button);
}
function disarm(button, id) {
  button.classList.remove("armed");
  button.textContent = "Delete";
  button.setAttribute("aria-label", `Delete stream ${id}`);
}
async function deleteStream(id, button) {
  $("list-error").replaceChildren();
  button.disabled = true;
  try {
    const res = await apiWrite("DELETE", streamPath(id));
    if (res.status !== 204) { showError($("list-error"), await errorOf(res)); return; }
    if (id === shownId()) switchStream(null, true);  // back to the default stream
    await pollStreams();
  } catch (err) {
    showError($("list-error"), { error: `could not reach the service: ${err.message}` });
  } finally {
    button.disabled = false;
  }
}
