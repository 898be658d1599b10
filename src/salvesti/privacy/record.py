"""The GDPR Art. 30(1) record of processing activities, as Markdown.

One processing activity per purpose (recording; the analysis when configured), each with the
items Art. 30(1)(a)-(g) lists, taken from the config: controller, purpose and basis, data
subjects and data, recipients, transfers, erasure time limits per line, security measures.
"""

from __future__ import annotations

from salvesti.privacy import common
from salvesti.privacy.facts import ProcessingFacts

_T = {
    "et": {
        "title": "Isikuandmete töötlemise toimingute register (IKÜM art 30)",
        "generated": "Koostatud Salvesti seadistusest; muutub koos sellega.",
        "a": "Vastutav töötleja ja kontakt",
        "dpo": "Andmekaitsespetsialist",
        "activity": "Töötlemistoiming",
        "recording": "Kõnede salvestamine",
        "analysis": "Kõnede analüüs",
        "b": "Eesmärk",
        "basis": "Õiguslik alus",
        "c": "Andmesubjektide ja isikuandmete liigid",
        "subjects": "Andmesubjektid: helistajad ja vastajad väljaspool ettevõtet; töötajad, kelle sisenumbri "
        "kõnesid salvestatakse.",
        "data_recording": "Andmed: kõne heli (mõlemad osapooled), telefoninumbrid, kõne aeg ja kestus, "
        "sisenumber, märkmed, sildid ja tulemus.",
        "data_analysis": "Andmed: salvestisest tuletatud kõnemõõdikud, teavituse kontroll{text}.",
        "data_analysis_text": ", kõne tekst (kaardinumbrid eemaldatud)",
        "d": "Vastuvõtjate kategooriad",
        "recipients_none": "Ainult volitatud töötajad (rollid admin, manager, agent); väljapoole ei "
        "edastata.",
        "recipients_some": "Volitatud töötajad (rollid admin, manager, agent) ja:",
        "e": "Edastamine kolmandatesse riikidesse",
        "e_none": "Puudub: andmed on selles seadmes{s3}.",
        "e_s3": " ja seadistatud S3 hoidlas (kontrolli selle asukohta)",
        "f": "Kustutamise tähtajad",
        "f_analysis": "Analüüsi tulemused kustutatakse koos salvestisega.",
        "g": "Turvameetmed",
        "g_roles": "Rollipõhine ligipääs; agent näeb ainult oma sisenumbri kõnesid.",
        "g_audit": "Iga kuulamine, allalaadimine, muutmine ja kustutamine kantakse räsiahelaga "
        "auditilogisse.",
        "g_encrypt": "Salvestised on krüpteeritud (AES-256-GCM, iga salvestis oma võtmega; kustutamine "
        "hävitab võtme).",
        "g_plain": "Salvestised ei ole krüpteeritud (lisa sink'ile encrypt: true).",
        "g_tls": "Veebiliides ainult HTTPS-i kaudu.",
        "g_no_tls": "Veebiliides HTTP kaudu: kasuta HTTPS-i (http.tls või pöördproksi).",
        "g_pause": "Kaardiandmete ajaks saab salvestuse peatada; peatatud osa on vaikus ega jõua analüüsi.",
        "never": "Kunagi ei salvestata",
        "never_text": "Kõned nende numbritega loetletakse, kuid neid ei salvestata ega analüüsita:",
        "employees": "Töötajate teavitamine",
        "employees_required": "Sisenumbri kõnesid salvestatakse ainult siis, kui töötaja on kinnitanud "
        "töötajate teate versiooni {version}.",
        "employees_register": "Töötajate teavituse versioon {version}; kinnitused on veebiliidese registris "
        "(Töötajad).",
        "employees_off": "Töötajate teavituse kinnitusi ei nõuta (salvesti.require_employee_notice).",
        "requests": "Andmesubjekti taotlused",
        "requests_text": "Taotlused logitakse saabumise kuupäevaga; tähtaeg on üks kuu (art 12 lg 3).",
    },
    "en": {
        "title": "Record of processing activities (GDPR Art. 30)",
        "generated": "Generated from the Salvesti configuration; it changes with it.",
        "a": "Controller and contact",
        "dpo": "Data protection officer",
        "activity": "Processing activity",
        "recording": "Call recording",
        "analysis": "Call analysis",
        "b": "Purpose",
        "basis": "Lawful basis",
        "c": "Categories of data subjects and personal data",
        "subjects": "Data subjects: callers and called parties outside the company; employees whose "
        "extensions' calls are recorded.",
        "data_recording": "Data: call audio (both parties), phone numbers, call time and duration, "
        "extension, notes, tags and outcome.",
        "data_analysis": "Data: talk metrics derived from the recording, the notice check{text}.",
        "data_analysis_text": ", the call's text (card numbers removed)",
        "d": "Categories of recipients",
        "recipients_none": "Authorised staff only (roles admin, manager, agent); nothing is passed outside.",
        "recipients_some": "Authorised staff (roles admin, manager, agent) and:",
        "e": "Transfers to third countries",
        "e_none": "None: the data stays on this device{s3}.",
        "e_s3": " and in the configured S3 storage (check where it is located)",
        "f": "Time limits for erasure",
        "f_analysis": "Analysis results are deleted together with the recording.",
        "g": "Security measures",
        "g_roles": "Role-based access; an agent sees only their own extension's calls.",
        "g_audit": "Every playback, download, change and deletion goes to a hash-chained audit log.",
        "g_encrypt": "Recordings are encrypted (AES-256-GCM, one key per recording; deletion destroys the "
        "key).",
        "g_plain": "Recordings are not encrypted (add encrypt: true to the sink).",
        "g_tls": "The web UI is served over HTTPS only.",
        "g_no_tls": "The web UI is served over HTTP: use HTTPS (http.tls or a reverse proxy).",
        "g_pause": "Recording can be paused while card data is given; the span is silence and never "
        "analysed.",
        "never": "Never recorded",
        "never_text": "Calls with these numbers are listed but never recorded or analysed:",
        "employees": "Informing employees",
        "employees_required": "An extension's calls are recorded only once its employee acknowledged "
        "employee notice version {version}.",
        "employees_register": "Employee notice version {version}; acknowledgements are kept in the web UI's "
        "register (Employees).",
        "employees_off": "Employee acknowledgements are not required (salvesti.require_employee_notice).",
        "requests": "Data subject requests",
        "requests_text": "Requests are logged with the date received; the deadline is one month (Art. "
        "12(3)).",
    },
}


def render_record(facts: ProcessingFacts, lang: str = "et") -> str:
    if lang not in common.LANGS:
        raise ValueError(f"lang must be one of {common.LANGS}")
    t = _T[lang]
    basis = common.BASIS[lang].get(facts.lawful_basis, facts.lawful_basis)
    out = [f"# {t['title']}", "", f"_{t['generated']}_", "", f"## {t['a']}", ""]
    who = [x for x in (facts.controller_name, facts.controller_contact) if x]
    out.append("; ".join(who) if who else common.MISSING[lang])
    if facts.dpo:
        out.append(f"{t['dpo']}: {facts.dpo}")
    activities = [("recording", facts.purpose)]
    if facts.analysis_purpose:
        activities.append(("analysis", facts.analysis_purpose))
    s3 = any(r.kind == "storage" for r in facts.recipients)
    for n, (kind, purpose) in enumerate(activities, start=1):
        out += ["", f"## {t['activity']} {n}: {t[kind]}", ""]
        out.append(f"- **{t['b']}:** {purpose}")
        out.append(f"- **{t['basis']}:** {basis}")
        data = (
            t["data_recording"]
            if kind == "recording"
            else t["data_analysis"].format(text=t["data_analysis_text"] if facts.transcription else "")
        )
        out.append(f"- **{t['c']}:** {t['subjects']} {data}")
        if facts.recipients:
            out.append(f"- **{t['d']}:** {t['recipients_some']}")
            out += ["  " + common.recipient(r, lang) for r in facts.recipients]
        else:
            out.append(f"- **{t['d']}:** {t['recipients_none']}")
        out.append(f"- **{t['e']}:** {t['e_none'].format(s3=t['e_s3'] if s3 else '')}")
        if kind == "recording":
            out.append(f"- **{t['f']}:**")
            out += ["  " + line for line in common.retention_lines(facts, lang)]
        else:
            out.append(f"- **{t['f']}:** {t['f_analysis']}")
    out += ["", f"## {t['g']}", ""]
    out.append(f"- {t['g_roles']}")
    out.append(f"- {t['g_audit']}")
    out.append(f"- {t['g_encrypt'] if facts.encrypted else t['g_plain']}")
    out.append(f"- {t['g_tls'] if facts.tls else t['g_no_tls']}")
    out.append(f"- {t['g_pause']}")
    if facts.never_record:
        out += ["", f"## {t['never']}", "", t["never_text"], *(f"- {n}" for n in facts.never_record)]
    out += ["", f"## {t['employees']}", ""]
    version = facts.employee_notice_version
    if facts.require_employee_notice:
        out.append(t["employees_required"].format(version=version))
    elif version:
        out.append(t["employees_register"].format(version=version))
    else:
        out.append(t["employees_off"])
    out += ["", f"## {t['requests']}", "", t["requests_text"]]
    return "\n".join(out) + "\n"
