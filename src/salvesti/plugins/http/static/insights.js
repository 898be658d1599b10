// Insights (#/insights, managers and admins): what goes with won calls, over analysed calls that
// have an outcome.  Aggregates only, never per person; counts are shown next to every score so
// that nobody over-reads three calls.
import { api, ApiError } from "./api.js";
import { h, svg, clear } from "./dom.js";
import { t, tf, fmtNum, fmtPercent, timeZone } from "./i18n.js";
import { fmtSeconds } from "./analysis.js";

const OUTCOMES = ["won", "lost", "follow_up"];
const DAYS = 90;

function paramsFromHash(hash) {
  return new URLSearchParams(hash.includes("?") ? hash.slice(hash.indexOf("?") + 1) : "");
}

// YYYY-MM-DD of a moment in the box's time zone (what the date inputs and the server mean).
function isoDay(date) {
  try {
    return new Intl.DateTimeFormat("en-CA", { timeZone: timeZone(), year: "numeric", month: "2-digit", day: "2-digit" }).format(date);
  } catch (err) {
    return date.toISOString().slice(0, 10);
  }
}

export async function renderInsights({ main }, hash) {
  const params = paramsFromHash(hash);
  const now = new Date();
  const since = params.get("since") || isoDay(new Date(now.getTime() - DAYS * 86400000));
  const until = params.get("until") || isoDay(now);
  const line = params.get("line") || "";
  const direction = params.get("direction") || "";

  const form = h("form", { class: "filters insights-filters", id: "insights-filters", onsubmit: (ev) => {
    ev.preventDefault();
    const data = new FormData(form);
    const next = new URLSearchParams();
    for (const name of ["since", "until", "line", "direction"]) if (data.get(name)) next.set(name, data.get(name));
    location.hash = `#/insights?${next}`;
  } },
  h("div", { class: "filter-grid" },
    h("label", {}, t("since"), h("input", { type: "date", name: "since", id: "i-since", value: since })),
    h("label", {}, t("until"), h("input", { type: "date", name: "until", id: "i-until", value: until })),
    h("label", {}, t("line"), h("input", { name: "line", id: "i-line", value: line, inputmode: "tel", autocomplete: "off" })),
    h("label", {}, t("direction"), h("select", { name: "direction", id: "i-direction" },
      h("option", { value: "" }, t("any")),
      ["inbound", "outbound", "internal"].map((d) => h("option", { value: d, selected: d === direction }, t(d))))),
  ),
  h("div", { class: "filter-actions" }, h("button", { type: "submit", class: "primary" }, t("show"))));

  const body = h("div", { id: "insights" });
  const privacy = h("p", { class: "privacy", id: "privacy-notice" }, t("privacy_notice"));
  clear(main).append(h("h1", {}, t("insights")), form, body, privacy);

  const query = new URLSearchParams();
  query.set("since", `${since}T00:00:00`);
  query.set("until", `${until}T23:59:59`);
  if (line) query.set("line", line);
  if (direction) query.set("direction", direction);
  let data;
  try {
    data = await api(`/api/insights?${query}`);
  } catch (err) {
    const forbidden = err instanceof ApiError && err.status === 403;
    if (forbidden) form.remove();
    body.append(h("p", { class: forbidden ? "empty" : "error", id: "insights-error", role: "alert" },
      forbidden ? t("insights_forbidden") : `${t("error")}: ${err.message}`));
    return null;
  }
  if (!data.calls || !data.analysed_calls) {
    body.append(h("p", { class: "empty", id: "insights-empty" }, t("insights_empty")));
    if (data.note) body.append(h("p", { class: "note muted" }, data.note));
    return null;
  }
  body.append(
    summary(data),
    weekChart(data.by_week || []),
    talkTable(data.talk_by_outcome || {}),
    liftTable("phrases", t("phrases"), t("phrase"), data.phrases || [], (row) => row.phrase, data.min_calls),
    (data.trackers || []).length ? liftTable("trackers", t("trackers"), t("tracker"), data.trackers, (row) => row.id) : null,
    data.note ? h("p", { class: "note muted", id: "insights-note" }, data.note) : null,
  );
  return null;
}

function summary(data) {
  const o = data.outcomes || {};
  return h("section", { class: "card summary", id: "insights-summary" },
    h("div", { class: "stat" }, h("span", { class: "stat-n", id: "total-calls" }, String(data.calls)), h("span", { class: "stat-l" }, t("total_calls"))),
    OUTCOMES.map((k) => h("div", { class: `stat stat-${k}` },
      h("span", { class: "stat-n", id: `count-${k}` }, String(o[k] ?? 0)),
      h("span", { class: "stat-l" }, h("span", { class: `badge badge-${k}` }, t(k))))));
}

// Outcomes per ISO week as stacked bars, each with its total above and a <title> per bar.
function weekChart(weeks) {
  const section = h("section", { class: "card", "aria-labelledby": "by-week-title" }, h("h2", { id: "by-week-title" }, t("by_week")));
  if (!weeks.length) return section;
  const barW = 34;
  const gap = 14;
  const top = 18;
  const plot = 150;
  const width = Math.max(320, weeks.length * (barW + gap) + gap);
  const height = top + plot + 34;
  const max = Math.max(1, ...weeks.map((w) => OUTCOMES.reduce((sum, k) => sum + (w[k] || 0), 0)));
  const chart = svg("svg", { class: "week-chart", id: "week-chart", viewBox: `0 0 ${width} ${height}`, width, height, role: "img", "aria-labelledby": "week-chart-title" },
    svg("title", { id: "week-chart-title" }, t("by_week")),
    svg("line", { class: "axis", x1: 0, x2: width, y1: top + plot + 0.5, y2: top + plot + 0.5 }));
  weeks.forEach((w, i) => {
    const x = gap + i * (barW + gap);
    const total = OUTCOMES.reduce((sum, k) => sum + (w[k] || 0), 0);
    const group = svg("g", { class: "week" },
      svg("title", {}, tf("week_title", { week: w.week, won: w.won || 0, lost: w.lost || 0, follow_up: w.follow_up || 0 })));
    let y = top + plot;
    for (const k of OUTCOMES) {
      const n = w[k] || 0;
      if (!n) continue;
      const hgt = (n / max) * plot;
      y -= hgt;
      group.append(svg("rect", { class: `bar bar-${k}`, x, y, width: barW, height: hgt }));
      if (hgt >= 14) group.append(svg("text", { class: `bar-n bar-n-${k}`, x: x + barW / 2, y: y + hgt / 2 + 4, "text-anchor": "middle" }, String(n)));
    }
    group.append(
      svg("text", { class: "bar-total", x: x + barW / 2, y: y - 4, "text-anchor": "middle" }, String(total)),
      svg("text", { class: "bar-week", x: x + barW / 2, y: top + plot + 16, "text-anchor": "middle" }, w.week.replace(/^\d{4}-/, "")),
    );
    chart.append(group);
  });
  const legend = h("p", { class: "chart-legend" }, OUTCOMES.map((k) => h("span", { class: `swatch swatch-${k}` }, t(k))));
  section.append(h("div", { class: "chart-wrap" }, chart), legend);
  return section;
}

function talkTable(byOutcome) {
  const rows = [
    ["calls", t("total_calls"), (v) => (v === null || v === undefined ? "–" : String(v))],
    ["agent_share", t("agent_share"), fmtPercent],
    ["agent_s", t("agent_talk"), fmtSeconds],
    ["outside_s", t("outside_talk"), fmtSeconds],
    ["longest_monologue_agent_s", t("agent_monologue"), fmtSeconds],
    ["interruptions_agent", t("agent_interruptions"), (v) => fmtNum(v, 1)],
    ["question_rate", t("question_rate"), (v) => fmtNum(v, 1)],
    ["response_latency_agent_s", t("agent_latency"), fmtSeconds],
  ];
  return h("section", { class: "card", "aria-labelledby": "talk-title" },
    h("h2", { id: "talk-title" }, t("talk_by_outcome")),
    h("div", { class: "table-wrap" }, h("table", { id: "talk-table", class: "numbers" },
      h("thead", {}, h("tr", {}, h("th", { scope: "col" }, t("metric")), OUTCOMES.map((k) => h("th", { scope: "col" }, t(k))))),
      h("tbody", {}, rows.map(([key, label, format]) => h("tr", { dataset: { metric: key } },
        h("th", { scope: "row" }, label),
        OUTCOMES.map((k) => h("td", {}, format(byOutcome[k] ? byOutcome[k][key] : null)))))))));
}

// Phrases or trackers: counts per outcome and a diverging bar of lift (right/green: goes with
// won calls; left/red: with lost calls).
function liftTable(id, title, label, rows, name, minCalls) {
  const section = h("section", { class: "card", "aria-labelledby": `${id}-title` }, h("h2", { id: `${id}-title` }, title));
  if (!rows.length) {
    section.append(h("p", { class: "muted" }, tf("no_phrases", { n: minCalls ?? 3 })));
    return section;
  }
  const scale = Math.max(0.001, ...rows.map((r) => Math.abs(r.lift || 0)));
  section.append(h("div", { class: "table-wrap" }, h("table", { id: `${id}-table`, class: "lift-table" },
    h("thead", {}, h("tr", {},
      h("th", { scope: "col" }, label),
      OUTCOMES.map((k) => h("th", { scope: "col", class: "num" }, t(k))),
      h("th", { scope: "col", class: "lift-col" },
        h("span", { class: "lift-axis" }, h("span", {}, `← ${t("goes_with_lost")}`), h("span", {}, `${t("goes_with_won")} →`))))),
    h("tbody", {}, rows.map((row) => h("tr", { dataset: { name: name(row) } },
      h("th", { scope: "row", class: "phrase" }, name(row)),
      OUTCOMES.map((k) => h("td", { class: `num count-${k}` }, String(row[k] ?? 0))),
      h("td", { class: "lift-col" }, liftBar(row, scale))))))));
  return section;
}

function liftBar(row, scale) {
  const lift = row.lift || 0;
  const bar = h("span", { class: `lift-bar ${lift >= 0 ? "lift-won" : "lift-lost"}` });
  const half = (Math.abs(lift) / scale) * 50;
  bar.style.width = `${half}%`;
  bar.style.left = lift >= 0 ? "50%" : `${50 - half}%`;
  const value = `${lift > 0 ? "+" : ""}${fmtNum(lift, 2)}`;
  return h("span", { class: "lift", role: "img", title: `lift ${value}${row.z === null || row.z === undefined ? "" : `, z ${fmtNum(row.z, 1)}`}`,
    "aria-label": `${value} (${lift >= 0 ? t("goes_with_won") : t("goes_with_lost")})` },
  h("span", { class: "lift-track" }, h("span", { class: "lift-mid" }), bar),
  h("span", { class: "lift-value" }, value));
}
