"""The GDPR Art. 13 notice, for callers (the website, the IVR script) or for employees.

Markdown, in Estonian or English, rendered from :class:`~salvesti.privacy.facts.ProcessingFacts`.
The employee version adds what the law asks employers to tell staff: which extensions are
recorded, that recordings are not used to monitor their work, and that they can see who
listened to their calls.
"""

from __future__ import annotations

from salvesti.privacy import common
from salvesti.privacy.facts import ProcessingFacts

AUDIENCES = ("callers", "employees")

_T = {
    "et": {
        "title_callers": "Kõnede salvestamise privaatsusteade",
        "title_employees": "Töötajate teavitus kõnede salvestamisest",
        "controller": "Vastutav töötleja",
        "contact": "Kontakt",
        "dpo": "Andmekaitsespetsialist",
        "purpose": "Eesmärk ja õiguslik alus",
        "recording": "Kõnesid salvestatakse eesmärgil: {purpose}. Õiguslik alus: {basis}.",
        "analysis": "Kõnesid analüüsitakse eraldi eesmärgil: {purpose}{lines}{text}. Analüüs töötab selles "
        "seadmes; andmeid ei saadeta kolmandatele isikutele.",
        "analysis_lines": " (liinid {lines})",
        "analysis_text": "; kõne tekstiks teisendatakse, kaardinumbreid tekstis ei säilitata",
        "retention": "Säilitamine",
        "retention_intro": "Salvestis ja sellest tuletatu (tekst, mõõdikud) kustutatakse automaatselt, "
        "arvates kõne lõpust:",
        "recipients": "Vastuvõtjad",
        "recipients_none": "Salvestisi ei edastata kellelegi väljapoole; neid kuulavad ainult selleks "
        "volitatud töötajad ning iga kuulamine logitakse.",
        "recipients_some": "Salvestisi kuulavad ainult selleks volitatud töötajad (iga kuulamine logitakse). "
        "Andmeid saavad ka:",
        "rights": "Sinu õigused",
        "rights_intro": "Sul on õigus:",
        "rights_how": "Taotlusele vastatakse ühe kuu jooksul. Pöördu: {contact}.",
        "complain": "Kaebus",
        "complain_text": "Kui leiad, et sinu andmeid töödeldakse valesti, võid pöörduda: {aki}.",
        "employees": "Töötajatele",
        "employees_exts": "Salvestatakse sisenumbrite {exts} kõnesid.",
        "employees_no_monitor": "Salvestisi ei kasutata töötajate töö jälgimiseks ega hindamiseks; analüüs "
        "näitab ainult koondandmeid, mitte inimeste järjestust.",
        "employees_listens": "Veebiliideses näed, kes ja millal sinu kõnesid kuulas või alla laadis.",
        "employees_ack": "Enne salvestamist kinnitad, et oled selle teate (versioon {version}) kätte saanud: "
        "veebiliideses või paberil.",
        "employees_required": "Sinu sisenumbri kõnesid ei salvestata enne, kui kinnitus on olemas.",
        "version": "Teate versioon: {version}.",
    },
    "en": {
        "title_callers": "Privacy notice: call recording",
        "title_employees": "Notice to employees: call recording",
        "controller": "Controller",
        "contact": "Contact",
        "dpo": "Data protection officer",
        "purpose": "Purpose and lawful basis",
        "recording": "Calls are recorded for this purpose: {purpose}. Lawful basis: {basis}.",
        "analysis": "Calls are analysed for a separate purpose: {purpose}{lines}{text}. The analysis runs on "
        "this device; no data is sent to third parties for it.",
        "analysis_lines": " (lines {lines})",
        "analysis_text": "; speech is turned into text, card numbers are never kept in it",
        "retention": "Retention",
        "retention_intro": "The recording and everything derived from it (text, metrics) are deleted "
        "automatically, counted from the end of the call:",
        "recipients": "Recipients",
        "recipients_none": "Recordings are not passed to anyone outside; only authorised staff listen to "
        "them and every playback is logged.",
        "recipients_some": "Only authorised staff listen to recordings (every playback is logged). Data also "
        "goes to:",
        "rights": "Your rights",
        "rights_intro": "You have the right to:",
        "rights_how": "Requests are answered within one month. Contact: {contact}.",
        "complain": "Complaints",
        "complain_text": "If you think your data is processed wrongly, you can complain to {aki}.",
        "employees": "For employees",
        "employees_exts": "Calls of extensions {exts} are recorded.",
        "employees_no_monitor": "Recordings are not used to monitor or rate employees' work; the analysis "
        "shows aggregates only and never ranks people.",
        "employees_listens": "The web UI shows you who listened to or downloaded your calls, and when.",
        "employees_ack": "Before recording, you confirm that you received this notice (version {version}): "
        "in the web UI or on paper.",
        "employees_required": "Calls of your extension are not recorded until that confirmation exists.",
        "version": "Notice version: {version}.",
    },
}


def render_notice(facts: ProcessingFacts, lang: str = "et", audience: str = "callers") -> str:
    """The Art. 13 notice as Markdown."""
    if lang not in common.LANGS or audience not in AUDIENCES:
        raise ValueError(f"lang must be one of {common.LANGS}, audience one of {AUDIENCES}")
    t = _T[lang]
    contact = facts.controller_contact or common.MISSING[lang]
    out = [f"# {t['title_' + audience]}", ""]
    out += [f"## {t['controller']}", "", facts.controller_name or common.MISSING[lang], ""]
    out.append(f"{t['contact']}: {contact}")
    if facts.dpo:
        out.append(f"{t['dpo']}: {facts.dpo}")
    out += ["", f"## {t['purpose']}", ""]
    basis = common.BASIS[lang].get(facts.lawful_basis, facts.lawful_basis)
    out.append(t["recording"].format(purpose=facts.purpose, basis=basis))
    if facts.analysis_purpose:
        lines = (
            t["analysis_lines"].format(lines=", ".join(facts.analysis_lines)) if facts.analysis_lines else ""
        )
        text = t["analysis_text"] if facts.transcription else ""
        out += ["", t["analysis"].format(purpose=facts.analysis_purpose, lines=lines, text=text)]
    out += ["", f"## {t['retention']}", "", t["retention_intro"], *common.retention_lines(facts, lang)]
    out += ["", f"## {t['recipients']}", ""]
    if facts.recipients:
        out += [t["recipients_some"], *(common.recipient(r, lang) for r in facts.recipients)]
    else:
        out.append(t["recipients_none"])
    out += ["", f"## {t['rights']}", "", t["rights_intro"], *common.rights(facts, lang), ""]
    out.append(t["rights_how"].format(contact=contact))
    out += ["", f"## {t['complain']}", "", t["complain_text"].format(aki=common.AKI[lang])]
    if audience == "employees":
        out += ["", f"## {t['employees']}", ""]
        if facts.employee_extensions:
            out.append(t["employees_exts"].format(exts=", ".join(facts.employee_extensions)))
        out.append(t["employees_no_monitor"])
        out.append(t["employees_listens"])
        if facts.employee_notice_version:
            out.append(t["employees_ack"].format(version=facts.employee_notice_version))
        if facts.require_employee_notice:
            out.append(t["employees_required"])
    if facts.employee_notice_version and audience == "employees":
        out += ["", t["version"].format(version=facts.employee_notice_version)]
    return "\n".join(out) + "\n"
