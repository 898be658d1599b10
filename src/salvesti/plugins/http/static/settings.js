// Settings (#/settings, managers and admins): what config.yaml sets, read-only.  The file owns
// these settings; the page shows each with the file and line to edit (config.yaml:14).
import { api, ApiError } from "./api.js";
import { h, clear } from "./dom.js";
import { t, tf } from "./i18n.js";

function where(value) {
  return value ? h("code", { class: "where" }, value) : h("span", { class: "muted" }, t("where_default"));
}

function table(headers, rows) {
  if (!rows.length) return h("p", { class: "empty" }, t("settings_none"));
  return h("div", { class: "table-wrap" }, h("table", {},
    h("thead", {}, h("tr", {}, [...headers, t("settings_where")].map((x) => h("th", {}, x)))),
    h("tbody", {}, rows.map(([cells, at, key]) =>
      h("tr", { dataset: { setting: key } }, cells.map((c) => h("td", {}, c ?? "–")), h("td", {}, where(at)))))));
}

function sourceCard(src) {
  const carrier = [
    ...(src.trunk ? [[[t("settings_trunk"), src.trunk.registrar, src.trunk.username], src.trunk.where, `${src.id}.trunk`]] : []),
    ...src.accounts.map((a) => [[tf("settings_account", { line: a.line }), a.registrar, a.username], a.where, `${src.id}.account.${a.line}`]),
  ];
  return h("section", { class: "card settings-source", id: `settings-source-${src.id}` },
    h("h2", {}, tf("settings_source", src), " ", where(src.where)),
    h("h3", {}, t("settings_lines")),
    table([t("number")], src.lines.map((l) => [[l.number], l.where, `${src.id}.line.${l.number}`])),
    carrier.length ? [h("h3", {}, t("settings_carrier")),
      table(["", t("settings_registrar"), t("settings_username")], carrier)] : null,
    h("h3", {}, t("settings_extensions")),
    table([t("extension"), t("settings_name")], src.extensions.map((e) => [[e.user, e.name], e.where, `${src.id}.extension.${e.user}`])),
    src.inbound.length ? [h("h3", {}, t("settings_inbound")),
      table([t("line"), t("settings_extensions")], src.inbound.map((r) => [[r.line, r.extensions.join(", ")], r.where, `${src.id}.inbound.${r.line}`]))] : null);
}

function matchText(match) {
  const parts = Object.entries(match || {}).map(([k, v]) => `${k}: ${[].concat(v).join(", ")}`);
  return parts.length ? parts.join("; ") : t("settings_all_calls");
}

export async function renderSettings({ main }) {
  let data;
  try {
    data = await api("/api/settings");
  } catch (err) {
    const forbidden = err instanceof ApiError && err.status === 403;
    clear(main).append(h("p", { class: forbidden ? "empty" : "error", role: "alert" }, forbidden ? t("settings_forbidden") : `${t("error")}: ${err.message}`));
    return null;
  }
  clear(main).append(
    h("h1", {}, t("settings_title")),
    h("p", { class: "muted", id: "settings-intro" }, t("settings_intro")),
    ...data.sources.map(sourceCard),
    h("section", { class: "card", id: "settings-retention" }, h("h2", {}, t("settings_retention")),
      table([t("settings_rule"), t("settings_days"), t("settings_match")],
        data.retention.map((r) => [[r.id, r.days, matchText(r.match)], r.where, `retention.${r.id}`]))),
    h("section", { class: "card", id: "settings-notices" }, h("h2", {}, t("settings_notices")),
      table([t("settings_rule"), t("settings_notice_file"), t("settings_directions")],
        data.notices.map((n) => [[n.id, n.file, (n.directions || []).map((d) => t(d)).join(", ")], n.where, `notice.${n.id}`]))));
  return null;
}
