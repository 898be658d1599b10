// The call list: filters (kept in the URL), free-text search, keyset "load more" and live refresh
// from the server-sent event stream.
import { api } from "./api.js";
import { h, clear, fmtClock, fmtDuration, fmtTime } from "./dom.js";
import { t, locale, timeZone } from "./i18n.js";
import { textWithChips } from "./transcript.js";

const FILTERS = ["q", "number", "direction", "outcome", "tag", "extension", "since", "until", "flag", "unhealthy"];
const FLAGS = ["notice_unverified", "card_data"];
// The after-call recording health check's reasons (salvesti.core.call.HealthReason).
const HEALTH = ["no_recording", "recording_short", "channel_no_audio", "channel_silent", "packet_loss"];
const ARROWS = { inbound: "↙", outbound: "↗", internal: "⇄" };

export function directionIcon(direction) {
  return h("span", { class: `dir dir-${direction}`, title: t(direction), "aria-label": t(direction), role: "img" }, ARROWS[direction] || "?");
}

export function outcomeBadge(outcome) {
  return outcome ? h("span", { class: `badge badge-${outcome}` }, t(outcome)) : null;
}

function paramsFromHash(hash) {
  const query = hash.includes("?") ? hash.slice(hash.indexOf("?") + 1) : "";
  return new URLSearchParams(query);
}

function toApiTime(value, endOfDay) {
  // <input type=date> gives YYYY-MM-DD; the server reads it in the box's time zone.
  if (!value) return null;
  return endOfDay ? `${value}T23:59:59` : `${value}T00:00:00`;
}

export async function renderList({ main, me }, hash) {
  const params = paramsFromHash(hash);
  const field = (name, attrs = {}) => h("input", { id: `f-${name}`, name, value: params.get(name) || "", ...attrs });
  const select = (name, options, label = (o) => t(o)) =>
    h("select", { id: `f-${name}`, name },
      h("option", { value: "" }, t("any")),
      options.map((o) => h("option", { value: o, selected: params.get(name) === o }, label(o))));

  const live = h("span", { id: "live", class: "live" }, "");
  const form = h("form", { class: "filters", role: "search", onsubmit: (ev) => {
    ev.preventDefault();
    const data = new FormData(form);
    const next = new URLSearchParams();
    for (const name of FILTERS) if (data.get(name)) next.set(name, data.get(name));
    location.hash = `#/?${next}`;
  } },
    h("input", { id: "f-q", name: "q", type: "search", class: "search", placeholder: t("search"), "aria-label": t("search"), value: params.get("q") || "" }),
    h("details", { class: "more-filters", id: "more-filters", open: FILTERS.some((n) => n !== "q" && params.get(n)) || window.matchMedia("(min-width: 721px)").matches },
      h("summary", {}, t("filters")),
      h("div", { class: "filter-grid" },
      h("label", {}, t("number"), field("number", { inputmode: "tel", autocomplete: "off" })),
      h("label", {}, t("direction"), select("direction", ["inbound", "outbound", "internal"])),
      h("label", {}, t("outcome"), select("outcome", ["won", "lost", "follow_up"])),
      h("label", {}, t("tag"), field("tag")),
      me.user.role === "agent" ? null : h("label", {}, t("extension"), field("extension")),
      h("label", {}, t("since"), field("since", { type: "date" })),
      h("label", {}, t("until"), field("until", { type: "date" })),
      h("label", {}, t("flag"), select("flag", FLAGS, (o) => t(`flag_${o}`))),
      h("label", {}, t("health"), select("unhealthy", ["any", ...HEALTH], (o) => t(o === "any" ? "unhealthy_any" : `health_${o}`))),
    )),
    h("div", { class: "filter-actions" },
      h("button", { type: "submit", class: "primary" }, t("filter")),
      h("a", { href: "#/", class: "button" }, t("clear")),
      live),
  );

  const list = h("ul", { class: "calls", id: "calls" });
  const more = h("button", { type: "button", class: "more", hidden: true }, t("load_more"));
  const empty = h("p", { class: "empty", hidden: true }, t("no_calls"));
  clear(main).append(h("h1", { class: "sr-only" }, t("calls")), form, list, empty, more);

  let cursor = null;
  let loading = false;
  async function load(reset) {
    if (loading) return;
    loading = true;
    const query = new URLSearchParams({ limit: "50" });
    for (const name of FILTERS) {
      let value = params.get(name);
      if (name === "since") value = toApiTime(value, false);
      if (name === "until") value = toApiTime(value, true);
      if (value) query.set(name, value);
    }
    if (!reset && cursor) query.set("cursor", cursor);
    try {
      const page = await api(`/api/calls?${query}`);
      if (reset) clear(list);
      for (const call of page.calls) list.append(row(call));
      cursor = page.next_cursor;
      more.hidden = !cursor;
      empty.hidden = list.children.length > 0;
    } finally {
      loading = false;
    }
  }
  more.addEventListener("click", () => load(false));
  await load(true);
  // Navigated elsewhere while the first page loaded: no live refresh for a list nobody sees.
  if (!list.isConnected) return null;

  // Live refresh: reload the first page when a call starts, ends or changes.
  const events = new EventSource("/api/events");
  let timer = null;
  const refresh = () => {
    clearTimeout(timer);
    timer = setTimeout(() => load(true), 300);
  };
  for (const name of ["call_started", "call_ended", "call_changed", "recording_deleted"]) events.addEventListener(name, refresh);
  events.onopen = () => { live.textContent = `● ${t("live")}`; live.className = "live on"; };
  events.onerror = () => { live.textContent = t("offline"); live.className = "live off"; };
  return () => {
    clearTimeout(timer);
    events.close();
  };
}

// Badges for what the analysis flagged for a person to look at.
export function flagBadges(analysis) {
  const flags = (analysis && analysis.flags) || [];
  return [
    flags.includes("notice_unverified")
      ? h("span", { class: "badge badge-warn flag-notice", title: t("notice_not_found") }, `⚠ ${t("flag_notice_unverified")}`) : null,
    flags.includes("card_data")
      ? h("span", { class: "badge badge-review flag-card", title: t("flag_card_data") }, t("review")) : null,
  ];
}

// One badge per recording health problem; the title says what exactly (channel, figures).
export function healthBadges(health) {
  return (health || []).map((p) =>
    h("span", { class: `badge badge-warn health-${p.reason}`, title: p.channel ? `${t(p.channel === "heard" ? "channel_right" : "channel_left")}: ${p.detail}` : p.detail },
      `⚠ ${t(`health_${p.reason}`)}`));
}

// A search snippet: the words that matched are between « and »; shown in <mark>, built as nodes.
export function snippetNodes(snippet) {
  const out = [];
  for (const part of String(snippet || "").split(/(«[^»]*»)/)) {
    if (!part) continue;
    if (part.startsWith("«") && part.endsWith("»")) out.push(h("mark", {}, part.slice(1, -1)));
    else out.push(...textWithChips(part.replace(/[«»]/g, "")));
  }
  return out;
}

function matchLine(call) {
  const m = call.match;
  if (!m) return null;
  const at = Math.max(0, Number(m.start_s) || 0);
  return h("a", { class: "match", href: `#/calls/${encodeURIComponent(call.id)}?t=${Math.floor(at * 10) / 10}` },
    h("time", { class: "match-time" }, fmtClock(at)),
    h("span", { class: `match-party party-${m.channel === "agent" ? "agent" : "outside"}` },
      t(m.channel === "agent" ? "party_agent" : "party_outside")),
    h("span", { class: "match-text" }, snippetNodes(m.snippet)));
}

function row(call) {
  const who = call.remote_number || (call.meta && call.meta.test_call ? t("test_call_title") : t("unknown"));
  const duration = call.ended_at ? fmtDuration(call.duration_s) : t("in_progress");
  return h("li", { class: "call", dataset: { id: call.id } },
    h("a", { class: "call-link", href: `#/calls/${encodeURIComponent(call.id)}` },
      directionIcon(call.direction),
      h("span", { class: "who" }, who, call.extension ? h("small", {}, ` → ${call.extension}`) : null),
      h("span", { class: "when" }, fmtTime(call.started_at, locale(), timeZone())),
      h("span", { class: "dur" }, duration),
      h("span", { class: "meta" },
        outcomeBadge(call.outcome),
        call.tags.map((tag) => h("span", { class: "tag" }, tag)),
        call.notes ? h("span", { class: "has-notes", title: t("notes") }, "✎") : null,
        call.recording && call.recording.status === "deleted" ? h("span", { class: "tag muted" }, "∅") : null,
        flagBadges(call.analysis),
        healthBadges(call.health)),
    ),
    matchLine(call));
}
