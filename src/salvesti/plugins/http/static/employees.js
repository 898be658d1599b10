// Employees informed (GDPR, AKI): the admin's register page with the open data subject
// requests, the banner an employee sees until they acknowledge the current notice, and the
// employee's own list of who listened to their calls.
import { api } from "./api.js";
import { h, clear, fmtTime } from "./dom.js";
import { t, tf, language, locale, timeZone } from "./i18n.js";

// The notice is Markdown from the server; a small subset is enough and stays text-only
// (headings, bullets, paragraphs) so nothing in it can become markup.
function noticeNodes(text) {
  const out = [];
  let list = null;
  for (const line of (text || "").split("\n")) {
    if (line.startsWith("- ")) {
      if (!list) out.push((list = h("ul", {})));
      list.append(h("li", {}, line.slice(2)));
      continue;
    }
    list = null;
    if (line.startsWith("## ")) out.push(h("h4", {}, line.slice(3)));
    else if (line.startsWith("# ")) out.push(h("h3", {}, line.slice(2)));
    else if (line.trim()) out.push(h("p", {}, line.replace(/^_(.*)_$/, "$1")));
  }
  return out;
}

// The banner above every page while the user's employee entry lacks the current version.
export async function renderNoticeBanner(banner, me) {
  clear(banner);
  banner.hidden = true;
  if (!me.user.extension) return;
  let mine;
  try {
    mine = await api(`/api/employees/me?lang=${language()}`);
  } catch (err) {
    return;
  }
  if (!mine.employee || mine.acknowledged || !mine.notice.version) return;
  const status = h("p", { class: "status", role: "status" });
  const confirm = h("button", { type: "button", class: "primary", id: "notice-ack", onclick: async () => {
    confirm.disabled = true;
    try {
      await api("/api/employees/me/acknowledge", { method: "POST", body: { version: mine.notice.version } });
      clear(banner).append(h("p", { id: "notice-thanks" }, t("notice_thanks")));
    } catch (err) {
      status.textContent = `${t("error")}: ${err.message}`;
      confirm.disabled = false;
    }
  } }, t("notice_confirm"));
  banner.append(
    h("h2", {}, t("notice_banner_title")),
    h("p", {}, mine.notice.required ? t("notice_banner_required") : t("notice_banner_text")),
    h("details", { id: "notice-text", open: true }, h("summary", {}, tf("notice_version", { version: mine.notice.version })),
      h("div", { class: "notice-text" }, noticeNodes(mine.notice.text))),
    confirm, status);
  banner.hidden = false;
}

export async function renderEmployees({ main }) {
  const status = h("p", { class: "status", id: "employees-status", role: "status" });
  const rows = h("tbody", { id: "employee-rows" });
  const requestRows = h("tbody", { id: "request-rows" });
  const version = h("span", { id: "notice-version" });

  async function load() {
    const [reg, reqs] = await Promise.all([api("/api/employees"), api("/api/subject-requests")]);
    version.textContent = reg.notice_version || t("notice_none");
    clear(rows);
    for (const e of reg.employees) {
      const ack = e.acknowledgement;
      const paperDate = h("input", { type: "date", "aria-label": t("paper_date"), required: true });
      const paper = h("form", { class: "inline-form", onsubmit: (ev) => {
        ev.preventDefault();
        run(() => api(`/api/employees/${e.id}/acknowledgements`, { method: "POST", body: { date: paperDate.value } }));
      } }, paperDate, h("button", { type: "submit", class: "small" }, t("paper_record")));
      rows.append(h("tr", { dataset: { extension: e.extension }, class: ack ? "" : "missing" },
        h("td", {}, e.extension), h("td", {}, e.name),
        h("td", { class: "ack" }, ack
          ? `✓ ${ack.method === "paper" ? t("ack_paper") : t("ack_web")} ${ack.method === "paper" ? ack.acknowledged_on : fmtTime(ack.acknowledged_on, locale(), timeZone())}`
          : `✗ ${t("ack_missing")}`),
        h("td", {}, ack || !reg.notice_version ? "" : paper),
        h("td", {}, h("button", { type: "button", class: "danger small", onclick: () => confirm(`${t("employee_left")}: ${e.name}?`) && run(() => api(`/api/employees/${e.id}`, { method: "DELETE" })) }, t("employee_left")))));
    }
    if (!reg.employees.length) rows.append(h("tr", {}, h("td", { colspan: 5 }, t("no_employees"))));
    clear(requestRows);
    for (const r of reqs.requests) {
      requestRows.append(h("tr", { class: r.overdue ? "overdue" : "", dataset: { id: r.id } },
        h("td", {}, r.kind === "erase" ? t("request_erase") : t("request_export")), h("td", {}, r.number),
        h("td", {}, r.received), h("td", {}, r.deadline),
        h("td", {}, r.overdue ? `⚠ ${t("overdue")}` : tf("days_left", { n: r.days_left }))));
    }
    if (!reqs.requests.length) requestRows.append(h("tr", {}, h("td", { colspan: 5 }, t("no_requests"))));
  }

  async function run(action) {
    status.textContent = "";
    try {
      await action();
      await load();
    } catch (err) {
      status.textContent = `${t("error")}: ${err.message}`;
    }
  }

  const addForm = h("form", { class: "inline-form", id: "add-employee", onsubmit: (ev) => {
    ev.preventDefault();
    const data = new FormData(addForm);
    run(async () => {
      await api("/api/employees", { method: "POST", body: { name: data.get("name"), extension: data.get("extension") } });
      addForm.reset();
    });
  } },
    h("label", {}, t("employee_name"), h("input", { name: "name", required: true, autocomplete: "off" })),
    h("label", {}, t("extension"), h("input", { name: "extension", required: true, autocomplete: "off", size: 6 })),
    h("button", { type: "submit", class: "primary" }, t("add")));

  clear(main).append(
    h("h1", {}, t("employees")),
    h("section", { class: "card" },
      h("p", {}, t("employees_intro"), " ", h("strong", {}, t("notice_current")), " ", version),
      h("div", { class: "table-wrap" }, h("table", { id: "employees" },
        h("thead", {}, h("tr", {}, h("th", {}, t("extension")), h("th", {}, t("employee_name")), h("th", {}, t("acknowledgement")), h("th", {}, t("paper")), h("th", {}, ""))),
        rows)),
      h("h2", {}, t("add_employee")), addForm),
    h("section", { class: "card" },
      h("h2", {}, t("subject_requests")),
      h("p", { class: "status" }, t("subject_requests_intro")),
      h("div", { class: "table-wrap" }, h("table", { id: "requests" },
        h("thead", {}, h("tr", {}, h("th", {}, t("request_kind")), h("th", {}, t("number")), h("th", {}, t("received")), h("th", {}, t("deadline")), h("th", {}, ""))),
        requestRows))),
    status);
  await load();
  return null;
}

// An employee's own page: who played or downloaded calls of their extension.
export async function renderListens({ main }) {
  const rows = h("tbody", { id: "listen-rows" });
  clear(main).append(h("h1", {}, t("my_listens")),
    h("section", { class: "card" }, h("p", {}, t("my_listens_intro")),
      h("div", { class: "table-wrap" }, h("table", {},
        h("thead", {}, h("tr", {}, h("th", {}, t("time")), h("th", {}, t("user")), h("th", {}, t("action")), h("th", {}, t("calls")))),
        rows))));
  const { entries } = await api("/api/employees/me/listens");
  for (const e of entries) {
    rows.append(h("tr", {}, h("td", {}, fmtTime(e.at, locale(), timeZone())), h("td", {}, e.user || ""),
      h("td", {}, e.action === "download" ? t("download") : t("play")),
      h("td", {}, h("a", { href: `#/calls/${encodeURIComponent(e.call_id)}` }, e.call_id))));
  }
  if (!entries.length) rows.append(h("tr", {}, h("td", { colspan: 4 }, t("no_listens"))));
  return null;
}
