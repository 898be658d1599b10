"""The caller's number on a gateway's INVITE, read where its profile says (sans-IO).

A gateway's INVITE says who is calling in one of three headers (P-Asserted-Identity,
Remote-Party-ID, From) and in the form the telephone network handed it over: national
(``5551234``, ``0551234``), international without a plus (``3725551234``, ``00372...``)
or E.164.  :func:`caller_from_invite` reads the first of the profile's headers that the
INVITE carries and normalises the number to E.164 with the configured default country.

Bad input is never dropped: a number in a form we do not recognise (letters, too short,
too long) is kept exactly as it came and flagged, so the call is still listed and someone
can see what the gateway sent.  A withheld number is ``None`` with form ``withheld``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from salvesti.core.numbers import normalize_number
from salvesti.core.protocols.sip.errors import SipParseError
from salvesti.core.protocols.sip.message import SipRequest
from salvesti.core.protocols.sip.uri import Address
from salvesti.hardware.gateways import CallerIdSpec

# E.164 (ITU-T E.164 §6): "+", a country code that does not start with 0, at most 15 digits.
# Seven is the shortest subscriber number we accept as a caller (shorter ones are service
# or internal numbers that the normaliser leaves alone).
_E164 = re.compile(r"^\+[1-9]\d{6,14}$")
_SEPARATORS = re.compile(r"[\s\-().]")


@dataclass(frozen=True)
class CallerNumber:
    """Who called, as read from one INVITE."""

    #: E.164 when recognised; the user part as it came when ``flagged``; None when withheld/absent.
    number: str | None
    #: The user part exactly as the header carried it.
    raw: str | None
    #: The header it came from, or None when no header named a caller.
    header: str | None
    #: ``e164``, ``international``, ``national``, ``withheld``, ``absent`` or ``unknown``.
    form: str
    #: True when the number is kept as it came because it is in no form we recognise.
    flagged: bool = False
    name: str | None = None

    def meta(self) -> dict[str, Any]:
        """What the call object keeps of it (``meta.gateway.caller_id``)."""
        out: dict[str, Any] = {
            "header": self.header,
            "raw": self.raw,
            "form": self.form,
            "flagged": self.flagged,
        }
        if self.name:
            out["name"] = self.name
        return out


def caller_from_invite(
    request: SipRequest, spec: CallerIdSpec, default_country: str, *, gateway_user: str | None = None
) -> CallerNumber:
    """The calling number per ``spec``.

    The first of ``spec.headers`` present on the INVITE decides: when it says the number is
    withheld, a later header is not asked (a gateway then often puts its own account in
    From, which is not the caller).  ``gateway_user`` is the gateway's own SIP user: a
    From carrying it means "no caller ID", not a caller with that number.
    """
    for header in spec.headers:
        value = request.headers.get(header)
        if not value:
            continue
        try:
            address = Address.parse(value.split(",", 1)[0] if header != "From" else value)
        except SipParseError:
            return CallerNumber(value.strip(), value.strip(), header, "unknown", flagged=True)
        raw = address.uri.user
        name = address.display or None
        if raw is None or raw.lower() in spec.withheld:
            return CallerNumber(None, raw, header, "withheld", name=name)
        if gateway_user is not None and raw == gateway_user:
            return CallerNumber(None, raw, header, "absent", name=name)
        return _number(raw, header, spec.form, default_country, name)
    return CallerNumber(None, None, None, "absent")


def _number(raw: str, header: str, form: str, default_country: str, name: str | None) -> CallerNumber:
    user = _SEPARATORS.sub("", raw.split(";", 1)[0])
    seen, number = normalise(user, form, default_country)
    if number is None:
        return CallerNumber(raw, raw, header, "unknown", flagged=True, name=name)
    return CallerNumber(number, raw, header, seen, name=name)


def normalise(user: str, form: str, default_country: str) -> tuple[str, str | None]:
    """``(form seen, E.164 number)``, the number None when ``user`` is no phone number.

    ``form`` is the profile's: ``international`` takes bare digits as country code +
    number (``358401234567`` is Finnish, not an Estonian number); every other form lets
    the core normaliser tell national, 00-international and E.164 apart.
    """
    if user.startswith("+"):
        seen = "e164"
        number = "+" + user[1:]
    elif not user.isdigit():
        return "unknown", None
    elif user.startswith("00") or form == "international":
        seen = "international"
        number = "+" + user.removeprefix("00")
    else:
        number = normalize_number(user, default_country) or ""
        # The normaliser only adds a bare "+" when the digits began with the country code.
        seen = "international" if number == "+" + user else "national"
    return (seen, number) if _E164.match(number) else ("unknown", None)
