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
    party_outside: "Klient", party_agent: "Töötaja", transcript: "Kõne tekst", analysis: "Kõne analüüs",
    analysis_queued: "Analüüs on järjekorras", analysis_running: "Analüüs käib", analysis_failed: "Analüüs ebaõnnestus",
    redacted: "eemaldatud", redacted_title: "Kaardiandmed eemaldati tekstist",
    talk_share: "Kõneaja jaotus", talk_time: "Kõneaeg", turns: "Vahetusi", longest_monologue: "Pikim monoloog",
    interruptions: "Vahelesegamisi", question_rate: "Töötaja küsimusi minutis", response_latency: "Vastamise viivitus",
    silence: "Vaikus", longest_silence: "Pikim vaikus", overlap: "Üheaegne kõne",
    notice_verified: "Teavitus kinnitatud {at} s juures (skoor {score})", notice_not_found: "Teavitust salvestisest ei leitud",
    notice_evidence: "Teavituse tõend", flag: "Märge", flag_notice_unverified: "Teavitust ei leitud",
    flag_card_data: "Kaardiandmed eemaldatud", review: "kontrolli",
    timeline: "Kõne ajajoon", seek_to: "Kuula alates {at}",
    no_transcript: "Kõnes ei tuvastatud teksti.",
    insights: "Ülevaade", insights_forbidden: "Ülevaade on ainult juhtidele ja administraatoritele.",
    privacy_notice: "Ainult koondandmed: isikuandmete kaitse nõuded ei luba kõnesalvestisi kasutada üksikute töötajate jälgimiseks, seega Ülevaade ei järjesta inimesi.",
    insights_empty: "Selles vahemikus pole analüüsitud ja tulemusega kõnesid.", show: "Näita",
    total_calls: "Kõnesid", by_week: "Tulemused nädalate kaupa",
    talk_by_outcome: "Kõnemõõdikud tulemuse järgi", phrases: "Fraasid", phrase: "Fraas", trackers: "Jälgitavad",
    tracker: "Jälgitav", lift: "Seos tulemusega", goes_with_lost: "ebaõnnestunud kõnedega", goes_with_won: "õnnestunud kõnedega",
    metric: "Mõõdik", agent_share: "Töötaja kõneosa", agent_talk: "Töötaja kõneaeg", outside_talk: "Kliendi kõneaeg",
    agent_monologue: "Töötaja pikim monoloog", agent_interruptions: "Töötaja vahelesegamisi",
    agent_latency: "Töötaja vastamise viivitus", no_phrases: "Piisavalt sagedasi fraase pole (vähemalt {n} kõnet).",
    week_title: "{week}: õnnestus {won}, ebaõnnestus {lost}, jätkata {follow_up}",
    health: "Salvestise seisund", unhealthy_any: "Mis tahes viga",
    health_no_recording: "Salvestis puudub", health_recording_short: "Salvestis on lühem kui kõne",
    health_channel_no_audio: "Ühel kanalil pole heli", health_channel_silent: "Ühel kanalil ainult vaikus",
    health_packet_loss: "Pakettide kadu",
    call_back: "Helista tagasi", call_back_ringing: "Sinu telefon heliseb: tõsta toru, et helistada",
    call_back_failed: "Helistada ei õnnestunud",
    employees: "Töötajad", employee_name: "Nimi", add_employee: "Lisa töötaja", acknowledgement: "Teavituse kinnitus",
    employees_intro: "Kes kasutab millist sisenumbrit ja kas ta on töötajate privaatsusteate kätte saanud.",
    notice_current: "Kehtiv teate versioon:", notice_none: "seadistamata (salvesti.employee_notice)",
    paper: "Paberil", paper_date: "Paberi kuupäev", paper_record: "Märgi paberil kinnitatuks",
    ack_paper: "paberil", ack_web: "veebis", ack_missing: "kinnitamata", employee_left: "Lahkus",
    no_employees: "Registris pole veel kedagi.",
    subject_requests: "Andmesubjekti taotlused", request_kind: "Taotlus", received: "Saabus", deadline: "Tähtaeg",
    subject_requests_intro: "Avatud taotlused; vastata tuleb ühe kuu jooksul (IKÜM art 12 lg 3). Logitakse käsuga salvesti subject.",
    request_export: "Koopia", request_erase: "Kustutamine", overdue: "tähtaeg ületatud", days_left: "{n} päeva jäänud",
    no_requests: "Avatud taotlusi pole.",
    notice_banner_title: "Töötajate teavitus kõnede salvestamisest",
    notice_banner_required: "Sinu kõnesid ei salvestata enne, kui oled teate läbi lugenud ja kinnitanud.",
    notice_banner_text: "Palun loe teade läbi ja kinnita, et oled selle kätte saanud.",
    notice_version: "Teate versioon {version}", notice_confirm: "Olen teate läbi lugenud",
    notice_thanks: "Aitäh, kinnitus on salvestatud.",
    my_listens: "Kes kuulas minu kõnesid", my_listens_intro: "Iga kord, kui keegi sinu sisenumbri kõnet kuulas või alla laadis.",
    no_listens: "Keegi pole sinu kõnesid kuulanud.",
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
    party_outside: "Customer", party_agent: "Agent", transcript: "Transcript", analysis: "Call analysis",
    analysis_queued: "Analysis queued", analysis_running: "Analysis running", analysis_failed: "Analysis failed",
    redacted: "redacted", redacted_title: "Card data was removed from the transcript",
    talk_share: "Talk share", talk_time: "Talk time", turns: "Turns", longest_monologue: "Longest monologue",
    interruptions: "Interruptions", question_rate: "Agent questions per minute", response_latency: "Response latency",
    silence: "Silence", longest_silence: "Longest silence", overlap: "Overlapping speech",
    notice_verified: "Notice verified at {at} s (score {score})", notice_not_found: "Notice not found in the recording",
    notice_evidence: "Notice evidence", flag: "Flag", flag_notice_unverified: "Notice not found",
    flag_card_data: "Card data redacted", review: "review",
    timeline: "Call timeline", seek_to: "Listen from {at}",
    no_transcript: "No speech was transcribed in this call.",
    insights: "Insights", insights_forbidden: "Insights are for managers and admins only.",
    privacy_notice: "Aggregates only: Estonian data protection law does not allow using call recordings to monitor individual employees, so Insights never ranks people.",
    insights_empty: "No analysed calls with an outcome in this period.", show: "Show",
    total_calls: "Calls", by_week: "Outcomes by week",
    talk_by_outcome: "Talk metrics by outcome", phrases: "Phrases", phrase: "Phrase", trackers: "Trackers",
    tracker: "Tracker", lift: "Goes with", goes_with_lost: "lost calls", goes_with_won: "won calls",
    metric: "Metric", agent_share: "Agent talk share", agent_talk: "Agent talk time", outside_talk: "Customer talk time",
    agent_monologue: "Agent's longest monologue", agent_interruptions: "Agent interruptions",
    agent_latency: "Agent response latency", no_phrases: "No phrase is frequent enough yet (at least {n} calls).",
    week_title: "{week}: won {won}, lost {lost}, follow up {follow_up}",
    health: "Recording health", unhealthy_any: "Any problem",
    health_no_recording: "No recording", health_recording_short: "Recording shorter than the call",
    health_channel_no_audio: "A channel has no audio", health_channel_silent: "A channel is only silence",
    health_packet_loss: "Packet loss",
    call_back: "Call back", call_back_ringing: "Your phone rings: pick it up to call", call_back_failed: "Could not call",
    employees: "Employees", employee_name: "Name", add_employee: "Add an employee", acknowledgement: "Notice acknowledged",
    employees_intro: "Who uses which extension, and whether they received the employee privacy notice.",
    notice_current: "Current notice version:", notice_none: "not configured (salvesti.employee_notice)",
    paper: "On paper", paper_date: "Date on the paper", paper_record: "Record paper acknowledgement",
    ack_paper: "on paper", ack_web: "in the web UI", ack_missing: "not acknowledged", employee_left: "Left",
    no_employees: "Nobody in the register yet.",
    subject_requests: "Data subject requests", request_kind: "Request", received: "Received", deadline: "Deadline",
    subject_requests_intro: "Open requests; each must be answered within one month (GDPR Art. 12(3)). Logged by salvesti subject.",
    request_export: "Copy", request_erase: "Erasure", overdue: "overdue", days_left: "{n} days left",
    no_requests: "No open requests.",
    notice_banner_title: "Notice to employees: call recording",
    notice_banner_required: "Your calls are not recorded until you have read and acknowledged this notice.",
    notice_banner_text: "Please read the notice and confirm that you received it.",
    notice_version: "Notice version {version}", notice_confirm: "I have read the notice",
    notice_thanks: "Thank you, your acknowledgement is saved.",
    my_listens: "Who listened to my calls", my_listens_intro: "Every time someone played or downloaded a call of your extension.",
    no_listens: "Nobody has listened to your calls.",
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

// t() with {name} placeholders filled in.
export function tf(key, vars = {}) {
  return t(key).replace(/\{(\w+)\}/g, (all, name) => (name in vars ? String(vars[name]) : all));
}

// A number in the UI's language (decimal comma in Estonian); "–" for none.
export function fmtNum(value, digits = 1) {
  if (value === null || value === undefined || Number.isNaN(value)) return "–";
  return new Intl.NumberFormat(locale(), { minimumFractionDigits: digits, maximumFractionDigits: digits }).format(value);
}

export function fmtPercent(share) {
  if (share === null || share === undefined || Number.isNaN(share)) return "–";
  return new Intl.NumberFormat(locale(), { style: "percent", maximumFractionDigits: 0 }).format(share);
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
