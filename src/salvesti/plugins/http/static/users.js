// Admin page: users (add, change role/extension, disable) and API tokens (create, revoke).
// The same rules as the CLI apply on the server: passwords of 10+ characters, a token at most
// its user's role.
import { api } from "./api.js";
import { h, clear, fmtTime } from "./dom.js";
import { t, locale, timeZone } from "./i18n.js";

const ROLES = ["agent", "manager", "admin"];

export async function renderUsers({ main, me }) {
  const status = h("p", { class: "status", id: "users-status", role: "status" });
  const userRows = h("tbody", { id: "user-rows" });
  const tokenRows = h("tbody", { id: "token-rows" });
  const tokenOut = h("div", { id: "new-token", class: "new-token", hidden: true });
  const userSelect = h("select", { id: "token-user", name: "user" });

  async function load() {
    const [users, tokens] = await Promise.all([api("/api/users"), api("/api/tokens")]);
    const chosen = userSelect.value;
    clear(userRows);
    clear(userSelect);
    for (const user of users.users) {
      userSelect.append(h("option", { value: user.name, selected: user.name === chosen }, user.name));
      const role = h("select", { "aria-label": t("role"), onchange: () => change(user.name, { role: role.value }) },
        ROLES.map((r) => h("option", { value: r, selected: r === user.role }, r)));
      const ext = h("input", { value: user.extension || "", "aria-label": t("extension"), size: 6,
        onchange: () => change(user.name, { extension: ext.value.trim() || null }) });
      const disabled = h("input", { type: "checkbox", checked: user.disabled, "aria-label": t("disabled"),
        onchange: () => change(user.name, { disabled: disabled.checked }) });
      const self = user.name === me.user.name;
      if (self) { role.disabled = true; disabled.disabled = true; }
      userRows.append(h("tr", { dataset: { name: user.name } },
        h("td", {}, user.name), h("td", {}, role), h("td", {}, ext), h("td", {}, disabled),
        h("td", {}, self ? "" : h("button", { type: "button", class: "danger small", onclick: () => remove(user.name) }, t("delete")))));
    }
    clear(tokenRows);
    for (const tok of tokens.tokens) {
      tokenRows.append(h("tr", {},
        h("td", {}, String(tok.id)), h("td", {}, tok.user), h("td", {}, tok.role), h("td", {}, tok.name || ""),
        h("td", {}, tok.last_used_at ? fmtTime(tok.last_used_at, locale(), timeZone()) : "–"),
        h("td", {}, tok.revoked_at ? t("revoked")
          : h("button", { type: "button", class: "danger small", onclick: () => revoke(tok.id) }, t("revoke")))));
    }
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
  const change = (name, body) => run(() => api(`/api/users/${encodeURIComponent(name)}`, { method: "PATCH", body }));
  const remove = (name) => confirm(`${t("delete")} ${name}?`) && run(() => api(`/api/users/${encodeURIComponent(name)}`, { method: "DELETE" }));
  const revoke = (id) => run(() => api(`/api/tokens/${id}`, { method: "DELETE" }));

  const addForm = h("form", { class: "inline-form", id: "add-user", onsubmit: (ev) => {
    ev.preventDefault();
    const data = new FormData(addForm);
    const body = { name: data.get("name"), role: data.get("role"), password: data.get("password") };
    if (data.get("extension")) body.extension = data.get("extension");
    run(async () => {
      await api("/api/users", { method: "POST", body });
      addForm.reset();
    });
  } },
    h("label", {}, t("username"), h("input", { name: "name", required: true, autocomplete: "off" })),
    h("label", {}, t("role"), h("select", { name: "role" }, ROLES.map((r) => h("option", { value: r }, r)))),
    h("label", {}, t("extension"), h("input", { name: "extension", autocomplete: "off" })),
    h("label", {}, t("password"), h("input", { name: "password", type: "password", minlength: 10, required: true, autocomplete: "new-password" })),
    h("button", { type: "submit", class: "primary" }, t("add")));

  const tokenForm = h("form", { class: "inline-form", id: "add-token", onsubmit: (ev) => {
    ev.preventDefault();
    const data = new FormData(tokenForm);
    const body = { user: data.get("user"), name: data.get("name") || "" };
    if (data.get("role")) body.role = data.get("role");
    run(async () => {
      const res = await api("/api/tokens", { method: "POST", body });
      tokenOut.hidden = false;
      clear(tokenOut).append(h("p", {}, t("token_once")), h("code", { id: "token-value" }, res.token));
    });
  } },
    h("label", {}, t("user"), userSelect),
    h("label", {}, t("role"), h("select", { name: "role" }, h("option", { value: "" }, t("same_role")), ROLES.map((r) => h("option", { value: r }, r)))),
    h("label", {}, t("label"), h("input", { name: "name", autocomplete: "off" })),
    h("button", { type: "submit", class: "primary" }, t("create_token")));

  clear(main).append(
    h("h1", {}, t("users")),
    h("section", { class: "card" },
      h("div", { class: "table-wrap" }, h("table", {},
        h("thead", {}, h("tr", {}, h("th", {}, t("username")), h("th", {}, t("role")), h("th", {}, t("extension")), h("th", {}, t("disabled")), h("th", {}, ""))),
        userRows)),
      h("h2", {}, t("add_user")), addForm),
    h("section", { class: "card" },
      h("h2", {}, t("tokens")),
      h("div", { class: "table-wrap" }, h("table", {},
        h("thead", {}, h("tr", {}, h("th", {}, "#"), h("th", {}, t("user")), h("th", {}, t("role")), h("th", {}, t("label")), h("th", {}, t("last_used")), h("th", {}, ""))),
        tokenRows)),
      tokenForm, tokenOut),
    status);
  await load();
  return null;
}
