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
  },
};

// The diagnostics page (diagnostics.js): check titles and advice, filled from each check's details.
const DIAGNOSTICS = {
  et: {
    diagnostics: "Diagnostika", diag_title: "Diagnostika",
    diag_intro: "Miks telefonid ei pruugi töötada – kontrollitud just praegu. Iga rida ütleb, mida teha.",
    diag_refresh: "Kontrolli uuesti", diag_checked_at: "kontrollitud {at}",
    diag_summary: "Korras: {ok} · Tähelepanu: {warn} · Vigu: {fail}",
    diag_forbidden: "Diagnostika on ainult juhtidele ja administraatoritele.",
    diag_state_ok: "Korras", diag_state_warn: "Tähelepanu", diag_state_fail: "Viga",
    diag_group_carrier: "Operaator", diag_group_nat: "Avalik aadress (NAT)", diag_group_extensions: "Telefonid",
    diag_group_media: "Kõne heli pordid (RTP)", diag_group_disk: "Kettaruum", diag_group_clock: "Kell",
    diag_group_components: "Komponendid", diag_group_sources: "Kõneallikad",
    diag_trunk: "põhiliin (trunk)", diag_account: "konto {line}",
    diag_carrier_title: "Registreering operaatori juures: {label} ({source})",
    diag_carrier_ok: "Registreeritud: operaator saadab kõned siia.",
    diag_carrier_expired: "Registreering on aegunud ja seda ei uuendatud: operaator ei pruugi vastata, kontrolli internetiühendust.",
    diag_carrier_not_registering: "Ei registreeru (register: false): operaator peab selle kasti aadressi ise teadma.",
    diag_carrier_pending: "Registreerub praegu; pärast käivitamist võtab see mõne sekundi.",
    diag_carrier_no_answer: "Operaator ei vastanud: kontrolli internetiühendust, registraari aadressi {registrar} ja et tulemüür lubab SIP-i (UDP 5060) välja.",
    diag_carrier_unreachable: "Operaatorini ei jõua ({reason}): kontrolli registraari aadressi {registrar} ja võrgu DNS-i.",
    diag_carrier_auth: "Operaator ei tunnistanud kasutajanime või parooli ({answer}): kontrolli neid operaatoriga.",
    diag_carrier_forbidden: "Operaator ei tunnistanud kasutajanime või parooli ({answer}): kontrolli neid ja küsi operaatorilt, kas sellelt aadressilt tohib registreeruda.",
    diag_carrier_not_found: "Operaator ei tunne kasutajanime {username} ({answer}): kontrolli kasutajanime ja registraari.",
    diag_carrier_server: "Operaatoril on praegu rike ({answer}); Salvesti proovib ise uuesti. Kui see kestab, helista operaatorile.",
    diag_carrier_refused: "Operaator keeldus registreeringust ({answer}): ütle operaatorile see vastus.",
    diag_nat_title: "Avalik aadress: {label} ({source})",
    diag_nat_none: "NAT-i pole: operaator näeb seda kasti tema enda aadressil {local}.",
    diag_nat_behind: "NAT-i taga: operaator näeb meid aadressil {public}, kasti enda aadress on {local}. Sea external_address: {public_ip} ja suuna ruuteris RTP pordid siia, muidu võib heli kosta ainult ühes suunas.",
    diag_nat_external_ok: "NAT-i taga ja external_address ({external}) on seatud: suuna ruuteris SIP ja RTP pordid sellele kastile.",
    diag_nat_external_differs: "external_address on {external}, aga operaator näeb meid aadressil {public_ip}: paranda external_address.",
    diag_nat_external_only: "external_address ({external}) on seatud; operaator pole veel öelnud, mis aadressil ta meid näeb.",
    diag_nat_unknown: "Operaator ei ütle, mis aadressil ta meid näeb (rport puudub): kui kõned ei jõua kohale, sea external_address.",
    diag_nat_not_yet: "Selgub, kui operaator registreeringule vastab.",
    diag_ext_title: "Sisenumber {user} {name}", diag_ext_tab_title: "Brauseritelefon {user}",
    diag_ext_ok: "Registreeritud: heliseb ja saab helistada.",
    diag_ext_not_registered: "Pole registreeritud: kontrolli, et telefon on sees ja võrgus ning selle SIP-server on {listen}, kasutaja {user} ja õige parool.",
    diag_ext_tab_ok: "Telefon on brauseri vahelehel avatud.",
    diag_ext_tab_closed: "Ükski brauseri vaheleht pole telefoni avanud: töötaja avab lehe Telefon (/phone) ja logib sisse.",
    diag_media_title: "Heli pordid (RTP): {source}",
    diag_media_ok: "Kasutusel {in_use} paari {capacity}-st (umbes {calls_possible} kõnet korraga). Tulemüür peab lubama UDP {low}-{high} sellesse kasti.",
    diag_media_nearly_full: "Kasutusel {in_use} paari {capacity}-st: vahemik on peaaegu täis, laienda rtp_ports (tulemüür peab lubama kogu vahemiku).",
    diag_media_full: "Kõik {capacity} pordipaari on kasutusel: uued kõned ebaõnnestuvad. Laienda rtp_ports ja luba vahemik tulemüüris.",
    diag_media_browser: "Brauseritelefonid kasutavad UDP {low}-{high}: väljaspool seda võrku olevad töötajad vajavad avatud vahemikku või TURN-serverit.",
    diag_disk_title: "Kettaruum: {folder}",
    diag_disk_ok: "Vaba {free}, päevas salvestatakse umbes {per_day}: jätkub veel umbes {days_left} päevaks; salvestisi hoitakse {retention_days} päeva.",
    diag_disk_ok_forever: "Vaba {free}, päevas umbes {per_day}: jätkub umbes {days_left} päevaks. Salvestisi hoitakse igavesti (säilitusreeglit pole).",
    diag_disk_short: "Ruumi jätkub vaid umbes {days_left} päevaks, aga salvestisi hoitakse {retention_days} päeva: vabasta ruumi, lisa suurem ketas või lühenda säilitusaega.",
    diag_disk_forever: "Ruumi jätkub vaid umbes {days_left} päevaks ja salvestisi hoitakse igavesti: lisa säilitusreegel või suurem ketas.",
    diag_disk_full_soon: "Ruumi ei jätku isegi üheks päevaks (vaba {free}): vabasta ruumi kohe, muidu salvestamine ebaõnnestub.",
    diag_disk_low: "Vaba on ainult {free}: vabasta ruumi või lisa suurem ketas.",
    diag_disk_no_estimate: "Vaba {free}. Viimase 7 päeva jooksul pole midagi salvestatud, millest hinnata.",
    diag_clock_title: "Kell",
    diag_clock_ok: "Kell on sünkroonitud (NTP): kõnede ajad on õiged.",
    diag_clock_not_synced: "Kell pole sünkroonitud: kõnede ajad ja säilitusaeg nihkuvad. Lülita NTP sisse (sudo timedatectl set-ntp true) ja kontrolli, et kast jõuab internetti.",
    diag_clock_unknown: "Salvesti ei saa teada, kas kell on sünkroonitud: veendu, et NTP-teenus (systemd-timesyncd või chrony) töötab. Kasti kell praegu: {now}.",
    diag_comp_title: "{kind} {platform} ({id})",
    diag_kind_store: "Andmebaas", diag_kind_sink: "Salvestuskoht", diag_kind_notice: "Teavitus",
    diag_kind_retention: "Säilitusreegel", diag_kind_integration: "Liides", diag_kind_source: "Kõneallikas",
    diag_comp_ok: "Töötab.", diag_comp_starting: "Käivitub.", diag_comp_not_loaded: "Ei tööta.",
    diag_comp_retry: "Pole veel valmis, proovib ise uuesti: {reason}.",
    diag_comp_auth: "Kasutajanimi või parool lükati tagasi: paranda see seadistuses ja taaskäivita.",
    diag_comp_port_in_use: "Selle porti kasutab teine programm: peata see programm või muuda port seadistuses, siis taaskäivita.",
    diag_comp_permission: "Salvesti ei tohi faili või kausta kasutada: anna kasutajale salvesti ligipääs, siis taaskäivita.",
    diag_comp_missing_file: "Vajalik fail puudub: kontrolli teed seadistuses.",
    diag_comp_dns: "Hostinimi ei lahendu: kontrolli nime seadistuses ja võrgu DNS-i.",
    diag_comp_refused: "Teine pool ei vasta: kontrolli, et see töötab ja aadress seadistuses on õige.",
    diag_comp_error: "Käivitumine ebaõnnestus: paranda seadistus ja taaskäivita.",
    diag_internal_title: "Kontroll: {family}", diag_internal: "See kontroll ise ebaõnnestus ({error}). Palun teata sellest.",
    diag_fact_answer: "Operaatori viimane vastus", diag_no_answer_yet: "vastust pole veel",
    diag_fact_registered: "Registreeritud", diag_fact_expires: "Kehtib kuni", diag_fact_registrar: "Registraar",
    diag_fact_public: "Operaator näeb meid", diag_fact_local: "Kohalik aadress", diag_not_set: "seadmata",
    diag_fact_from: "Kust", diag_nowhere: "mitte kusagilt", diag_fact_until: "kuni",
    diag_fact_last_call: "Viimane kõne", diag_no_calls: "kõnesid pole veel",
    diag_fact_ports: "Pordid", diag_fact_free: "Vaba", diag_fact_per_day: "Päevas salvestatakse",
    diag_fact_retention: "Säilitusaeg", diag_forever: "igavesti", diag_days: "{n} päeva",
    diag_fact_box_time: "Kasti kell", diag_fact_method: "Kontrollitud", diag_method_none: "ei saa kontrollida", diag_fact_reason: "Põhjus",
  },
  en: {
    diagnostics: "Diagnostics", diag_title: "Diagnostics",
    diag_intro: "Why the phones may not work, checked just now. Each line says what to do.",
    diag_refresh: "Check again", diag_checked_at: "checked {at}",
    diag_summary: "OK: {ok} · Attention: {warn} · Problems: {fail}",
    diag_forbidden: "Diagnostics are for managers and admins only.",
    diag_state_ok: "OK", diag_state_warn: "Attention", diag_state_fail: "Problem",
    diag_group_carrier: "Carrier", diag_group_nat: "Public address (NAT)", diag_group_extensions: "Phones",
    diag_group_media: "Audio ports (RTP)", diag_group_disk: "Disk space", diag_group_clock: "Clock",
    diag_group_components: "Components", diag_group_sources: "Call sources",
    diag_trunk: "trunk", diag_account: "account {line}",
    diag_carrier_title: "Registration with the carrier: {label} ({source})",
    diag_carrier_ok: "Registered: the carrier sends calls here.",
    diag_carrier_expired: "The registration ran out and was not renewed: the carrier may have stopped answering; check the internet connection.",
    diag_carrier_not_registering: "Not registering (register: false): the carrier must know this box's address by itself.",
    diag_carrier_pending: "Registering now; this takes a few seconds after a start.",
    diag_carrier_no_answer: "The carrier did not answer: check the internet connection, the registrar address {registrar} and that the firewall lets SIP (UDP 5060) out.",
    diag_carrier_unreachable: "The carrier cannot be reached ({reason}): check the registrar address {registrar} and the network's DNS.",
    diag_carrier_auth: "The carrier refused the user name or password ({answer}): check them with the carrier.",
    diag_carrier_forbidden: "The carrier refused the user name or password ({answer}): check them, and ask the carrier whether it allows registering from this address.",
    diag_carrier_not_found: "The carrier does not know the user name {username} ({answer}): check the user name and the registrar.",
    diag_carrier_server: "The carrier has trouble right now ({answer}); Salvesti keeps retrying. Call the carrier if it lasts.",
    diag_carrier_refused: "The carrier refused the registration ({answer}): tell the carrier this answer.",
    diag_nat_title: "Public address: {label} ({source})",
    diag_nat_none: "No NAT: the carrier sees this box at its own address {local}.",
    diag_nat_behind: "Behind NAT: the carrier sees us at {public}, this box is {local}. Set external_address: {public_ip} and forward the RTP ports on the router, or calls may have one-way audio.",
    diag_nat_external_ok: "Behind NAT, and external_address ({external}) is set: forward SIP and the RTP ports to this box on the router.",
    diag_nat_external_differs: "external_address is {external}, but the carrier sees us at {public_ip}: correct external_address.",
    diag_nat_external_only: "external_address ({external}) is set; the carrier has not said yet which address it sees.",
    diag_nat_unknown: "The carrier does not say which address it sees (no rport): if calls do not arrive, set external_address.",
    diag_nat_not_yet: "Known once the carrier answers a registration.",
    diag_ext_title: "Extension {user} {name}", diag_ext_tab_title: "Browser phone {user}",
    diag_ext_ok: "Registered: it rings and can call.",
    diag_ext_not_registered: "Not registered: check that the phone is on and connected, and that its SIP server is {listen}, user {user}, with the right password.",
    diag_ext_tab_ok: "A browser tab has the phone open.",
    diag_ext_tab_closed: "No browser tab has the phone open: the agent opens the Phone page (/phone) and logs in.",
    diag_media_title: "Audio ports (RTP): {source}",
    diag_media_ok: "{in_use} of {capacity} port pairs in use (about {calls_possible} calls at once). The firewall must let UDP {low}-{high} in to this box.",
    diag_media_nearly_full: "{in_use} of {capacity} port pairs in use: the range is nearly full; widen rtp_ports (the firewall must let the whole range in).",
    diag_media_full: "All {capacity} port pairs are in use: new calls fail. Widen rtp_ports and let the range through the firewall.",
    diag_media_browser: "Browser phones use UDP {low}-{high}: agents outside this network need the range open or a TURN server.",
    diag_disk_title: "Disk space: {folder}",
    diag_disk_ok: "{free} free, about {per_day} recorded per day: enough for about {days_left} more days; recordings are kept {retention_days} days.",
    diag_disk_ok_forever: "{free} free, about {per_day} per day: enough for about {days_left} days. Recordings are kept for ever (no retention rule).",
    diag_disk_short: "Enough for only about {days_left} more days, but recordings are kept {retention_days} days: free space, add a bigger disk or shorten retention.",
    diag_disk_forever: "Enough for only about {days_left} more days, and recordings are kept for ever: add a retention rule or a bigger disk.",
    diag_disk_full_soon: "Not even a day of recordings fits ({free} free): free space now, or recording will fail.",
    diag_disk_low: "Only {free} free: free space or add a bigger disk.",
    diag_disk_no_estimate: "{free} free. Nothing was recorded in the last 7 days to estimate from.",
    diag_clock_title: "Clock",
    diag_clock_ok: "The clock is synchronised (NTP): call times are right.",
    diag_clock_not_synced: "The clock is not synchronised: call times and retention drift. Turn NTP on (sudo timedatectl set-ntp true) and check that the box reaches the internet.",
    diag_clock_unknown: "Salvesti cannot tell whether the clock is synchronised: make sure an NTP service (systemd-timesyncd or chrony) runs. The box's time now: {now}.",
    diag_comp_title: "{kind} {platform} ({id})",
    diag_kind_store: "Store", diag_kind_sink: "Recordings sink", diag_kind_notice: "Notice",
    diag_kind_retention: "Retention rule", diag_kind_integration: "Integration", diag_kind_source: "Call source",
    diag_comp_ok: "Running.", diag_comp_starting: "Starting.", diag_comp_not_loaded: "Not running.",
    diag_comp_retry: "Not ready yet, retrying by itself: {reason}.",
    diag_comp_auth: "The user name or password was refused: correct it in the config and restart.",
    diag_comp_port_in_use: "Its port is taken by another program: stop that program or change the port in the config, then restart.",
    diag_comp_permission: "Salvesti may not use a file or folder: give the salvesti user access, then restart.",
    diag_comp_missing_file: "A file it needs is missing: check the path in the config.",
    diag_comp_dns: "A host name does not resolve: check the name in the config and the network's DNS.",
    diag_comp_refused: "The other end does not answer: check that it runs and that the address in the config is right.",
    diag_comp_error: "It failed to start: fix the config and restart.",
    diag_internal_title: "Checking {family}", diag_internal: "This check itself failed ({error}). Please report it.",
    diag_fact_answer: "Carrier's last answer", diag_no_answer_yet: "no answer yet",
    diag_fact_registered: "Registered at", diag_fact_expires: "Valid until", diag_fact_registrar: "Registrar",
    diag_fact_public: "The carrier sees us at", diag_fact_local: "Local address", diag_not_set: "not set",
    diag_fact_from: "From", diag_nowhere: "nowhere", diag_fact_until: "until",
    diag_fact_last_call: "Last call", diag_no_calls: "no calls yet",
    diag_fact_ports: "Ports", diag_fact_free: "Free", diag_fact_per_day: "Recorded per day",
    diag_fact_retention: "Kept for", diag_forever: "for ever", diag_days: "{n} days",
    diag_fact_box_time: "The box's time", diag_fact_method: "Checked with", diag_method_none: "no way to check", diag_fact_reason: "Reason",
  },
};
Object.assign(STRINGS.et, DIAGNOSTICS.et);
Object.assign(STRINGS.en, DIAGNOSTICS.en);

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
