// The test call page (admins and managers): ring an extension, follow the call on the event
// stream, open its page when it ends so the owner sees the waveform and plays it back.
import { api, ApiError } from "./api.js";
import { h, clear } from "./dom.js";
import { t, tf } from "./i18n.js";

const SECONDS = [5, 10, 20, 30];

export async function renderTestCall({ main }) {
  let info;
  try {
    info = await api("/api/test-call");
  } catch (err) {
    clear(main).append(h("p", { class: "error", role: "alert" }, err.message));
    return null;
  }
  const ringS = Math.round(info.ring_s || 30);
  const def = Math.round((info.seconds && info.seconds.default) || 5);
  const intro = h("p", { class: "muted", id: "test-intro" }, tf("test_call_intro", { s: def }));
  const seconds = h("select", { id: "test-seconds", name: "seconds", onchange: () => {
    intro.textContent = tf("test_call_intro", { s: seconds.value });
  } }, SECONDS.map((s) => h("option", { value: s, selected: s === def }, String(s))));
  const status = h("p", { class: "status test-status", id: "test-status", role: "status", "aria-live": "polite" });
  const rows = h("tbody", { id: "test-rows" });
  const buttons = [];

  // Events are opened before any click, so a call that ends quickly is never missed; the ones
  // that arrive before the POST's answer are kept by call id.
  const events = new EventSource("/api/events");
  const seen = new Map();
  let current = null;
  let poll = null;

  const busy = (on) => { for (const b of buttons) b.disabled = on || b.dataset.registered !== "true"; };

  function finish(call) {
    if (!current || call.id !== current.id || current.done) return;
    current.done = true;
    clearInterval(poll);
    const ext = current.ext;
    if (call.disposition === "answered" && call.recording && call.recording.sha256) {
      status.textContent = t("test_recorded");
      location.hash = `#/calls/${encodeURIComponent(call.id)}`;
      return;
    }
    const key = call.disposition === "answered" ? "test_no_recording"
      : call.disposition === "no_answer" ? "test_no_answer"
        : call.disposition === "busy" ? "test_busy" : "test_failed";
    status.replaceChildren(
      h("span", { class: "error", role: "alert" }, tf(key, { ext, s: ringS })), " ",
      h("a", { href: `#/calls/${encodeURIComponent(call.id)}`, id: "test-open-call" }, t("test_open_call")));
    busy(false);
  }

  function onEvent(name) {
    return (ev) => {
      let data;
      try { data = JSON.parse(ev.data); } catch (err) { return; }
      if (!data || !data.id) return;
      seen.set(data.id, { name, data });
      if (!current || data.id !== current.id) return;
      if (name === "call_answered") status.textContent = t("test_answered");
      if (name === "call_ended") finish(data);
    };
  }
  events.addEventListener("call_answered", onEvent("call_answered"));
  events.addEventListener("call_ended", onEvent("call_ended"));
  let dropped = false;
  events.onerror = () => { dropped = true; };
  events.onopen = () => {
    // Back after a drop: the end may have happened meanwhile.
    if (dropped) look();
    dropped = false;
  };

  async function start(ext) {
    busy(true);
    status.textContent = tf("test_ringing", { ext });
    let call;
    try {
      call = await api("/api/test-call", { method: "POST", body: { extension: ext, seconds: Number(seconds.value) } });
    } catch (err) {
      const reason = err instanceof ApiError && err.data ? err.data.reason : null;
      const text = reason === "not_registered" ? tf("test_not_registered", { ext })
        : reason === "in_progress" ? tf("test_in_progress", { ext }) : err.message;
      status.replaceChildren(h("span", { class: "error", role: "alert" }, text));
      busy(false);
      return;
    }
    current = { id: call.id, ext, done: false };
    const early = seen.get(call.id);
    if (early && early.name === "call_ended") return finish(early.data);
    if (early && early.name === "call_answered") status.textContent = t("test_answered");
    // A safety net for a dropped event stream: while it is down, look at the call now and
    // then (each look is a "view" in the audit log, so never while the stream is up).
    poll = setInterval(() => { if (events.readyState !== EventSource.OPEN) look(); }, 3000);
  }

  async function look() {
    if (!current || current.done) return;
    try {
      const now = await api(`/api/calls/${encodeURIComponent(current.id)}`);
      if (now.ended_at) finish(now);
    } catch (err) {
      // try again on the next tick
    }
  }

  for (const target of info.extensions) {
    const button = h("button", {
      type: "button", class: "primary", id: `test-call-${target.extension}`,
      "aria-label": tf("test_call_of", { ext: target.extension }),
      dataset: { registered: String(target.registered) },
      disabled: !target.registered || target.in_progress,
      onclick: () => start(target.extension),
    }, t("test_call"));
    buttons.push(button);
    rows.append(h("tr", { dataset: { extension: target.extension } },
      h("td", {}, target.extension),
      h("td", {}, target.name || ""),
      h("td", { class: target.registered ? "ok" : "muted" }, target.registered ? `● ${t("test_registered")}` : t("test_not_registered_short")),
      h("td", {}, button)));
  }

  clear(main).append(h("section", { class: "card test-call" },
    h("h1", {}, t("test_call")),
    intro,
    h("label", { for: "test-seconds" }, t("test_seconds"), " ", seconds),
    info.extensions.length
      ? h("div", { class: "table-wrap" }, h("table", {},
        h("thead", {}, h("tr", {}, h("th", {}, t("extension")), h("th", {}, t("test_name")), h("th", {}, t("test_phone")), h("th", {}, ""))),
        rows))
      : h("p", { class: "empty" }, t("test_no_extensions")),
    status));
  return () => {
    clearInterval(poll);
    events.close();
  };
}
