// Salvesti web UI entry: session check, login form, navigation and the hash router.
import { api, ApiError, setCsrf } from "./api.js";
import { h, clear } from "./dom.js";
import { t, language, setLanguage, setTimeZone } from "./i18n.js";
import { renderList } from "./list.js";
import { renderCall } from "./call.js";
import { renderUsers } from "./users.js";
import { renderInsights } from "./insights.js";
import { renderTestCall } from "./testcall.js";
import { renderDiagnostics } from "./diagnostics.js";
import { renderSettings } from "./settings.js";
import { renderEmployees, renderListens, renderNoticeBanner } from "./employees.js";

const main = document.getElementById("main");
const nav = document.getElementById("nav");
const banner = document.getElementById("banner");
const state = { me: null, cleanup: null };

function renderNav() {
  clear(nav);
  const other = language() === "et" ? "en" : "et";
  nav.append(
    h("button", { class: "link", type: "button", lang: other, onclick: () => { setLanguage(other); route(); } }, t("language")),
  );
  if (state.me) {
    if (state.me.user.role !== "agent") nav.append(h("a", { class: "link", href: "#/insights", id: "nav-insights" }, t("insights")));
    if (state.me.user.role !== "agent") nav.append(h("a", { class: "link", href: "#/test-call", id: "nav-test-call" }, t("test_call")));
    if (state.me.user.role !== "agent") nav.append(h("a", { class: "link", href: "#/diagnostics", id: "nav-diagnostics" }, t("diagnostics")));
    if (state.me.user.role !== "agent") nav.append(h("a", { class: "link", href: "#/settings", id: "nav-settings" }, t("settings")));
    if (state.me.user.role === "admin") nav.append(h("a", { class: "link", href: "#/users", id: "nav-users" }, t("users")));
    if (state.me.user.role === "admin") nav.append(h("a", { class: "link", href: "#/employees", id: "nav-employees" }, t("employees")));
    if (state.me.user.extension) nav.append(h("a", { class: "link", href: "#/listens", id: "nav-listens" }, t("my_listens")));
    nav.append(
      h("span", { class: "who", title: state.me.user.role }, `${state.me.user.name} · ${state.me.user.role}`),
      h("button", { class: "link", type: "button", id: "logout", onclick: logout }, t("logout")),
    );
  }
}

async function logout() {
  try {
    await api("/api/auth/logout", { method: "POST" });
  } catch (err) {
    // The session may be gone already; show the login form either way.
  }
  state.me = null;
  setCsrf(null);
  route();
}

function renderLogin(message) {
  const user = h("input", { id: "username", name: "username", autocomplete: "username", required: true, autofocus: true });
  const pass = h("input", { id: "password", name: "password", type: "password", autocomplete: "current-password", required: true });
  const error = h("p", { class: "error", role: "alert" }, message || "");
  const form = h(
    "form",
    { class: "card login", onsubmit: async (ev) => {
      ev.preventDefault();
      error.textContent = "";
      try {
        const res = await api("/api/auth/login", { method: "POST", body: { username: user.value, password: pass.value } });
        setCsrf(res.csrf_token);
        state.me = await api("/api/auth/me");
        route();
      } catch (err) {
        error.textContent = err instanceof ApiError && err.status === 429 ? t("too_many") : t("login_failed");
        pass.value = "";
        pass.focus();
      }
    } },
    h("h1", {}, t("login")),
    h("label", { for: "username" }, t("username")), user,
    h("label", { for: "password" }, t("password")), pass,
    error,
    h("button", { type: "submit", class: "primary" }, t("login")),
  );
  clear(main).append(form);
  user.focus();
}

// Each navigation's number: a page that finishes loading after a newer navigation began is
// cleaned up at once instead of overwriting the newer page's cleanup.
let generation = 0;

async function route() {
  const mine = ++generation;
  document.documentElement.lang = language();
  document.title = t("app");
  if (state.cleanup) {
    state.cleanup();
    state.cleanup = null;
  }
  if (!state.me) {
    try {
      state.me = await api("/api/auth/me");
      setCsrf(state.me.csrf_token);
    } catch (err) {
      state.me = null;
    }
  }
  renderNav();
  if (!state.me) {
    clear(banner).hidden = true;
    return renderLogin();
  }
  setTimeZone(state.me.timezone);
  renderNoticeBanner(banner, state.me);
  const hash = location.hash || "#/";
  const match = hash.match(/^#\/calls\/([^?]+)/);
  const ctx = { main, me: state.me };
  let cleanup;
  if (hash.startsWith("#/users") && state.me.user.role === "admin") cleanup = await renderUsers(ctx);
  else if (hash.startsWith("#/employees") && state.me.user.role === "admin") cleanup = await renderEmployees(ctx);
  else if (hash.startsWith("#/listens")) cleanup = await renderListens(ctx);
  else if (hash.startsWith("#/insights")) cleanup = await renderInsights(ctx, hash);
  else if (hash.startsWith("#/test-call") && state.me.user.role !== "agent") cleanup = await renderTestCall(ctx);
  else if (hash.startsWith("#/diagnostics")) cleanup = await renderDiagnostics(ctx);
  else if (hash.startsWith("#/settings") && state.me.user.role !== "agent") cleanup = await renderSettings(ctx);
  else if (match) {
    const query = new URLSearchParams(hash.includes("?") ? hash.slice(hash.indexOf("?") + 1) : "");
    const at = query.has("t") ? Number(query.get("t")) : NaN;
    cleanup = await renderCall(ctx, decodeURIComponent(match[1]), { at });
  } else cleanup = await renderList(ctx, hash);
  if (mine !== generation) {
    if (cleanup) cleanup();
    return;
  }
  state.cleanup = cleanup;
}

window.addEventListener("hashchange", route);
window.addEventListener("salvesti:logout", () => {
  state.me = null;
  route();
});
route();
