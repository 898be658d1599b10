"""Phrases the notice and the record share, in Estonian and English.

Kept in one place so both documents name the lawful basis, the retention terms, the
recipients and the supervisory authority in exactly the same words.
"""

from __future__ import annotations

from salvesti.privacy.facts import ANY_LINE, ProcessingFacts, Recipient, RetentionTerm

LANGS = ("et", "en")

BASIS = {
    "et": {
        "consent": "nõusolek (IKÜM art 6 lg 1 p a)",
        "contract": "lepingu täitmine (IKÜM art 6 lg 1 p b)",
        "legal_obligation": "juriidiline kohustus (IKÜM art 6 lg 1 p c)",
        "legitimate_interest": "õigustatud huvi (IKÜM art 6 lg 1 p f)",
    },
    "en": {
        "consent": "consent (GDPR Art. 6(1)(a))",
        "contract": "performance of a contract (GDPR Art. 6(1)(b))",
        "legal_obligation": "a legal obligation (GDPR Art. 6(1)(c))",
        "legitimate_interest": "legitimate interest (GDPR Art. 6(1)(f))",
    },
}

#: The Estonian supervisory authority (GDPR Art. 77).
AKI = {
    "et": "Andmekaitse Inspektsioon, Tatari 39, 10134 Tallinn, info@aki.ee, https://www.aki.ee",
    "en": "the Estonian Data Protection Inspectorate (Andmekaitse Inspektsioon), Tatari 39, 10134 Tallinn, "
    "info@aki.ee, https://www.aki.ee",
}

MISSING = {
    "et": "(seadistamata: lisa salvesti.controller)",
    "en": "(not configured: add salvesti.controller)",
}

_DIRECTION = {
    "et": {"inbound": "sissetulevad kõned", "outbound": "väljuvad kõned", "internal": "sisekõned"},
    "en": {"inbound": "inbound calls", "outbound": "outbound calls", "internal": "internal calls"},
}


def days(n: int, lang: str) -> str:
    if lang == "et":
        return f"{n} päev" if n == 1 else f"{n} päeva"
    return f"{n} day" if n == 1 else f"{n} days"


def term(t: RetentionTerm, lang: str) -> str:
    """``60 päeva (reegel sales)`` / ``inbound calls: 10 days (rule default)``."""
    rule = f"({'reegel' if lang == 'et' else 'rule'} {t.rule})"
    if t.condition is None:
        rest = "ülejäänud kõned" if lang == "et" else "other calls"
        return f"{rest}: {days(t.days, lang)} {rule}"
    kind, value = t.condition
    what = (
        _DIRECTION[lang].get(value, value)
        if kind == "direction"
        else (f"kõned numbriga {value}" if lang == "et" else f"calls with {value}")
    )
    return f"{what}: {days(t.days, lang)} {rule}"


def retention_lines(facts: ProcessingFacts, lang: str) -> list[str]:
    """One bullet per line: its terms in order, and a warning where calls have no limit."""
    out = []
    for line, terms in facts.retention.items():
        parts = [term(t, lang) for t in terms]
        if len(terms) == 1 and terms[0].condition is None:
            parts = [f"{days(terms[0].days, lang)} ({'reegel' if lang == 'et' else 'rule'} {terms[0].rule})"]
        if not terms or terms[-1].condition is not None:
            parts.append(
                "ülejäänud kõned: tähtajatult, kuni kustutatakse käsitsi (lisa säilitusreegel)"
                if lang == "et"
                else "other calls: without a limit, until deleted by hand (add a retention rule)"
            )
        if line == ANY_LINE:
            label = "kõik kõned" if lang == "et" else "every call"
        else:
            label = f"liin {line}" if lang == "et" else f"line {line}"
        out.append(f"- {label}: " + "; ".join(parts))
    return out


def recipient(r: Recipient, lang: str) -> str:
    names = {
        "et": {
            "storage": "salvestiste hoidla (S3)",
            "webhook": "veebikonks (kõne andmed, mitte salvestis)",
            "mqtt": "MQTT vahendaja (kõne olek, mitte salvestis)",
        },
        "en": {
            "storage": "recording storage (S3)",
            "webhook": "webhook (call data, not the recording)",
            "mqtt": "MQTT broker (call state, not the recording)",
        },
    }
    name = names[lang].get(r.kind)
    return f"- {name}: {r.where}" if name else f"- {r.where}"


def rights(facts: ProcessingFacts, lang: str) -> list[str]:
    """The data subject's rights that apply under the configured basis."""
    et = lang == "et"
    out = [
        "- tutvuda oma andmetega ja saada koopia kõne salvestisest (art 15)"
        if et
        else "- access your data and get a copy of the recording of your call (Art. 15)",
        "- nõuda ebaõigete andmete parandamist (art 16)" if et else "- have wrong data corrected (Art. 16)",
        "- nõuda andmete kustutamist (art 17)" if et else "- have your data erased (Art. 17)",
        "- nõuda töötlemise piiramist (art 18)" if et else "- have processing restricted (Art. 18)",
    ]
    if facts.lawful_basis in ("legitimate_interest",):
        out.append(
            "- esitada töötlemise suhtes vastuväide (art 21)"
            if et
            else "- object to the processing (Art. 21)"
        )
    if facts.lawful_basis in ("consent", "contract"):
        out.append("- andmete ülekandmisele (art 20)" if et else "- data portability (Art. 20)")
    if facts.lawful_basis == "consent":
        out.append(
            "- võtta nõusolek igal ajal tagasi (art 7 lg 3)"
            if et
            else "- withdraw consent at any time (Art. 7(3))"
        )
    return out
