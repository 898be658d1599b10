"""Phone numbers in E.164, so that ``5551234`` and ``+372 555 1234`` are the same caller.

Deliberately small: carriers hand us digits in national, international (00…) or E.164 form
and we only need a canonical key for storage and search, not a full numbering-plan library.
"""

from __future__ import annotations

import re

_COUNTRY_CODES = {"EE": "372", "FI": "358", "LV": "371", "LT": "370", "SE": "46", "DE": "49", "GB": "44"}
_STRIP = re.compile(r"[\s\-().]")


def country_code(default_country: str) -> str:
    """Calling code for an ISO country ('EE') or a code given directly ('372' / '+372')."""
    dc = default_country.strip().lstrip("+")
    if dc.isdigit():
        return dc
    return _COUNTRY_CODES.get(dc.upper(), "372")


def normalize_number(raw: str | None, default_country: str = "EE") -> str | None:
    """Return an E.164 number (``+3725551234``) or the input unchanged if it is not a number.

    Extensions and SIP user names that are not phone numbers (``alice``) are returned as-is;
    short internal extensions (up to 4 digits) are kept without a country code.
    """
    if raw is None:
        return None
    s = _STRIP.sub("", raw)
    if not s:
        return None
    if s.startswith("+"):
        return "+" + s[1:] if s[1:].isdigit() else raw
    if not s.isdigit():
        return raw
    if s.startswith("00"):
        return "+" + s[2:]
    if len(s) <= 4:
        return s
    cc = country_code(default_country)
    if s.startswith(cc) and len(s) > len(cc) + 6:
        return "+" + s
    if s.startswith("0"):
        s = s[1:]
    return "+" + cc + s


def number_search_key(query: str, default_country: str = "EE") -> str:
    """Digits to match with a suffix/substring search: '5551234' finds '+3725551234'."""
    digits = re.sub(r"\D", "", query)
    return digits
