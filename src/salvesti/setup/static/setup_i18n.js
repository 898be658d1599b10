// The setup page's words: Estonian by default, English with ?lang=en.  Problems that the
// server finds come with both languages already (see salvesti/setup/checks.py).
const STRINGS = {
  et: {
    title: "Salvesti seadistamine", other_lang: "English", next: "Edasi", back: "Tagasi",
    steps_label: "Sammud",
    step_owner: "Omanik", step_purpose: "Eesmärk", step_carrier: "Operaator", step_numbers: "Numbrid ja telefonid",
    step_notice: "Teavitus", step_retention: "Säilitamine", step_employees: "Töötajad", step_finish: "Valmis",
    owner_lead: "Loo administraatori konto, millega veebiliidesesse sisse logida. Seadistuskood on terminalis, kus käivitati „salvesti setup”.",
    code: "Seadistuskood", code_hint: "Kaheksa märki terminalist, nt K7QM-2XHD.",
    owner_name: "Kasutajanimi", password: "Parool", again: "Parool uuesti",
    password_hint: "Vähemalt 10 märki; mitte levinud parool ega kasutajanimi.",
    purpose_lead: "Seadus nõuab, et kõnesid salvestatakse konkreetsel eesmärgil. See on kirjas ekspordis ja auditilogis.",
    purpose: "Salvestamise eesmärk", examples: "Näited:",
    ex_quality: "Klienditeeninduse kvaliteedi parandamine", ex_sales: "Müügikoolitus", ex_orders: "Telefoni teel tehtud tellimuste tõendamine",
    carrier_lead: "Vali, kuidas sinu operaatori SIP-konto on üles ehitatud. Andmed on operaatori iseteeninduses (SIP-seaded).",
    registrar: "SIP-server (registrar)", registrar_hint: "nt sip.operaator.ee või sip.operaator.ee:5060",
    sip_user: "Kasutajanimi", sip_password: "Parool", numbers: "Numbrid", numbers_hint: "Üks number rea kohta, nt +3726000000.",
    line: "Number", add_number: "Lisa number", remove: "Eemalda", try_it: "Proovi ühendust",
    trying: "Proovin operaatoriga ühendust…", save_anyway: "Salvesta ikkagi (operaatorit ei saanud praegu kontrollida)",
    numbers_lead: "Lisa kontori telefonid (sisenumbrid) ja vali iga numbri jaoks, kes helisevad.",
    ext_user: "Sisenumber", ext_name: "Nimi", add_phone: "Lisa telefon", who_rings: "Kes heliseb numbrile",
    passwords_once: "Telefonide paroolid. Kirjuta need kohe üles: neid näidatakse ainult üks kord (need on ka failis secrets.yaml).",
    no_lines: "Operaatorit pole, seega numbreid pole; telefonid saavad omavahel helistada.",
    notice_lead: "Enne kõnet kuuleb teine pool teadet, et kõne salvestatakse. Vali kaasasolev teade või laadi üles oma WAV-fail.",
    lang_et: "Eesti keeles", lang_ru: "Vene keeles", lang_en: "Inglise keeles", not_bundled: "pole kaasas – laadi oma fail",
    upload: "Oma WAV-fail", upload_hint: "Lühike teade (alla minuti), parem päris häälega; nimeta salvestamise eesmärk.",
    listen: "Kuula teadet", uploaded: "Fail on üles laaditud.",
    retention_lead: "Mitu päeva salvestisi hoitakse. Operaator müüb 10 või 60 päeva; vali, mida vajad.",
    days_for: "Numbri salvestised", days_other: "Muud kõned (sisekõned)", days: "päeva", other: "Muu arv",
    employees_lead: "Töötajaid, kelle kõnesid salvestatakse, tuleb sellest ette teavitada. Kirjuta nimed ja e-postid, üks rea kohta; need salvestatakse faili",
    employees: "Teavitatud töötajad", employees_hint: "nt Mari Maasikas <mari@pood.ee>",
    finish_lead: "Kõik on valmis. Nüüd kirjutatakse config.yaml ja secrets.yaml ning luuakse administraatori konto.",
    write: "Salvesta seaded", writing: "Salvestan…",
    done_title: "Seadistus on valmis", done_files: "Kirjutatud failid:", done_start: "Käivita Salvesti:",
    done_admin: "Administraator", done_next: "Edasi: registreeri telefon (docs/provisioning.md) ja tee proovikõne.",
    done_gone: "Seadistus on juba tehtud; seda ei saa uuesti avada.",
    problems: "Paranda märgitud väljad.", saved: "Salvestatud.", error: "Viga",
  },
  en: {
    title: "Salvesti setup", other_lang: "Eesti keeles", next: "Next", back: "Back",
    steps_label: "Steps",
    step_owner: "Owner", step_purpose: "Purpose", step_carrier: "Carrier", step_numbers: "Numbers and phones",
    step_notice: "Notice", step_retention: "Retention", step_employees: "Employees", step_finish: "Finish",
    owner_lead: "Create the admin account that logs in to the web UI. The setup code is in the terminal where “salvesti setup” was started.",
    code: "Setup code", code_hint: "Eight characters from the terminal, e.g. K7QM-2XHD.",
    owner_name: "User name", password: "Password", again: "Password again",
    password_hint: "At least 10 characters; not a common password or the user name.",
    purpose_lead: "The law asks for a specific purpose of recording calls. It is written in exports and the audit log.",
    purpose: "Purpose of recording", examples: "Examples:",
    ex_quality: "Customer service quality", ex_sales: "Sales training", ex_orders: "Proof of orders taken by phone",
    carrier_lead: "Choose how your carrier's SIP account is set up. The details are in the carrier's self-service (SIP settings).",
    registrar: "SIP server (registrar)", registrar_hint: "e.g. sip.carrier.ee or sip.carrier.ee:5060",
    sip_user: "User name", sip_password: "Password", numbers: "Numbers", numbers_hint: "One number a line, e.g. +3726000000.",
    line: "Number", add_number: "Add number", remove: "Remove", try_it: "Try the connection",
    trying: "Trying the carrier…", save_anyway: "Save anyway (the carrier could not be checked now)",
    numbers_lead: "Add the office phones (extensions) and choose, for each number, which of them ring.",
    ext_user: "Extension", ext_name: "Name", add_phone: "Add phone", who_rings: "Who rings for",
    passwords_once: "The phones' passwords. Write them down now: they are shown only once (they are in secrets.yaml too).",
    no_lines: "No carrier, so no numbers; the phones can call each other.",
    notice_lead: "Before a call the other party hears that it is recorded. Pick a bundled notice or upload your own WAV file.",
    lang_et: "Estonian", lang_ru: "Russian", lang_en: "English", not_bundled: "not bundled – upload your own",
    upload: "Your own WAV file", upload_hint: "A short notice (under a minute), ideally a real voice; say the purpose of recording.",
    listen: "Listen to the notice", uploaded: "The file is uploaded.",
    retention_lead: "How many days recordings are kept. The carrier sells 10 or 60 days; choose what you need.",
    days_for: "Recordings of", days_other: "Other calls (internal)", days: "days", other: "Another number",
    employees_lead: "Employees whose calls are recorded must be told beforehand. Write names and e-mails, one a line; they are saved in the file",
    employees: "Employees informed", employees_hint: "e.g. Mari Maasikas <mari@shop.ee>",
    finish_lead: "All set. Now config.yaml and secrets.yaml are written and the admin account is created.",
    write: "Save the configuration", writing: "Saving…",
    done_title: "Setup is done", done_files: "Files written:", done_start: "Start Salvesti:",
    done_admin: "Admin", done_next: "Next: register a phone (docs/provisioning.md) and make a test call.",
    done_gone: "Setup has been done already; it cannot be reopened.",
    problems: "Please fix the marked fields.", saved: "Saved.", error: "Error",
  },
};

export const LANG = new URLSearchParams(location.search).get("lang") === "en" ? "en" : "et";

export function t(key) {
  return STRINGS[LANG][key] ?? STRINGS.en[key] ?? key;
}

/** A server problem ({et, en}) in the page's language. */
export function say(words) {
  return (words && (words[LANG] || words.en)) || "";
}
