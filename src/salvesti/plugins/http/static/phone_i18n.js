// The phone page's words, Estonian (default) and English; ?lang=en chooses English.
import { language, setLanguage } from "./i18n.js";

const STRINGS = {
  et: {
    phone: "Telefon", enable: "Lülita telefon sisse", number: "Number", call: "Helista", answer: "Vasta",
    decline: "Keeldu", hangup: "Lõpeta kõne", mute: "Vaigista", hold: "Ootele", resume: "Jätka",
    keypad: "Numbriklahvid", idle: "Valmis", offline: "Pole ühendust, proovin uuesti…", connecting: "Ühendan…",
    trying: "Helistan…", ringing: "Kutsub…", answered: "Vastati, teavitus mängib…", connected: "Kõne käib",
    held: "Ootel", ended: "Kõne lõppes", incoming: "Sissetulev kõne", from: "Helistaja", unknown: "tundmatu number",
    replaced: "Telefon on avatud teises aknas. Selles aknas kõnesid ei kutsu.", take_back: "Kasuta seda akent",
    no_phone: "Sinu kasutajal pole brauseritelefoni (sisenumber puudub või pole seadistatud).",
    login: "Logi sisse", username: "Kasutajanimi", password: "Parool", login_failed: "Vale kasutajanimi või parool",
    mic_denied: "Mikrofoni ei lubatud: luba see brauseri aadressiriba lukuikoonist.",
    insecure: "Mikrofon töötab ainult HTTPS-lehel (või localhostil). Ava telefon https:// aadressilt.",
    outcome: "Kõne tulemus", won: "Õnnestus", lost: "Ebaõnnestus", follow_up: "Jätkata", notes: "Märkmed",
    save: "Salvesta", saved: "Salvestatud", save_failed: "Salvestamine ebaõnnestus", extension: "Sisenumber",
    reason_ice_failed: "meediaühendus ei tekkinud (ICE); kontrolli võrku või TURN-serverit",
    reason_ice_timeout: "meediaühendus ei tekkinud õigeaegselt (ICE)", reason_busy: "kinni",
    reason_answered_elsewhere: "vastati mujal", reason_rate_limited: "liiga palju kõnesid, oota veidi",
    reason_no_trunk: "väljahelistamine pole seadistatud", reason_dial_failed: "kõnet ei saanud alustada",
    notifications: "Sissetulev kõne numbrilt {from}",
    rec_pause: "Peata salvestus", rec_resume: "Jätka salvestust",
    transfer: "Suuna", transfer_to: "Suuna sisenumbrile", transferred: "Kõne suunati edasi",
  },
  en: {
    phone: "Phone", enable: "Enable phone", number: "Number", call: "Call", answer: "Answer",
    decline: "Decline", hangup: "Hang up", mute: "Mute", hold: "Hold", resume: "Resume",
    keypad: "Keypad", idle: "Ready", offline: "Not connected, retrying…", connecting: "Connecting…",
    trying: "Calling…", ringing: "Ringing…", answered: "Answered, the notice is playing…", connected: "In call",
    held: "On hold", ended: "Call ended", incoming: "Incoming call", from: "Caller", unknown: "unknown number",
    replaced: "The phone is open in another tab. This tab will not ring.", take_back: "Use this tab",
    no_phone: "Your user has no browser phone (no extension, or it is not configured).",
    login: "Log in", username: "Username", password: "Password", login_failed: "Wrong username or password",
    mic_denied: "The microphone was not allowed: allow it from the lock icon in the address bar.",
    insecure: "The microphone works only on an HTTPS page (or localhost). Open the phone at an https:// address.",
    outcome: "Outcome", won: "Won", lost: "Lost", follow_up: "Follow up", notes: "Notes",
    save: "Save", saved: "Saved", save_failed: "Saving failed", extension: "Extension",
    reason_ice_failed: "no media connection (ICE failed); check the network or the TURN server",
    reason_ice_timeout: "no media connection in time (ICE)", reason_busy: "busy",
    reason_answered_elsewhere: "answered elsewhere", reason_rate_limited: "too many calls, wait a moment",
    reason_no_trunk: "calling out is not configured", reason_dial_failed: "the call could not be started",
    notifications: "Incoming call from {from}",
    rec_pause: "Pause recording", rec_resume: "Resume recording",
    transfer: "Transfer", transfer_to: "Transfer to extension", transferred: "Call transferred",
  },
};

const wanted = new URLSearchParams(location.search).get("lang");
if (wanted && STRINGS[wanted]) setLanguage(wanted);

export function p(key, vars = {}) {
  const text = STRINGS[language()]?.[key] ?? STRINGS.en[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (all, name) => (name in vars ? String(vars[name]) : all));
}
