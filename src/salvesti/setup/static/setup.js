// The setup wizard: one step at a time, each sent to the server, which checks it with the
// config schema's own rules.  Nothing is written to disk before the last step.
import { audioUrl, call, hasToken, setToken } from "./setup_api.js";
import { clear, clearProblems, field, h, showProblems } from "./setup_form.js";
import { LANG, say, t } from "./setup_i18n.js";

const STEPS = ["owner", "purpose", "carrier", "numbers", "notice", "retention", "employees", "finish"];
const main = document.getElementById("main");
const status = (text) => { document.getElementById("status").textContent = text; };
let info = { presets: [], notices: [], employees_file: "data/informed-employees.txt" };
let state = null;

async function refresh() {
  const r = await call("GET", "/api/setup/state");
  if (r.status === 200) state = r.data;
  return r.status;
}

function nav(current) {
  const list = clear(document.getElementById("steps"));
  document.getElementById("steps-nav").setAttribute("aria-label", t("steps_label"));
  for (const step of STEPS) {
    const done = state && state.done.includes(step);
    list.append(h("li", { class: done ? "done" : "", "aria-current": step === current ? "step" : null,
      dataset: { step } }, t(`step_${step}`)));
  }
}

function show(step) {
  nav(step);
  clear(main);
  VIEWS[step]();
  main.querySelector("h1")?.focus();
}

function next(step) { show(STEPS[STEPS.indexOf(step) + 1]); }

function gone() {
  nav(null);
  clear(main).append(h("h1", { tabindex: "-1" }, t("done_title")), h("p", {}, t("done_gone")));
}

/** A step's form: heading, lead text, fields, Back and Next. */
function stepForm(step, lead, children, onSubmit, { submit = t("next") } = {}) {
  const headingId = `h-${step}`;
  const form = h("form", { novalidate: true, "aria-labelledby": headingId, dataset: { step } },
    h("h1", { id: headingId, tabindex: "-1" }, t(`step_${step}`)),
    lead ? h("p", { class: "lead" }, lead) : null,
    children,
    h("div", { class: "actions" },
      step !== "owner" ? h("button", { type: "button", onclick: () => show(STEPS[STEPS.indexOf(step) - 1]) }, t("back")) : null,
      h("button", { type: "submit", class: "primary" }, submit)));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearProblems(form);
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    try { await onSubmit(form); } finally { button.disabled = false; }
  });
  main.append(form);
  return form;
}

/** Send one step; null when the server refused it (its problems are shown). */
async function send(form, path, body) {
  const r = await call("POST", path, body);
  if (r.status === 410) { gone(); return null; }
  if (r.status === 401) { show("owner"); return null; }
  if (!r.data.ok) { showProblems(form, r.data.problems, status); return { refused: r.data }; }
  await refresh();
  status(t("saved"));
  return r.data;
}

const value = (form, name) => form.querySelector(`[data-field="${CSS.escape(name)}"]`)?.value ?? "";

// -- 1. owner (with the setup code) --------------------------------------------------------------
function owner() {
  const fields = [
    hasToken() ? null : field(t("code"), "code", { hint: t("code_hint"), class: "code", autocomplete: "one-time-code", required: true }),
    field(t("owner_name"), "name", { value: state?.owner || "", autocomplete: "username", required: true }),
    field(t("password"), "password", { type: "password", hint: t("password_hint"), autocomplete: "new-password", required: true }),
    field(t("again"), "again", { type: "password", autocomplete: "new-password", required: true }),
  ];
  stepForm("owner", t("owner_lead"), fields, async (form) => {
    if (!hasToken()) {
      const r = await call("POST", "/api/setup/code", { code: value(form, "code") });
      if (r.status === 410) return gone();
      if (!r.data.ok) return showProblems(form, r.data.problems, status);
      setToken(r.data.token);
    }
    const done = await send(form, "/api/setup/step/owner",
      { name: value(form, "name"), password: value(form, "password"), again: value(form, "again") });
    if (done && !done.refused) next("owner");
  });
}

// -- 2. purpose ----------------------------------------------------------------------------------
function purpose() {
  const box = field(t("purpose"), "purpose", { multiline: true, value: state?.purpose || "", required: true });
  const examples = h("div", { class: "examples", role: "group", "aria-label": t("examples") },
    h("span", { class: "hint" }, t("examples")),
    ["ex_quality", "ex_sales", "ex_orders"].map((key) => h("button", { type: "button", onclick: () => {
      const input = box.querySelector("textarea");
      input.value = t(key);
      input.focus();
    } }, t(key))));
  stepForm("purpose", t("purpose_lead"), [box, examples], async (form) => {
    const done = await send(form, "/api/setup/step/purpose", { purpose: value(form, "purpose") });
    if (done && !done.refused) next("purpose");
  });
}

// -- 3. carrier ----------------------------------------------------------------------------------
function probeResult(result, line) {
  const text = (line ? `${line}: ` : "") + say(result.words);
  return h("p", { class: `result ${result.ok ? "ok" : "bad"}`, role: "status" }, text);
}

function accountFields(prefix, example, withLine) {
  return [
    withLine ? field(t("line"), `${prefix}line`, { placeholder: example.line || "", inputmode: "tel" }) : null,
    field(t("registrar"), `${prefix}registrar`, { hint: withLine ? "" : t("registrar_hint"), placeholder: example.registrar || "" }),
    field(t("sip_user"), `${prefix}username`, { placeholder: example.username || "", autocomplete: "off" }),
    field(t("sip_password"), `${prefix}password`, { type: "password", autocomplete: "new-password" }),
  ];
}

function readAccount(form, prefix) {
  return { line: value(form, `${prefix}line`), registrar: value(form, `${prefix}registrar`),
    username: value(form, `${prefix}username`), password: value(form, `${prefix}password`) };
}

function carrier() {
  const details = h("div", { id: "carrier-details" });
  const results = h("div", { id: "probe-results", "aria-live": "polite" });
  let rows = 1;
  const choose = (preset) => {
    clear(details);
    clear(results);
    if (preset.shape === "trunk") {
      details.append(...accountFields("", preset.example, false).filter(Boolean),
        field(t("numbers"), "numbers", { multiline: true, hint: t("numbers_hint"), placeholder: (preset.example.numbers || []).join("\n") }),
        h("div", { class: "actions" }, h("button", { type: "button", onclick: async () => {
          status(t("trying"));
          const form = main.querySelector("form");
          clearProblems(form);
          const r = await call("POST", "/api/setup/probe", readAccount(form, ""));
          clear(results);
          if (!r.data.ok) return showProblems(form, r.data.problems, status);
          results.append(probeResult(r.data.probe));
          status(say(r.data.probe.words));
        } }, t("try_it"))));
    } else if (preset.shape === "accounts") {
      const list = h("div", { id: "accounts" });
      const addRow = () => {
        const i = list.children.length;
        list.append(h("fieldset", { class: "row", dataset: { for: `accounts.${i}` } },
          h("legend", {}, `${t("line")} ${i + 1}`), accountFields(`accounts.${i}.`, preset.example, true)));
      };
      for (let i = 0; i < rows; i++) addRow();
      details.append(list, h("div", { class: "actions", dataset: { for: "accounts" } },
        h("button", { type: "button", onclick: () => { rows += 1; addRow(); } }, t("add_number"))));
    }
  };
  const presets = h("fieldset", { dataset: { for: "preset" } }, h("legend", {}, t("step_carrier")),
    info.presets.map((p, i) => h("label", { class: "choice" },
      h("input", { type: "radio", name: "preset", value: p.id, checked: i === 0, dataset: { field: i === 0 ? "preset" : null },
        onchange: () => choose(p) }),
      h("span", {}, say(p.title), h("small", {}, say(p.help))))));
  const anyway = h("label", { class: "choice", hidden: true, id: "save-anyway" },
    h("input", { type: "checkbox", name: "save_anyway" }), h("span", {}, t("save_anyway")));
  const form = stepForm("carrier", t("carrier_lead"), [presets, details, results, anyway], async (form) => {
    const chosen = info.presets.find((p) => p.id === form.querySelector("input[name=preset]:checked").value);
    const body = { preset: chosen.id, save_anyway: form.querySelector("input[name=save_anyway]").checked };
    if (chosen.shape === "trunk") Object.assign(body, readAccount(form, ""), { numbers: value(form, "numbers") });
    if (chosen.shape === "accounts") body.accounts = [...form.querySelectorAll("#accounts fieldset")].map((_, i) => readAccount(form, `accounts.${i}.`));
    status(t("trying"));
    const done = await send(form, "/api/setup/step/carrier", body);
    clear(results);
    const probes = done?.probes || done?.refused?.probes || [];
    probes.forEach((p) => results.append(probeResult(p, p.line)));
    if (done && !done.refused) next("carrier");
    else if (probes.length) anyway.hidden = false;
  });
  choose(info.presets[0]);
  return form;
}

// -- 4. numbers and who rings --------------------------------------------------------------------
function numbers() {
  const lines = state?.carrier?.lines || [];
  const list = h("div", { id: "extensions", dataset: { for: "extensions" } });
  const rings = h("div", { id: "inbound" });
  const exts = () => [...list.querySelectorAll("fieldset")].map((fs, i) => ({
    user: value(fs, `extensions.${i}.user`), name: value(fs, `extensions.${i}.name`) }));
  const drawRings = () => {
    const chosen = Object.fromEntries([...rings.querySelectorAll("input:checked")].map((c) => [`${c.name}|${c.value}`, true]));
    clear(rings);
    if (!lines.length) rings.append(h("p", { class: "hint" }, t("no_lines")));
    for (const line of lines) {
      const had = state?.inbound?.[line] || [];
      rings.append(h("fieldset", { dataset: { for: `inbound.${line}` } }, h("legend", {}, `${t("who_rings")} ${line}`),
        exts().filter((e) => e.user).map((e) => h("label", { class: "choice" },
          h("input", { type: "checkbox", name: line, value: e.user,
            checked: chosen[`${line}|${e.user}`] || had.includes(e.user) || (!Object.keys(chosen).length && !had.length),
            dataset: { field: `inbound.${line}` } }),
          h("span", {}, `${e.user}${e.name ? ` – ${e.name}` : ""}`)))));
    }
  };
  const addRow = (ext = { user: "", name: "" }) => {
    const i = list.children.length;
    const remove = () => {  // fields are named by position: draw the rest again
      const rest = exts().filter((_, j) => j !== i);
      clear(list);
      rest.forEach(addRow);
      if (!rest.length) drawRings();
    };
    list.append(h("fieldset", { class: "row" }, h("legend", {}, `${t("ext_user")} ${i + 1}`),
      field(t("ext_user"), `extensions.${i}.user`, { value: ext.user, inputmode: "numeric", oninput: drawRings }),
      field(t("ext_name"), `extensions.${i}.name`, { value: ext.name, oninput: drawRings }),
      h("button", { type: "button", onclick: remove, "aria-label": `${t("remove")} ${t("ext_user").toLowerCase()} ${i + 1}` },
        t("remove"))));
    drawRings();
  };
  (state?.extensions?.length ? state.extensions : [{ user: "101", name: "" }]).forEach(addRow);
  const add = h("button", { type: "button", onclick: () => {
    const n = list.children.length;
    addRow({ user: String(101 + n), name: "" });
    list.lastChild.querySelector("input").focus();
  } }, t("add_phone"));
  const form = stepForm("numbers", t("numbers_lead"), [list, h("div", { class: "actions" }, add), rings], async (form) => {
    const inbound = {};
    for (const line of lines) inbound[line] = [...form.querySelectorAll(`input[type=checkbox][name="${CSS.escape(line)}"]:checked`)].map((c) => c.value);
    const done = await send(form, "/api/setup/step/numbers", { extensions: exts(), inbound });
    if (!done || done.refused) return;
    const passwords = Object.entries(done.passwords || {});
    if (!passwords.length) return next("numbers");
    clear(main).append(h("section", { "aria-labelledby": "h-pw" },
      h("h1", { id: "h-pw", tabindex: "-1" }, t("step_numbers")),
      h("p", { class: "result ok" }, t("passwords_once")),
      h("table", { class: "passwords" },
        h("thead", {}, h("tr", {}, h("th", { scope: "col" }, t("ext_user")), h("th", { scope: "col" }, t("password")))),
        h("tbody", {}, passwords.map(([user, pw]) => h("tr", {}, h("th", { scope: "row" }, user), h("td", {}, h("code", {}, pw)))))),
      h("div", { class: "actions" }, h("button", { type: "button", class: "primary", onclick: () => next("numbers") }, t("next")))));
    main.querySelector("h1").focus();
  });
  return form;
}

// -- 5. notice -----------------------------------------------------------------------------------
function notice() {
  const audio = h("audio", { controls: true, id: "notice-audio", "aria-label": t("listen"), preload: "auto" });
  const play = async (query) => {
    const url = await audioUrl(query);
    if (url) audio.src = url;
  };
  const langs = ["et", "ru", "en"].map((lang) => {
    const have = info.notices.includes(lang);
    return h("label", { class: "choice" },
      h("input", { type: "radio", name: "notice", value: lang, disabled: !have, dataset: { field: lang === "et" ? "language" : null },
        checked: have && (state?.notice ? state.notice.kind === "bundled" && state.notice.language === lang : lang === info.notices[0]),
        onchange: () => play(`lang=${lang}`) }),
      h("span", {}, t(`lang_${lang}`), have ? null : h("small", {}, t("not_bundled"))));
  });
  const file = h("input", { type: "file", accept: "audio/wav,audio/x-wav,.wav", id: "notice-file", dataset: { field: "upload" },
    "aria-describedby": "upload-hint" });
  const uploadRadio = h("input", { type: "radio", name: "notice", value: "upload", checked: state?.notice?.kind === "upload" });
  const uploaded = h("p", { class: "result ok", hidden: true }, t("uploaded"));
  file.addEventListener("change", async () => {
    if (!file.files.length) return;
    uploadRadio.checked = true;
    const form = main.querySelector("form");
    clearProblems(form);
    const r = await call("POST", "/api/setup/notice/upload", file.files[0]);
    if (!r.data.ok) { uploaded.hidden = true; return showProblems(form, r.data.problems, status); }
    uploaded.hidden = false;
    status(t("uploaded"));
    await play("upload=1");
  });
  const group = h("fieldset", { dataset: { for: "language" } }, h("legend", {}, t("step_notice")), langs,
    h("label", { class: "choice", dataset: { for: "upload" } }, uploadRadio, h("span", {}, t("upload"),
      h("small", { id: "upload-hint" }, t("upload_hint")))),
    h("label", { for: "notice-file", class: "sr-only" }, t("upload")), file, uploaded);
  const form = stepForm("notice", t("notice_lead"), [group, h("label", { for: "notice-audio" }, t("listen")), audio], async (form) => {
    const chosen = form.querySelector("input[name=notice]:checked")?.value;
    const body = chosen === "upload" ? { kind: "upload" } : { kind: "bundled", language: chosen || "" };
    const done = await send(form, "/api/setup/step/notice", body);
    if (done && !done.refused) next("notice");
  });
  const first = form.querySelector("input[name=notice]:checked");
  if (first && first.value !== "upload") play(`lang=${first.value}`);
  else if (first) play("upload=1");
  return form;
}

// -- 6. retention --------------------------------------------------------------------------------
function retention() {
  const lines = state?.carrier?.lines || [];
  const group = (key, legend) => {
    const had = state?.retention?.[key];
    const preset = had === undefined ? 10 : had;
    const other = ![10, 60].includes(preset);
    const number = h("input", { type: "number", min: "0", max: "36500", step: "1", value: String(preset),
      dataset: { field: `days.${key}` }, "aria-label": `${legend}: ${t("other")} (${t("days")})`, disabled: !other });
    const radio = (days) => h("label", { class: "choice" },
      h("input", { type: "radio", name: `days-${key}`, value: String(days), checked: !other && preset === days,
        onchange: () => { number.disabled = true; number.value = String(days); } }), h("span", {}, `${days} ${t("days")}`));
    return h("fieldset", { dataset: { for: `days.${key}`, key } }, h("legend", {}, legend), radio(10), radio(60),
      h("label", { class: "choice" }, h("input", { type: "radio", name: `days-${key}`, value: "other", checked: other,
        onchange: () => { number.disabled = false; number.focus(); } }), h("span", {}, t("other"))), number);
  };
  const groups = [...lines.map((line) => group(line, `${t("days_for")} ${line}`)), group("default", t("days_other"))];
  stepForm("retention", t("retention_lead"), groups, async (form) => {
    const days = {};
    for (const fs of form.querySelectorAll("fieldset[data-key]")) days[fs.dataset.key] = fs.querySelector("input[type=number]").value;
    const done = await send(form, "/api/setup/step/retention", { days });
    if (done && !done.refused) next("retention");
  });
}

// -- 7. employees --------------------------------------------------------------------------------
function employees() {
  const box = field(t("employees"), "employees", { multiline: true, hint: t("employees_hint"),
    value: (state?.employees || []).join("\n") });
  stepForm("employees", `${t("employees_lead")} ${info.employees_file}.`, [box], async (form) => {
    const list = value(form, "employees").split("\n").map((x) => x.trim()).filter(Boolean);
    const done = await send(form, "/api/setup/step/employees", { employees: list });
    if (done && !done.refused) next("employees");
  });
}

// -- finish --------------------------------------------------------------------------------------
function finish() {
  const rows = [
    [t("step_owner"), state?.owner], [t("step_purpose"), state?.purpose],
    [t("step_carrier"), (state?.carrier?.lines || []).join(", ") || "–"],
    [t("step_numbers"), (state?.extensions || []).map((e) => `${e.user} ${e.name}`).join(", ")],
    [t("step_retention"), Object.entries(state?.retention || {}).map(([k, v]) => `${k}: ${v}`).join(", ")],
  ];
  const summary = h("dl", {}, rows.map(([k, v]) => [h("dt", {}, k), h("dd", {}, v || "–")]));
  stepForm("finish", t("finish_lead"), [summary], async (form) => {
    status(t("writing"));
    const r = await call("POST", "/api/setup/finish");
    if (r.status === 410) return gone();
    if (!r.data.ok) return showProblems(form, r.data.problems, status);
    nav(null);
    clear(main).append(h("section", { "aria-labelledby": "h-done" },
      h("h1", { id: "h-done", tabindex: "-1" }, t("done_title")),
      h("p", {}, t("done_files")), h("ul", {}, r.data.files.map((f) => h("li", {}, h("code", {}, f)))),
      h("p", {}, `${t("done_admin")}: ${r.data.admin}`),
      r.data.admin_error ? h("p", { class: "result bad" }, r.data.admin_error) : null,
      h("p", {}, t("done_start")), h("pre", {}, r.data.start),
      h("p", {}, t("done_next"))));
    main.querySelector("h1").focus();
    status(t("done_title"));
  }, { submit: t("write") });
}

const VIEWS = { owner, purpose, carrier, numbers, notice, retention, employees, finish };

async function boot() {
  document.documentElement.lang = LANG;
  document.title = t("title");
  const link = document.getElementById("lang");
  link.textContent = t("other_lang");
  link.href = LANG === "en" ? "?" : "?lang=en";
  link.lang = LANG === "en" ? "et" : "en";
  const r = await call("GET", "/api/setup/info");
  if (r.status === 410) return gone();
  info = r.data;
  if (hasToken() && (await refresh()) === 410) return gone();
  const todo = state ? STEPS.find((s) => !state.done.includes(s)) : "owner";
  show(todo || "finish");
}

boot();
