// Talking to the API: the tab's token (asked for in a dialog, kept in sessionStorage),
// writes that ask for it when refused, and the API's error words shown as they are.
import { $ } from "./dom.js";
import { sleep } from "./retry.js";

const TOKEN_KEY = "live-commentary.api-token";

export function authHeaders() {
  const token = sessionStorage.getItem(TOKEN_KEY);
  return token ? { Authorization: `Bearer ${token}` } : {};
}

let tokenAsked = null;  // one dialog for every write waiting on it
function askForToken(why) {
  if (tokenAsked) return tokenAsked;
  const dialog = $("token-dialog");
  $("token-why").textContent = why;
  $("token-input").value = "";
  dialog.returnValue = "";
  tokenAsked = new Promise((resolve) => {
    dialog.addEventListener("close", () => {
      const token = dialog.returnValue === "ok" ? $("token-input").value.trim() : "";
      $("token-input").value = "";  // kept in sessionStorage only, not in the form
      if (token) sessionStorage.setItem(TOKEN_KEY, token);
      tokenAsked = null;
      resolve(token || null);
    }, { once: true });
  });
  dialog.showModal();
  $("token-input").focus();
  return tokenAsked;
}
$("token-cancel").addEventListener("click", () => $("token-dialog").close(""));

// The API's own words for a refusal ({"error", "problems"}), or the status when it gave none.
export async function errorOf(res) {
  const body = await res.json().catch(() => null);
  if (body && typeof body.error === "string") return { error: body.error, problems: body.problems || [] };
  return { error: `the service answered ${res.status}`, problems: [] };
}

// A write with the tab's token. A 401/403 asks for the token (once; a refused one is
// forgotten) and sends again; a 503 with Retry-After (the stream is moving replicas) is
// sent again after the wait it names. Anything else is the caller's to read.
export async function apiWrite(method, path, body, signal) {
  for (let moved = 0; ;) {
    const res = await fetch(path, {
      method, signal, cache: "no-store",
      headers: { ...authHeaders(), ...(body ? { "content-type": "application/json" } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    if (res.status === 503 && res.headers.get("Retry-After") && moved++ < 5) {
      await sleep(1000 * (Number(res.headers.get("Retry-After")) || 1), signal);
      continue;
    }
    if (res.status !== 401 && res.status !== 403) return res;
    const refused = await errorOf(res);
    if (res.status === 403) sessionStorage.removeItem(TOKEN_KEY);
    if (!(await askForToken(refused.error))) {
      return new Response(JSON.stringify(refused), { status: res.status, headers: { "content-type": "application/json" } });
    }
  }
}

// An error in `element`: its message, then each problem the API listed (a 422's fields).
export function showError(element, { error, problems }) {
  element.replaceChildren(document.createTextNode(error));
  if (problems && problems.length) {
    const ul = document.createElement("ul");
    for (const p of problems) ul.append(Object.assign(document.createElement("li"), { textContent: p }));
    element.append(ul);
  }
}
