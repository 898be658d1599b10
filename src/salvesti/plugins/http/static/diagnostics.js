// Diagnostics (#/diagnostics, managers and admins): why the phones may not work, in plain words.
// The API gives each check's state, i18n keys and details; the words are filled in here, so the
// page reads the same in Estonian and English.  It checks again every 15 s while open.
import { api, ApiError } from "./api.js";
import { h, clear, fmtTime } from "./dom.js";
import { t, tf, fmtNum, locale, timeZone } from "./i18n.js";

const GROUPS = ["carrier", "nat", "extensions", "media", "disk", "clock", "components", "sources"];
const REFRESH_MS = 15000;
const ICON = { ok: "✓", warn: "!", fail: "✕" };

function when(iso) {
  return iso ? fmtTime(iso, locale(), timeZone()) : "–";
}

export function fmtBytes(n) {
  if (n === null || n === undefined) return "–";
  const units = ["B", "kB", "MB", "GB", "TB"];
  let value = n;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit += 1;
  }
  return `${fmtNum(value, unit && value < 10 ? 1 : 0)} ${units[unit]}`;
}

// The values the title and advice strings are filled with: the details, with sizes and times
// made readable, and a few names composed in the UI's language.
function wordsFor(check) {
  const d = check.details || {};
  const vars = {};
  for (const [key, value] of Object.entries(d)) {
    if (value === null || value === undefined) vars[key] = "–";
    else if (key.endsWith("_bytes")) vars[key.slice(0, -6)] = fmtBytes(value);
    else if (key.endsWith("_at") || key === "now") vars[key] = when(value);
    else if (typeof value !== "object") vars[key] = value;
  }
  if ("key" in d) vars.label = d.line ? tf("diag_account", { line: d.line }) : t("diag_trunk");
  if ("name" in d && check.group === "extensions") vars.name = d.name ? `· ${d.name}` : "";
  if ("kind" in d && check.group === "components") vars.kind = t(`diag_kind_${d.kind}`);
  return vars;
}

function fact(label, value) {
  return h("div", { class: "fact" }, h("dt", {}, label), h("dd", {}, value ?? "–"));
}

function facts(check) {
  const d = check.details || {};
  switch (check.group) {
    case "carrier":
      return [
        fact(t("diag_fact_answer"), d.answer ? `${d.answer} · ${when(d.last_answer_at)}` : t("diag_no_answer_yet")),
        fact(t("diag_fact_registered"), when(d.registered_at)),
        fact(t("diag_fact_expires"), when(d.expires_at)),
        fact(t("diag_fact_registrar"), `${d.registrar} · ${d.username}`),
      ];
    case "nat":
      return [
        fact(t("diag_fact_public"), d.public),
        fact(t("diag_fact_local"), d.local),
        fact("external_address", d.external || t("diag_not_set")),
      ];
    case "extensions": {
      const where = (d.contacts || []).map((c) =>
        h("div", { class: "contact" },
          [c.address, c.transport, c.user_agent, c.user].filter(Boolean).join(" · "),
          c.expires_at ? ` · ${t("diag_fact_until")} ${when(c.expires_at)}` : ""));
      const last = d.last_call;
      return [
        fact(t("diag_fact_from"), where.length ? where : t("diag_nowhere")),
        fact(t("diag_fact_last_call"), last
          ? `${when(last.started_at)} · ${t(last.direction)}${last.disposition ? ` · ${t(last.disposition)}` : ""}`
          : t("diag_no_calls")),
      ];
    }
    case "media":
      return [fact(t("diag_fact_ports"), `UDP ${d.low}-${d.high}`)];
    case "disk":
      return [
        fact(t("diag_fact_free"), `${fmtBytes(d.free_bytes)} / ${fmtBytes(d.total_bytes)}`),
        fact(t("diag_fact_per_day"), d.per_day_bytes === null ? "–" : fmtBytes(d.per_day_bytes)),
        fact(t("diag_fact_retention"), d.retention_days === null ? t("diag_forever") : tf("diag_days", { n: d.retention_days })),
      ];
    case "clock":
      return [fact(t("diag_fact_box_time"), when(d.now)), fact(t("diag_fact_method"), d.method === "none" ? t("diag_method_none") : d.method)];
    case "components":
      return d.reason ? [fact(t("diag_fact_reason"), d.reason)] : [];
    default:
      return d.error ? [fact(t("diag_fact_reason"), d.error)] : [];
  }
}

// The config.yaml line a check's setting is written on: YAML owns it, the page only says where.
function whereFact(check) {
  const where = check.details?.where;
  if (!where) return null;
  return h("div", { class: "fact where" }, h("dt", {}, t("diag_fact_where")), h("dd", {}, h("code", {}, where)));
}

function checkItem(check) {
  const vars = wordsFor(check);
  const stateText = t(`diag_state_${check.state}`);
  return h("li", { class: `diag diag-${check.state}`, dataset: { id: check.id, state: check.state } },
    h("span", { class: "diag-icon", "aria-hidden": "true" }, ICON[check.state] || "?"),
    h("div", { class: "diag-body" },
      h("h3", {}, h("span", { class: "sr-only" }, `${stateText}: `), tf(check.title_key, vars)),
      h("p", { class: "advice" }, tf(check.advice_key, vars)),
      h("dl", { class: "facts" }, facts(check), whereFact(check))),
    h("span", { class: `diag-state state-${check.state}` }, stateText));
}

function report(data) {
  const sections = GROUPS.map((group) => {
    const checks = data.checks.filter((c) => c.group === group);
    if (!checks.length) return null;
    return h("section", { class: "card diag-group", id: `diag-${group}` },
      h("h2", {}, t(`diag_group_${group}`)),
      h("ul", { class: "diag-list" }, checks.map(checkItem)));
  });
  const summary = h("p", { class: `diag-summary state-${data.state}`, id: "diag-summary", role: "status" },
    tf("diag_summary", data.summary), " · ", tf("diag_checked_at", { at: when(data.generated_at) }));
  return [summary, ...sections.filter(Boolean)];
}

export async function renderDiagnostics({ main }) {
  const body = h("div", { id: "diagnostics", "aria-live": "polite" });
  const again = h("button", { type: "button", id: "diag-refresh", onclick: () => load() }, t("diag_refresh"));
  clear(main).append(
    h("div", { class: "diag-head" }, h("h1", {}, t("diag_title")), again),
    h("p", { class: "muted" }, t("diag_intro")),
    body,
  );
  let timer = null;
  let stopped = false;
  async function load() {
    clearTimeout(timer);
    let data;
    try {
      data = await api("/api/diagnostics");
    } catch (err) {
      if (stopped) return;
      const forbidden = err instanceof ApiError && err.status === 403;
      clear(body).append(h("p", { class: forbidden ? "empty" : "error", id: "diag-error", role: "alert" },
        forbidden ? t("diag_forbidden") : `${t("error")}: ${err.message}`));
      if (forbidden) again.remove();
      else timer = setTimeout(load, REFRESH_MS);
      return;
    }
    if (stopped) return;
    clear(body).append(...report(data));
    timer = setTimeout(load, REFRESH_MS);
  }
  await load();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
