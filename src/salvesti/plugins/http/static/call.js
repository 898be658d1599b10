// One call: its facts, the player, outcome/tags/notes (saved with PATCH), the audited download,
// and for admins the call's audit entries and deletion.
import { api, ApiError } from "./api.js";
import { h, clear, fmtDuration, fmtTime } from "./dom.js";
import { t, locale, timeZone } from "./i18n.js";
import { directionIcon, outcomeBadge } from "./list.js";
import { Player } from "./player.js";
import { mountAnalysis } from "./analysis.js";

function noticeEnd(call) {
  // The recording starts when the outside party's audio opens; the notice plays first.
  if (typeof call.notice_end_s === "number") return call.notice_end_s;
  const start = call.answered_at || call.started_at;
  if (!call.notice || !call.notice.played_at || !start) return 0;
  const offset = (new Date(call.notice.played_at) - new Date(start)) / 1000;
  return offset > 0.2 ? offset : 0;
}

// ``options.at``: a moment to start at (seconds), from #/calls/ID?t=12.3 (a search hit's line).
export async function renderCall({ main, me }, callId, options = {}) {
  let call;
  try {
    call = await api(`/api/calls/${encodeURIComponent(callId)}`);
  } catch (err) {
    clear(main).append(h("p", { class: "empty" }, err instanceof ApiError && err.status === 404 ? t("not_found") : t("error")),
      h("a", { href: "#/", class: "button" }, `← ${t("back")}`));
    return null;
  }
  const loc = locale();
  const hasRecording = call.recording && call.recording.status !== "deleted";
  const player = hasRecording ? new Player(call, noticeEnd(call)) : null;

  const facts = h("dl", { class: "facts" },
    fact(t("time"), fmtTime(call.started_at, loc, timeZone())),
    fact(t("duration"), call.ended_at ? fmtDuration(call.duration_s) : t("in_progress")),
    fact(t("direction"), t(call.direction)),
    fact(t("line"), call.line || "–"),
    fact(t("extension"), (call.extensions && call.extensions.length ? call.extensions.join(", ") : call.extension) || "–"),
    fact(t("disposition"), call.disposition ? t(call.disposition) : "–"),
    fact(t("notice"), call.notice && call.notice.played ? `${call.notice.name || ""} ${t("notice_played")}` : t("notice_missing")),
    fact(t("delete_after"), call.retention.delete_after ? fmtTime(call.retention.delete_after, loc, timeZone()) : "–"));

  const edit = editForm(call, me, (updated) => {
    call = updated;
    title.replaceChildren(...titleParts(call));
  });
  const title = h("h1", { class: "call-title" }, ...titleParts(call));
  const download = hasRecording
    ? h("a", { class: "button", id: "download", href: `/api/calls/${encodeURIComponent(call.id)}/audio?download=1`, download: "" }, `⬇ ${t("download")}`)
    : h("p", { class: "muted" }, call.recording ? t("deleted") : t("no_recording"));

  const admin = me.user.role === "admin" ? adminPanel(call) : null;
  // Player and, once the call is analysed, the transcript beside it (below on a phone) and the
  // metrics under it.
  const side = h("div", { class: "call-side" });
  const layout = h("div", { class: "call-main", id: "call-main" }, player ? player.el : null, side);
  clear(main).append(...[
    h("a", { href: "#/", class: "back" }, `← ${t("back")}`),
    title,
    layout,
    h("div", { class: "columns" },
      h("section", { class: "card" }, facts, download, callBack(call, me)),
      edit),
    admin].filter(Boolean));
  if (player) player.loadPeaks();
  if (player && Number.isFinite(options.at) && options.at >= 0) player.seekWhenReady(options.at);
  const unmount = hasRecording ? mountAnalysis({ call, player, layout, side }) : null;
  if (admin) admin.load();
  return () => {
    if (unmount) unmount();
    if (player) player.destroy();
  };
}

// "Call back": from the browser phone when this user has one (it opens with the number),
// else click-to-call (POST /api/calls/dial): the user's desk phone rings first.
function callBack(call, me) {
  if (!call.remote_number || !me.user.extension) return null;
  const status = h("span", { class: "muted", role: "status" });
  const button = h("button", { type: "button", id: "call-back", onclick: async () => {
    status.textContent = "";
    const phone = await api("/api/phone").catch(() => ({ available: false }));
    if (phone.available) {
      window.open(`/phone?number=${encodeURIComponent(call.remote_number)}`, "salvesti-phone");
      return;
    }
    try {
      await api("/api/calls/dial", { method: "POST", body: { number: call.remote_number, extension: me.user.extension } });
      status.textContent = t("call_back_ringing");
    } catch (err) {
      status.textContent = `${t("call_back_failed")}: ${err.message}`;
    }
  } }, `☎ ${t("call_back")}`);
  return h("div", { class: "row" }, button, status);
}

function titleParts(call) {
  const who = call.remote_number || (call.meta && call.meta.test_call ? t("test_call_title") : t("unknown"));
  return [directionIcon(call.direction), " ", who, " ", outcomeBadge(call.outcome)];
}

function fact(label, value) {
  return [h("dt", {}, label), h("dd", {}, value)];
}

function editForm(call, me, onSaved) {
  const outcomes = ["won", "lost", "follow_up", ""];
  let outcome = call.outcome || "";
  const buttons = outcomes.map((o) => h("button", {
    type: "button", class: `seg outcome-${o || "none"}`, id: `outcome-${o || "none"}`, "aria-pressed": String(outcome === o),
    onclick: () => {
      outcome = o;
      for (const b of buttons) b.setAttribute("aria-pressed", String(b === buttonFor(o)));
    },
  }, t(o || "none")));
  const buttonFor = (o) => buttons[outcomes.indexOf(o)];
  const tags = h("input", { id: "tags", name: "tags", value: call.tags.join(", "), placeholder: t("tags_hint") });
  const notes = h("textarea", { id: "notes", name: "notes", rows: 5, maxlength: 20000 }, call.notes || "");
  const canHold = me.user.role !== "agent";
  const hold = canHold ? h("input", { type: "checkbox", id: "legal-hold", checked: call.retention.legal_hold }) : null;
  const status = h("span", { class: "status", id: "save-status", role: "status" });
  const form = h("form", { class: "card edit", onsubmit: async (ev) => {
    ev.preventDefault();
    status.textContent = t("saving");
    const body = {
      outcome: outcome || null,
      tags: tags.value.split(",").map((s) => s.trim()).filter(Boolean),
      notes: notes.value,
    };
    if (hold) body.legal_hold = hold.checked;
    try {
      const updated = await api(`/api/calls/${encodeURIComponent(call.id)}`, { method: "PATCH", body });
      status.textContent = `✓ ${t("saved")}`;
      onSaved(updated);
    } catch (err) {
      status.textContent = `${t("save_failed")}: ${err.message}`;
    }
  } },
    h("fieldset", {}, h("legend", {}, t("outcome")), h("div", { class: "segmented" }, buttons)),
    h("label", { for: "tags" }, t("tags")), tags,
    h("label", { for: "notes" }, t("notes")), notes,
    hold ? h("label", { class: "check" }, hold, " ", t("legal_hold")) : null,
    h("div", { class: "row" }, h("button", { type: "submit", class: "primary", id: "save" }, t("save")), status));
  return form;
}

function adminPanel(call) {
  const body = h("tbody", { id: "audit-rows" });
  const del = h("button", { type: "button", class: "danger", id: "delete", disabled: !call.recording || call.recording.status === "deleted",
    onclick: async () => {
      if (!confirm(t("confirm_delete"))) return;
      try {
        await api(`/api/calls/${encodeURIComponent(call.id)}`, { method: "DELETE" });
        location.reload();
      } catch (err) {
        alert(err.message);
      }
    } }, t("delete_recording"));
  const panel = h("section", { class: "card audit" },
    h("h2", {}, t("audit")),
    h("div", { class: "table-wrap" }, h("table", {},
      h("thead", {}, h("tr", {}, h("th", {}, t("time")), h("th", {}, t("user")), h("th", {}, t("action")), h("th", {}, t("source")))),
      body)),
    del);
  panel.load = async () => {
    const res = await api(`/api/audit?call_id=${encodeURIComponent(call.id)}&limit=50`);
    clear(body);
    for (const e of res.entries) {
      body.append(h("tr", {}, h("td", {}, fmtTime(e.at, locale(), timeZone())), h("td", {}, e.user || ""), h("td", {}, e.action), h("td", {}, e.source_addr || "")));
    }
  };
  return panel;
}
