// UI strings in Estonian (default) and English. The server picks the default language
// (http.language); a user's choice is remembered in this browser.
const STRINGS = {
  et: {
    app: "Salvesti", login: "Logi sisse", logout: "Logi välja", username: "Kasutajanimi",
    password: "Parool", login_failed: "Vale kasutajanimi või parool", too_many: "Liiga palju katseid, proovi hiljem uuesti",
    calls: "Kõned", search: "Otsi märkmetest, siltidest, numbritest…", number: "Number", direction: "Suund",
    any: "Kõik", inbound: "Sissetulev", outbound: "Väljuv", internal: "Sisekõne", outcome: "Tulemus",
    won: "Õnnestus", lost: "Ebaõnnestus", follow_up: "Jätkata", none: "Puudub", tag: "Silt", tags: "Sildid",
    since: "Alates", until: "Kuni", extension: "Sisenumber", line: "Liin", filter: "Filtreeri", clear: "Tühjenda",
    load_more: "Näita veel", no_calls: "Kõnesid ei leitud.", duration: "Kestus", time: "Aeg",
    notes: "Märkmed", save: "Salvesta", saved: "Salvestatud", save_failed: "Salvestamine ebaõnnestus",
    back: "Tagasi", download: "Laadi alla", play: "Esita", pause: "Paus", speed: "Kiirus",
    both: "Mõlemad", left: "Vasak", right: "Parem", skip_notice: "Jäta teade vahele",
    channel_left: "Vasak kanal: mida väline osapool ütles", channel_right: "Parem kanal: mida väline osapool kuulis",
    legal_hold: "Õiguslik säilitamine", delete_after: "Kustutatakse", delete_recording: "Kustuta salvestis",
    confirm_delete: "Kustutada selle kõne salvestis jäädavalt?", deleted: "Salvestis on kustutatud",
    no_recording: "Salvestist pole", disposition: "Olek", answered: "Vastatud", no_answer: "Vastamata",
    busy: "Kinni", cancelled: "Katkestatud", failed: "Ebaõnnestus", notice: "Teavitus", notice_played: "esitatud",
    notice_missing: "esitamata", audit: "Auditilogi", user: "Kasutaja", action: "Tegevus", source: "Aadress",
    live: "Reaalajas", offline: "Ühendus katkes", shortcuts: "Kiirklahvid",
    shortcuts_text: "Tühik esita/paus · ←/→ 5 s · Shift+←/→ 15 s · −/+ kiirus · 0 mõlemad · 1 vasak · 2 parem · S jäta teade vahele",
    filters: "Filtrid", tags_hint: "komadega eraldatud", not_found: "Kõnet ei leitud", language: "English", unknown: "tundmatu",
    in_progress: "käib", saving: "Salvestan…", error: "Viga",
    users: "Kasutajad", role: "Roll", disabled: "Keelatud", delete: "Kustuta", add: "Lisa", add_user: "Lisa kasutaja",
    tokens: "API-võtmed", revoke: "Tühista", revoked: "tühistatud", label: "Nimetus", last_used: "Viimati kasutatud",
    create_token: "Loo võti", same_role: "kasutaja roll", token_once: "Kopeeri võti kohe: seda ei näidata enam.",
  },
  en: {
    app: "Salvesti", login: "Log in", logout: "Log out", username: "User name",
    password: "Password", login_failed: "Wrong user name or password", too_many: "Too many attempts, try again later",
    calls: "Calls", search: "Search notes, tags, numbers…", number: "Number", direction: "Direction",
    any: "Any", inbound: "Inbound", outbound: "Outbound", internal: "Internal", outcome: "Outcome",
    won: "Won", lost: "Lost", follow_up: "Follow up", none: "None", tag: "Tag", tags: "Tags",
    since: "From", until: "To", extension: "Extension", line: "Line", filter: "Filter", clear: "Clear",
    load_more: "Load more", no_calls: "No calls found.", duration: "Duration", time: "Time",
    notes: "Notes", save: "Save", saved: "Saved", save_failed: "Could not save",
    back: "Back", download: "Download", play: "Play", pause: "Pause", speed: "Speed",
    both: "Both", left: "Left", right: "Right", skip_notice: "Skip notice",
    channel_left: "Left channel: what the outside party said", channel_right: "Right channel: what the outside party heard",
    legal_hold: "Legal hold", delete_after: "Deleted after", delete_recording: "Delete recording",
    confirm_delete: "Delete this call's recording for good?", deleted: "The recording was deleted",
    no_recording: "No recording", disposition: "Result", answered: "Answered", no_answer: "No answer",
    busy: "Busy", cancelled: "Cancelled", failed: "Failed", notice: "Notice", notice_played: "played",
    notice_missing: "not played", audit: "Audit log", user: "User", action: "Action", source: "Address",
    live: "Live", offline: "Disconnected", shortcuts: "Shortcuts",
    shortcuts_text: "Space play/pause · ←/→ 5 s · Shift+←/→ 15 s · −/+ speed · 0 both · 1 left · 2 right · S skip notice",
    filters: "Filters", tags_hint: "comma separated", not_found: "Call not found", language: "Eesti", unknown: "unknown",
    in_progress: "in progress", saving: "Saving…", error: "Error",
    users: "Users", role: "Role", disabled: "Disabled", delete: "Delete", add: "Add", add_user: "Add a user",
    tokens: "API tokens", revoke: "Revoke", revoked: "revoked", label: "Label", last_used: "Last used",
    create_token: "Create token", same_role: "the user's role", token_once: "Copy the token now: it is not shown again.",
  },
};

const KEY = "salvesti.lang";

export function language() {
  const chosen = localStorage.getItem(KEY);
  if (chosen && STRINGS[chosen]) return chosen;
  const page = document.documentElement.lang;
  return STRINGS[page] ? page : "et";
}

export function setLanguage(lang) {
  localStorage.setItem(KEY, lang);
  document.documentElement.lang = lang;
}

export function t(key) {
  const lang = language();
  return STRINGS[lang][key] ?? STRINGS.en[key] ?? key;
}

export function locale() {
  return language() === "et" ? "et-EE" : "en-GB";
}

let zone;

// Times are shown in the box's time zone (salvesti.timezone), not the browser's, so that a
// call's time matches its recording's date folder and what the CLI prints.
export function setTimeZone(tz) {
  zone = tz || undefined;
}

export function timeZone() {
  return zone;
}
