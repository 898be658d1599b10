"""Voluptuous schema of a SIP gateway profile (``hardware/sip_gateways/*.yaml``).

A hardware SIP gateway (an FXO adapter on an analogue line, a GSM/LTE box with SIM cards)
speaks SIP, but each one speaks it its own way: whether it registers to the PBX, is
trusted by address or wants the PBX to register to it; which header carries the caller's
number and whether that number is national or international; how it sends DTMF; whether
it rings with 180 or 183; and whether it can tell when the far party answered at all.
A profile writes that down once per model.  The ``sip_trunk`` source reads the caller ID
part (:mod:`salvesti.integrations.sip.callerid`) and the answer supervision; the rest is
what an integrator needs to set the box up, and the ``unknown`` list says plainly what
nobody has verified on real hardware.
"""

from __future__ import annotations

import voluptuous as vol

#: How Salvesti and the gateway find each other.
CONNECT_MODES = ("registers_to_us", "trusted_by_address", "we_register")
#: Headers a gateway may carry the calling number in (RFC 3325, draft-ietf-sip-privacy-04, RFC 3261).
CALLER_ID_HEADERS = ("P-Asserted-Identity", "Remote-Party-ID", "From")
#: The form of the number the gateway sends: ``e164`` (+3725551234), ``international``
#: (3725551234 or 003725551234, no plus), ``national`` (5551234, or 0 + number where the
#: country has a trunk prefix), ``auto`` (any of these, told apart by the number itself).
CALLER_ID_FORMS = ("e164", "international", "national", "auto")
DTMF_MODES = ("rfc4733", "sip_info", "inband")
CODECS = ("PCMU", "PCMA", "G722", "G729", "G723", "iLBC", "opus", "AMR")
KEEPALIVE_METHODS = ("options", "notify", "crlf", "register", "none")
#: How a call through the gateway knows that the far party answered: ``network`` (GSM:
#: the mobile network signals the answer), ``polarity_reversal`` (an analogue line that
#: reverses polarity on answer, where the operator offers it), ``none`` (the FXO port
#: sends 200 as soon as it has dialled: talk time then starts too early).
ANSWER_SUPERVISION = ("network", "polarity_reversal", "none")
#: The provisional answer it sends while the far party rings when we call out through it.
PROVISIONAL = ("180", "183", "either")

PROFILE = vol.Schema(
    {
        vol.Required("name"): vol.All(str, vol.Match(r"^[a-z0-9_]+$")),
        vol.Required("title"): str,
        vol.Required("kind"): vol.In(("fxo", "gsm")),
        vol.Optional("ports", default=1): vol.All(int, vol.Range(min=1, max=64)),
        vol.Required("sources"): vol.All([str], vol.Length(min=1)),
        vol.Required("connect"): {
            vol.Required("supported"): vol.All([vol.In(CONNECT_MODES)], vol.Length(min=1)),
            vol.Required("recommended"): vol.In(CONNECT_MODES),
            vol.Optional("notes"): str,
        },
        vol.Required("caller_id"): {
            # Read in this order; the first header with a usable number wins.
            vol.Required("headers"): vol.All([vol.In(CALLER_ID_HEADERS)], vol.Length(min=1)),
            vol.Required("form"): vol.In(CALLER_ID_FORMS),
            # User parts that mean "withheld" (compared without case).
            vol.Optional("withheld", default=["anonymous", "unknown", "restricted", "private"]): [str],
            vol.Optional("notes"): str,
        },
        vol.Required("dtmf"): {
            vol.Required("modes"): vol.All([vol.In(DTMF_MODES)], vol.Length(min=1)),
            vol.Required("default"): vol.In(DTMF_MODES),
        },
        vol.Required("provisional"): vol.In(PROVISIONAL),
        vol.Required("codecs"): vol.All([vol.In(CODECS)], vol.Length(min=1)),
        vol.Required("keepalive"): {
            vol.Required("method"): vol.In(KEEPALIVE_METHODS),
            vol.Optional("interval_s"): vol.All(int, vol.Range(min=1, max=3600)),
            vol.Optional("notes"): str,
        },
        vol.Required("answer_supervision"): {
            vol.Required("outbound"): vol.In(ANSWER_SUPERVISION),
            vol.Optional("notes"): str,
        },
        vol.Optional("quirks", default=[]): [str],
        vol.Optional("notes", default=""): str,
        # What we could not verify: said plainly so nobody mistakes a guess for a fact.
        vol.Required("unknown"): vol.All([str], vol.Length(min=1)),
    }
)


def check_consistency(data: dict) -> list[tuple[list, str]]:
    """Cross-field rules the schema cannot say: (path, message) pairs."""
    problems = []
    if data["connect"]["recommended"] not in data["connect"]["supported"]:
        problems.append((["connect", "recommended"], "must be one of connect.supported"))
    if data["dtmf"]["default"] not in data["dtmf"]["modes"]:
        problems.append((["dtmf", "default"], "must be one of dtmf.modes"))
    return problems
