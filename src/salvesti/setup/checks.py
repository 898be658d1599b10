"""Every wizard field checked the way the config schema checks it, with the reason in words.

The decision is always the schema's own validator (the sip source's ``hostport``, ``e164``,
``TRUNK_SCHEMA`` and ``EXTENSION_SCHEMA``, the core's ``CORE_SCHEMA``, the retention rule's
schema, the web users' password rules and the SIP weak-password list), so what the page
accepts ``check-config`` accepts too.  Only the wording is ours: a shop owner reads Estonian
first, so each problem carries an Estonian and an English text (the schema's English
message is kept in the English one where it says more).
"""

from __future__ import annotations

import re
from typing import Any

import voluptuous as vol

from salvesti.core.schema import CORE_SCHEMA
from salvesti.integrations.sip.schema import EXTENSION_SCHEMA, TRUNK_SCHEMA, e164, hostport
from salvesti.integrations.sip.weak_passwords import weakness
from salvesti.plugins.http.auth import check_password_rules
from salvesti.plugins.retention_max_age import SCHEMA as RETENTION_SCHEMA

#: A problem text per language, e.g. {"et": "...", "en": "..."}.
Words = dict[str, str]
#: Field name (as the page names its input) -> what is wrong with it.
Problems = dict[str, Words]

_USER_NAME = re.compile(r"^[A-Za-z0-9._@-]{1,64}$")


def words(et: str, en: str) -> Words:
    return {"et": et, "en": en}


def _invalid_text(err: vol.Invalid) -> str:
    return str(err.msg if isinstance(err, vol.Invalid) else err)


# -- step 1: owner ------------------------------------------------------------------------------
def owner_problems(name: str, password: str, again: str) -> Problems:
    """The admin's name and password: the web users' rules plus the SIP scanners' word list."""
    out: Problems = {}
    if not _USER_NAME.match(name):
        out["name"] = words(
            "Nimi on 1–64 tähte, numbrit või märki . _ - @ (tühikuteta), nt „mari”.",
            "A name is 1-64 letters, digits or . _ - @ (no spaces), e.g. 'mari'.",
        )
    rule = check_password_rules(password)
    why = weakness(name, password) if rule is None else None
    if rule is not None:
        long_ = len(password) > 1024
        out["password"] = words(
            "Parool on liiga pikk." if long_ else "Parool peab olema vähemalt 10 märki pikk.",
            f"The {rule}.",
        )
    elif why is not None:
        out["password"] = words(
            "See parool on liiga kergesti arvatav (levinud parool, kasutaja nimi või korduvad märgid); "
            "vali pikem ja juhuslikum.",
            f"This password {why}; choose a longer, less guessable one.",
        )
    if password != again:
        out["again"] = words("Paroolid ei ole samad.", "The two passwords differ.")
    return out


# -- step 2: purpose ----------------------------------------------------------------------------
def purpose_problems(purpose: str) -> Problems:
    try:
        CORE_SCHEMA({"purpose": purpose})
    except vol.Invalid:
        return {
            "purpose": words(
                "Kirjuta, miks kõnesid salvestatakse (nt klienditeeninduse kvaliteedi parandamine); "
                "seadus nõuab konkreetset eesmärki.",
                "Say why calls are recorded (e.g. customer service quality); the law asks for a "
                "specific purpose.",
            )
        }
    return {}


# -- step 3: carrier ----------------------------------------------------------------------------
def number_problem(value: str) -> Words | None:
    try:
        e164(value)
    except vol.Invalid as err:
        return words(
            f"„{value}” ei ole telefoninumber rahvusvahelisel kujul, nt +3726000000.",
            _invalid_text(err),
        )
    return None


def normal_number(value: str) -> str:
    """The number as the config will hold it (E.164); call after :func:`number_problem`."""
    return e164(value)


def account_problems(conf: dict[str, Any], prefix: str = "") -> Problems:
    """registrar / username / password as ``TRUNK_SCHEMA`` takes them."""
    out: Problems = {}
    registrar = str(conf.get("registrar") or "").strip()
    try:
        hostport(registrar)
    except vol.Invalid as err:
        out[prefix + "registrar"] = words(
            "SIP-serveri aadress on kujul sip.operaator.ee või sip.operaator.ee:5060 (operaatori "
            "SIP-seadetest).",
            f"The registrar is a host or host:port from the carrier's SIP settings ({_invalid_text(err)}).",
        )
    if not str(conf.get("username") or "").strip():
        out[prefix + "username"] = words("Kasutajanimi puudub.", "The user name is missing.")
    if not str(conf.get("password") or ""):
        out[prefix + "password"] = words("Parool puudub.", "The password is missing.")
    if not out:
        try:
            TRUNK_SCHEMA({k: conf[k] for k in ("registrar", "username", "password")})
        except vol.Invalid as err:  # the rest of the schema, should it grow a rule
            out[prefix + "registrar"] = words(f"Sobimatu: {_invalid_text(err)}", _invalid_text(err))
    return out


def numbers_problems(numbers: list[str], field: str = "numbers") -> Problems:
    if not numbers:
        return {field: words("Lisa vähemalt üks number, nt +3726000000.", "Add at least one number.")}
    for value in numbers:
        problem = number_problem(value)
        if problem is not None:
            return {field: problem}
    normal = [normal_number(n) for n in numbers]
    if len(set(normal)) != len(normal):
        return {field: words("Sama number on kaks korda.", "A number is listed twice.")}
    return {}


# -- step 4: extensions -------------------------------------------------------------------------
def extension_problems(index: int, user: str, name: str, password: str) -> Problems:
    """One desk phone as ``EXTENSION_SCHEMA`` takes it (its password is generated, so strong)."""
    try:
        EXTENSION_SCHEMA({"user": user, "password": password, "name": name})
    except vol.Invalid as err:
        return {
            f"extensions.{index}.user": words(
                f"Sisenumber „{user}” peab olema 1–32 tähte, numbrit või märki _.-+ (nt 101).",
                _invalid_text(err),
            )
        }
    return {}


# -- step 6: retention --------------------------------------------------------------------------
def days_problem(value: Any) -> Words | None:
    try:
        days = int(value)
        if str(days) != str(value).strip():
            raise ValueError
        RETENTION_SCHEMA({"platform": "max_age", "id": "x", "days": days})
    except (ValueError, TypeError, vol.Invalid):
        return words(
            "Päevade arv on täisarv 0 kuni 36500 (operaator müüb 10 või 60 päeva).",
            "Days are a whole number from 0 to 36500 (the carrier sells 10 or 60).",
        )
    return None


# -- step 7: employees --------------------------------------------------------------------------
def employee_problems(lines: list[str]) -> Problems:
    for text in lines:
        if len(text) > 200 or any(ord(c) < 32 for c in text):
            return {
                "employees": words(
                    "Üks rida on liiga pikk või sisaldab juhtmärke.",
                    "A line is too long or holds control characters.",
                )
            }
    return {}
