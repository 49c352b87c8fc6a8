// Speech: the shown stream's raw PCM, read over fetch and played gaplessly through Web
// Audio. Off until "Start audio" is pressed (browsers allow sound only after a gesture).
import { authHeaders, errorOf } from "./api.js";
import { $ } from "./dom.js";
import { sleep } from "./retry.js";
import { shownStreamUrl, view } from "./view.js";

const LEAD_S = 0.08;  // head start for a burst's first buffer, so it is never clipped
let rateHz = 0;       // the service's PCM rate, from its X-Audio-Rate header

const player = { ctx: null, gain: null, nextStart: 0, carry: null, muted: false,
                 buffersScheduled: 0, samplesScheduled: 0, lastBufferRms: 0, maxBufferRms: 0,
                 connected: false };
// Read-only figures for the browser tests (and a curious console).
window.commentaryPlayer = Object.freeze({
  get buffersScheduled() { return player.buffersScheduled; },
  get samplesScheduled() { return player.samplesScheduled; },
  get lastBufferRms() { return player.lastBufferRms; },
  get maxBufferRms() { return player.maxBufferRms; },  // speech ends in silence: the peak shows it played
  get muted() { return player.muted; },
  get gain() { return player.gain ? player.gain.gain.value : null; },
  get running() { return !!player.ctx; },
  get connected() { return player.connected; },
  get contextState() { return player.ctx ? player.ctx.state : "none"; },
});
const note = (text) => { $("audio-note").textContent = text; };

function schedulePcm(chunk) {
  let bytes = chunk;
  if (player.carry !== null) {  // an odd byte left from the previous read starts this one
    bytes = new Uint8Array(chunk.length + 1);
    bytes[0] = player.carry; bytes.set(chunk, 1);
    player.carry = null;
  }
  if (bytes.length % 2) { player.carry = bytes[bytes.length - 1]; bytes = bytes.subarray(0, bytes.length - 1); }
  const n = bytes.length / 2;
  if (!n) return;
  const pcm = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  const buffer = player.ctx.createBuffer(1, n, rateHz);
  const samples = buffer.getChannelData(0);
  let sumSq = 0;
  for (let i = 0; i < n; i++) {
    const v = pcm.getInt16(2 * i, true) / 32768;
    samples[i] = v; sumSq += v * v;
  }
  const source = player.ctx.createBufferSource();
  source.buffer = buffer;
  source.connect(player.gain);
  // Back to back within a burst; a burst after silence starts a little ahead of "now".
  const at = Math.max(player.ctx.currentTime + LEAD_S, player.nextStart);
  source.start(at);
  player.nextStart = at + buffer.duration;
  player.buffersScheduled += 1;
  player.samplesScheduled += n;
  player.lastBufferRms = Math.sqrt(sumSq / n);
  player.maxBufferRms = Math.max(player.maxBufferRms, player.lastBufferRms);
}

async function audioLoop(signal) {
  while (!signal.aborted) {
    try {
      const res = await fetch(shownStreamUrl("audio-stream"), { cache: "no-store", signal, headers: authHeaders() });
      if (res.status === 404) {
        note((await errorOf(res)).error);
        await sleep(10000, signal);
        continue;
      }
      if (!res.ok || !res.body) throw new Error(`audio stream answered ${res.status}`);
      rateHz = Number(res.headers.get("X-Audio-Rate"));  // mono s16le at the rate it names
      if (!rateHz) throw new Error("audio stream without X-Audio-Rate");
      player.connected = true;
      player.carry = null;
      note("playing");
      const reader = res.body.getReader();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        if (value && value.length) schedulePcm(value);
      }
      note("audio stream ended; reconnecting…");
    } catch (err) {
      if (signal.aborted) break;
      note("audio interrupted; reconnecting…");
    }
    player.connected = false;
    await sleep(1500, signal);
  }
  player.connected = false;
}
// A fresh gain node per stream: what the old stream had queued goes silent at once.
function startAudio() {
  if (player.gain) player.gain.disconnect();
  player.gain = player.ctx.createGain();
  player.gain.gain.value = player.muted ? 0 : 1;
  player.gain.connect(player.ctx.destination);
  player.nextStart = 0;
  player.carry = null;
  note("connecting…");
  audioLoop(view.abort.signal);
}

// After a stream switch: if audio is on, play the newly shown stream's instead.
export function restartAudio() {
  if (player.ctx) startAudio();
}
// Until audio is on, "Start audio" is offered only for a stream that speaks.
export function setSpeechAvailable(speechOn) {
  if (!player.ctx) $("start-audio").disabled = !speechOn;
}

$("start-audio").addEventListener("click", async () => {
  if (player.ctx) return;
  player.ctx = new AudioContext({ latencyHint: "interactive" });
  await player.ctx.resume();
  $("start-audio").disabled = true;
  $("start-audio").textContent = "Audio on";
  $("mute").disabled = false;
  startAudio();
});
$("mute").addEventListener("click", () => {
  player.muted = !player.muted;
  if (player.gain) player.gain.gain.value = player.muted ? 0 : 1;
  $("mute").setAttribute("aria-pressed", String(player.muted));
  $("mute").textContent = player.muted ? "Unmute" : "Mute";
});
