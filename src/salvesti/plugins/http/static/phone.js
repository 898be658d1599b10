// The browser phone: a WebRTC softphone for the logged-in user's extension.
//
// Signalling is JSON over /api/phone/ws (session cookie + CSRF token); the page always
// offers and the box answers (its candidates are in the answer; ours trickle after the
// offer).  The known troubles of browser phones are designed against: sound and the
// microphone are unlocked by one click on "Enable phone" (autoplay rules), a heartbeat
// tells the box this tab lives (a frozen background tab is not rung), a newer tab takes
// over cleanly, and an ICE failure is shown in words.
import { api, ApiError, setCsrf } from "./api.js";
import { clear, fmtClock, h } from "./dom.js";
import { language, setLanguage } from "./i18n.js";
import { p } from "./phone_i18n.js";

const main = document.getElementById("main");
const nav = document.getElementById("nav");
const remote = document.getElementById("remote");
const query = new URLSearchParams(location.search);
// ?processing=off sends the microphone as it is (no echo cancellation): for measuring.
const RAW = query.get("processing") === "off";

const S = {
  me: null, ws: null, ready: false, replaced: false, enabled: false, retry: 0,
  pc: null, mic: null, callId: null, state: "idle", reason: null, ringing: null,
  startedAt: null, muted: false, held: false, lastCall: null, heartbeat: null, audio: null, tone: null,
};

const el = {};

function status(text, cls) {
  el.status.textContent = text;
  el.status.className = `status ${cls || ""}`;
}

function send(msg) {
  if (S.ws && S.ws.readyState === WebSocket.OPEN) S.ws.send(JSON.stringify(msg));
}

// -- sounds: a ring for incoming calls, a ringback while an outside call rings -----------------
function startTone(kind) {
  stopTone();
  if (!S.audio) return;
  const ctx = S.audio;
  const gain = ctx.createGain();
  gain.gain.value = 0;
  gain.connect(ctx.destination);
  const osc = ctx.createOscillator();
  osc.frequency.value = kind === "ring" ? 480 : 425;
  osc.connect(gain);
  osc.start();
  let on = false;
  const cadence = kind === "ring" ? [800, 400] : [1000, 4000];
  const flip = () => {
    on = !on;
    gain.gain.value = on ? 0.08 : 0;
    S.tone.timer = setTimeout(flip, on ? cadence[0] : cadence[1]);
  };
  S.tone = { osc, gain, timer: null };
  flip();
}

function stopTone() {
  if (!S.tone) return;
  clearTimeout(S.tone.timer);
  S.tone.osc.stop();
  S.tone.gain.disconnect();
  S.tone = null;
}

// -- the socket -------------------------------------------------------------------------------
function connect() {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const ws = new WebSocket(`${scheme}://${location.host}/api/phone/ws?csrf=${encodeURIComponent(S.me.csrf_token)}`);
  S.ws = ws;
  ws.onopen = () => {
    S.retry = 0;
    send({ type: "hello" });
  };
  ws.onmessage = (ev) => {
    let msg;
    try { msg = JSON.parse(ev.data); } catch (err) { return; }
    onMessage(msg);
  };
  ws.onclose = () => {
    S.ready = false;
    clearInterval(S.heartbeat);
    if (S.state !== "idle") endCall("offline");
    if (S.replaced) return render();
    status(p("offline"), "failed");
    render();
    S.retry = Math.min(S.retry + 1, 6);
    setTimeout(connect, 500 * 2 ** S.retry);
  };
}

function onMessage(msg) {
  switch (msg.type) {
    case "ready":
      S.ready = true;
      S.replaced = false;
      S.iceServers = msg.ice_servers || [];
      clearInterval(S.heartbeat);
      S.heartbeat = setInterval(() => send({ type: "heartbeat" }), (msg.heartbeat_s || 10) * 1000);
      if (S.state === "idle") status(p("idle"));
      render();
      break;
    case "replaced":
      S.replaced = true;
      render();
      break;
    case "incoming":
      if (S.state !== "idle") return;
      S.ringing = { call: msg.call, from: msg.from };
      S.state = "ringing";
      status(p("incoming"), "ringing");
      startTone("ring");
      if (document.hidden && window.Notification && Notification.permission === "granted") {
        const n = new Notification("Salvesti", { body: p("notifications", { from: msg.from || p("unknown") }), tag: msg.call });
        n.onclick = () => { window.focus(); n.close(); };
      }
      render();
      break;
    case "cancelled":
      if (S.ringing && S.ringing.call === msg.call && S.state === "ringing") {
        stopTone();
        S.ringing = null;
        S.state = "idle";
        status(p("idle"));
        render();
      }
      break;
    case "sdp":
      if (S.pc && msg.sdp) S.pc.setRemoteDescription({ type: "answer", sdp: msg.sdp }).catch(() => endCall("bad_sdp"));
      if (msg.call) S.callId = msg.call;
      break;
    case "state":
      onState(msg);
      break;
    case "error":
      if (["busy", "rate_limited", "no_trunk", "not_active", "shutting_down", "not_ringing"].includes(msg.code) && S.state !== "in_call") {
        endCall(msg.code);
      }
      el.error.textContent = msg.message || msg.code;
      break;
    default:
      break;
  }
}

function onState(msg) {
  if (msg.call) S.callId = msg.call;
  const state = msg.state;
  if (state === "trying") status(p("trying"));
  else if (state === "ringing") { status(p("ringing"), "ringing"); startTone("ringback"); }
  else if (state === "answered") { stopTone(); status(p("answered")); }
  else if (state === "connected") {
    stopTone();
    S.state = "in_call";
    S.held = false;
    if (!S.startedAt) S.startedAt = Date.now();
    status(p("connected"), "connected");
  } else if (state === "held") { S.held = true; status(p("held")); }
  else if (state === "ended") { endCall(msg.reason); return; }
  render();
}

// -- calls --------------------------------------------------------------------------------------
async function peer() {
  if (!window.isSecureContext) throw new Error(p("insecure"));
  const constraints = RAW
    ? { echoCancellation: false, noiseSuppression: false, autoGainControl: false }
    : { echoCancellation: true, noiseSuppression: true, autoGainControl: true };
  try {
    S.mic = await navigator.mediaDevices.getUserMedia({ audio: constraints, video: false });
  } catch (err) {
    throw new Error(p("mic_denied"));
  }
  const pc = new RTCPeerConnection({ iceServers: S.iceServers || [] });
  S.pc = pc;
  for (const track of S.mic.getAudioTracks()) pc.addTrack(track, S.mic);
  pc.ontrack = (ev) => { remote.srcObject = ev.streams[0] || new MediaStream([ev.track]); remote.play().catch(() => {}); };
  pc.oniceconnectionstatechange = () => {
    if (pc.iceConnectionState === "failed" && S.pc === pc) { send({ type: "hangup" }); endCall("ice_failed"); }
  };
  const offer = await pc.createOffer();
  await pc.setLocalDescription(offer);
  // Host candidates come within milliseconds on a LAN; STUN/TURN ones may trickle later.
  await new Promise((resolve) => {
    if (pc.iceGatheringState === "complete") return resolve();
    const done = () => { if (pc.iceGatheringState === "complete") resolve(); };
    pc.addEventListener("icegatheringstatechange", done);
    setTimeout(resolve, 1500);
  });
  const sentSdp = pc.localDescription.sdp;
  pc.onicecandidate = (ev) => {
    if (ev.candidate && !sentSdp.includes(ev.candidate.candidate)) send({ type: "candidate", candidate: ev.candidate.toJSON() });
  };
  return sentSdp;
}

async function dial() {
  const number = el.number.value.replace(/\s+/g, "");
  if (!number || S.state !== "idle" || !S.ready) return;
  el.error.textContent = "";
  S.state = "dialing";
  S.lastCall = null;
  status(p("connecting"));
  render();
  try {
    const sdp = await peer();
    send({ type: "call", number, sdp });
  } catch (err) {
    endCall(null);
    el.error.textContent = err.message;
  }
}

async function answer() {
  if (S.state !== "ringing" || !S.ringing) return;
  stopTone();
  const call = S.ringing.call;
  S.state = "connecting";
  S.callId = call;
  status(p("connecting"));
  render();
  try {
    const sdp = await peer();
    send({ type: "answer", call, sdp });
  } catch (err) {
    send({ type: "decline", call });
    endCall(null);
    el.error.textContent = err.message;
  }
}

function decline() {
  if (S.state !== "ringing" || !S.ringing) return;
  send({ type: "decline", call: S.ringing.call });
  stopTone();
  S.ringing = null;
  S.state = "idle";
  status(p("idle"));
  render();
}

function hangup() {
  if (S.state === "ringing") return decline();
  send({ type: "hangup" });
  endCall(null);
}

function endCall(reason) {
  stopTone();
  if (S.pc) { S.pc.close(); S.pc = null; }
  if (S.mic) { S.mic.getTracks().forEach((t) => t.stop()); S.mic = null; }
  remote.srcObject = null;
  const had = S.callId && S.startedAt ? S.callId : null;
  if (had) S.lastCall = had;
  S.callId = null;
  S.ringing = null;
  S.startedAt = null;
  S.muted = false;
  S.held = false;
  S.recPaused = false;
  S.state = "idle";
  if (reason === "transferred") {
    status(p("transferred"));
    return render();
  }
  const why = reason && !["bye", "hangup", "offline"].includes(reason) ? p(`reason_${reason}`) : "";
  status(why && !why.startsWith("reason_") ? `${p("ended")}: ${why}` : p("ended"), why ? "failed" : "");
  render();
}

function toggleMute() {
  if (!S.mic) return;
  S.muted = !S.muted;
  S.mic.getAudioTracks().forEach((t) => { t.enabled = !S.muted; });
  render();
}

function toggleHold() {
  if (S.state !== "in_call") return;
  send({ type: "hold", on: !S.held });
}

function transfer() {
  const to = el.transferTo.value.trim();
  if (S.state !== "in_call" || !to) return;
  send({ type: "transfer", to });
}

async function togglePause() {
  if (S.state !== "in_call" || !S.callId) return;
  const action = S.recPaused ? "resume" : "pause";
  try {
    await api(`/api/calls/${encodeURIComponent(S.callId)}/${action}`, { method: "POST" });
    S.recPaused = !S.recPaused;
  } catch (err) {
    el.error.textContent = err.message;
  }
  render();
}

function key(digit) {
  if (S.state === "in_call") send({ type: "dtmf", digit });
  else el.number.value += digit;
}

// -- enabling: one click unlocks sound, microphone and notifications --------------------------
async function enable() {
  el.error.textContent = "";
  try {
    S.audio = S.audio || new AudioContext();
    await S.audio.resume();
    remote.muted = false;
    if (!window.isSecureContext) throw new Error(p("insecure"));
    const probe = await navigator.mediaDevices.getUserMedia({ audio: true });
    probe.getTracks().forEach((t) => t.stop());
    if (window.Notification && Notification.permission === "default") Notification.requestPermission().catch(() => {});
  } catch (err) {
    el.error.textContent = err.message || p("mic_denied");
    return;
  }
  S.enabled = true;
  connect();
  render();
}

// -- after the call: its outcome and notes while they are fresh ---------------------------------
function afterCall() {
  if (!S.lastCall || S.state !== "idle") return null;
  const id = S.lastCall;
  const notes = h("textarea", { id: "after-notes", rows: 3, "aria-label": p("notes") });
  const msg = h("p", { class: "muted", role: "status" });
  let outcome = null;
  const pick = (value, btn) => {
    outcome = value;
    for (const b of btn.parentElement.children) b.setAttribute("aria-pressed", String(b === btn));
  };
  const choices = ["won", "lost", "follow_up"].map((value) => {
    const b = h("button", { type: "button", "aria-pressed": "false", onclick: (ev) => pick(value, ev.currentTarget) }, p(value));
    return b;
  });
  const save = async () => {
    const body = { notes: notes.value };
    if (outcome) body.outcome = outcome;
    try {
      await api(`/api/calls/${encodeURIComponent(id)}`, { method: "PATCH", body });
      msg.textContent = p("saved");
    } catch (err) {
      msg.textContent = p("save_failed");
    }
  };
  return h(
    "section", { class: "card after", "aria-label": p("outcome") },
    h("h2", {}, p("outcome")),
    h("div", { class: "outcomes", role: "group", "aria-label": p("outcome") }, choices),
    h("label", { for: "after-notes" }, p("notes")), notes,
    h("button", { type: "button", class: "primary", onclick: save }, p("save")),
    msg,
  );
}

// -- rendering ------------------------------------------------------------------------------------
function render() {
  if (!S.me) return;
  const busy = S.state !== "idle";
  el.enable.hidden = S.enabled;
  el.take.hidden = !S.replaced;
  el.replaced.hidden = !S.replaced;
  el.call.disabled = !S.ready || busy || S.replaced;
  el.answer.hidden = S.state !== "ringing";
  el.decline.hidden = S.state !== "ringing";
  el.hangup.disabled = !busy;
  el.mute.disabled = !S.mic;
  el.mute.setAttribute("aria-pressed", String(S.muted));
  el.hold.disabled = S.state !== "in_call";
  el.hold.textContent = S.held ? p("resume") : p("hold");
  el.hold.setAttribute("aria-pressed", String(S.held));
  el.transfer.disabled = S.state !== "in_call";
  el.pause.disabled = S.state !== "in_call";
  el.pause.textContent = S.recPaused ? p("rec_resume") : p("rec_pause");
  el.pause.setAttribute("aria-pressed", String(!!S.recPaused));
  clear(el.banner);
  el.banner.hidden = S.state !== "ringing";
  if (S.ringing) el.banner.append(p("incoming"), h("strong", {}, S.ringing.from || p("unknown")));
  clear(el.after);
  const after = afterCall();
  if (after) el.after.append(after);
}

function build() {
  el.status = h("p", { class: "status", role: "status", "aria-live": "polite" }, "");
  el.timer = h("p", { class: "timer", "aria-live": "off" }, "");
  el.error = h("p", { class: "error", role: "alert" });
  el.enable = h("button", { type: "button", class: "primary", onclick: enable }, p("enable"));
  el.replaced = h("p", { class: "muted" }, p("replaced"));
  el.take = h("button", { type: "button", onclick: () => { S.replaced = false; send({ type: "hello" }); } }, p("take_back"));
  el.banner = h("div", { class: "banner", role: "alert", hidden: true });
  el.number = h("input", { id: "number", type: "tel", inputmode: "tel", autocomplete: "off", onkeydown: (ev) => { if (ev.key === "Enter") dial(); } });
  el.call = h("button", { type: "button", class: "call", onclick: dial }, p("call"));
  el.answer = h("button", { type: "button", class: "call", onclick: answer, hidden: true }, p("answer"));
  el.decline = h("button", { type: "button", onclick: decline, hidden: true }, p("decline"));
  el.hangup = h("button", { type: "button", class: "hangup", onclick: hangup, disabled: true }, p("hangup"));
  el.mute = h("button", { type: "button", onclick: toggleMute, "aria-pressed": "false", disabled: true }, p("mute"));
  el.hold = h("button", { type: "button", onclick: toggleHold, "aria-pressed": "false", disabled: true }, p("hold"));
  el.pause = h("button", { type: "button", onclick: togglePause, "aria-pressed": "false", disabled: true }, p("rec_pause"));
  el.transferTo = h("input", { id: "transfer-to", inputmode: "numeric", autocomplete: "off" });
  el.transfer = h("button", { type: "button", onclick: transfer, disabled: true }, p("transfer"));
  const pad = h(
    "div", { class: "pad", role: "group", "aria-label": p("keypad") },
    ..."123456789*0#".split("").map((d) => h("button", { type: "button", "aria-label": d, onclick: () => key(d) }, d)),
  );
  el.after = h("div");
  const card = h(
    "section", { class: "card phone", "aria-label": p("phone") },
    h("h1", {}, `${p("phone")} · ${p("extension")} ${S.me.user.extension}`),
    el.enable, el.replaced, el.take, el.status, el.timer, el.banner,
    h("label", { for: "number" }, p("number")), el.number,
    h("div", { class: "actions" }, el.call, el.answer, el.decline, el.hangup),
    pad,
    h("div", { class: "actions" }, el.mute, el.hold, el.pause),
    h("label", { for: "transfer-to" }, p("transfer_to")),
    h("div", { class: "actions transfer" }, el.transferTo, el.transfer),
    el.error,
  );
  clear(main).append(card, el.after);
  setInterval(() => {
    el.timer.textContent = S.startedAt && S.state === "in_call" ? fmtClock((Date.now() - S.startedAt) / 1000) : "";
  }, 500);
  status(p("idle"));
  const number = query.get("number");
  if (number) el.number.value = number;  // "Call back" from a call page
  render();
}

function renderNav() {
  clear(nav);
  const other = language() === "et" ? "en" : "et";
  nav.append(
    h("a", { class: "link", href: "/" }, "☰"),
    h("button", { type: "button", class: "link", onclick: () => { setLanguage(other); location.search = `?lang=${other}`; } }, other.toUpperCase()),
  );
  if (S.me) nav.append(h("span", { class: "who" }, S.me.user.name));
}

function renderLogin(message) {
  const user = h("input", { id: "username", autocomplete: "username", required: true });
  const pass = h("input", { id: "password", type: "password", autocomplete: "current-password", required: true });
  const error = h("p", { class: "error", role: "alert" }, message || "");
  const form = h(
    "form",
    { class: "card login", onsubmit: async (ev) => {
      ev.preventDefault();
      try {
        await api("/api/auth/login", { method: "POST", body: { username: user.value, password: pass.value } });
        start();
      } catch (err) {
        error.textContent = p("login_failed");
        pass.value = "";
      }
    } },
    h("h1", {}, p("login")),
    h("label", { for: "username" }, p("username")), user,
    h("label", { for: "password" }, p("password")), pass,
    error,
    h("button", { type: "submit", class: "primary" }, p("login")),
  );
  clear(main).append(form);
}

async function start() {
  document.documentElement.lang = language();
  document.title = `${p("phone")} · Salvesti`;
  try {
    S.me = await api("/api/auth/me");
    setCsrf(S.me.csrf_token);
  } catch (err) {
    S.me = null;
  }
  renderNav();
  if (!S.me) return renderLogin();
  const info = await api("/api/phone").catch(() => ({ available: false }));
  if (!info.available) {
    clear(main).append(h("section", { class: "card" }, h("p", {}, p("no_phone"))));
    return null;
  }
  build();
  return null;
}

window.addEventListener("beforeunload", () => { if (S.ws) S.ws.close(); });
start().catch((err) => { if (!(err instanceof ApiError)) console.error(err); });
