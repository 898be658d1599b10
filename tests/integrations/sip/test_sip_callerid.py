"""The caller's number on each gateway profile's INVITE (documented shapes in
gateway_invites/), normalised to E.164; withheld and unknown forms kept, never dropped."""

from __future__ import annotations

from pathlib import Path

import pytest

from salvesti.core.protocols.sip.message import parse_message
from salvesti.hardware.gateways import CallerIdSpec, load_gateway_profile
from salvesti.integrations.sip.callerid import CallerNumber, caller_from_invite, normalise

INVITES = Path(__file__).parent / "gateway_invites"


def read(name: str):
    return parse_message(
        (INVITES / f"{name}.sip").read_bytes().replace(b"\n", b"\r\n").replace(b"\r\r", b"\r")
    )


CASES = [
    # invite file, profile, gateway user, expected
    (
        "grandstream_ht813",
        "grandstream_ht813",
        "gw-fxo1",
        CallerNumber("+3725551234", "5551234", "P-Asserted-Identity", "national", name="Mari Maasikas"),
    ),
    (
        "grandstream_ht813_no_cid",
        "grandstream_ht813",
        "gw-fxo1",
        CallerNumber(None, "gw-fxo1", "From", "absent"),
    ),
    (
        "grandstream_gxw4104",
        "grandstream_gxw4104",
        "gxw-ch1",
        CallerNumber("+3726012345", "6012345", "From", "national", name="6012345"),
    ),
    (
        "yeastar_tg",
        "yeastar_tg",
        "gsm1",
        CallerNumber("+37255512345", "+37255512345", "From", "e164", name="+37255512345"),
    ),
    (
        "dinstar_uc",
        "dinstar_uc",
        "uc-port1",
        CallerNumber("+37255512345", "0037255512345", "P-Asserted-Identity", "international"),
    ),
    (
        "goip",
        "goip",
        "goip1",
        CallerNumber("+37255512345", "37255512345", "From", "international", name="37255512345"),
    ),
    (
        "generic_fxo",
        "generic_fxo",
        "fxo",
        CallerNumber("+3726012345", "6012345", "Remote-Party-ID", "national", name="Jaan Tamm"),
    ),
    (
        "yeastar_tg_withheld",
        "yeastar_tg",
        "gsm1",
        CallerNumber(None, "anonymous", "From", "withheld", name="anonymous"),
    ),
    (
        "goip_unknown_form",
        "goip",
        "goip1",
        CallerNumber("INFO-SMS", "INFO-SMS", "From", "unknown", True, "Info"),
    ),
]


@pytest.mark.parametrize(("invite", "profile", "user", "expected"), CASES, ids=[c[0] for c in CASES])
def test_caller_number_per_profile(invite, profile, user, expected):
    spec = load_gateway_profile(profile).caller_id
    assert caller_from_invite(read(invite), spec, "EE", gateway_user=user) == expected


def test_every_documented_invite_is_covered():
    assert {p.stem for p in INVITES.glob("*.sip")} == {c[0] for c in CASES}


def test_the_first_header_present_decides():
    """PAI withheld while From has the gateway's account: the caller is withheld, not the account."""
    spec = CallerIdSpec(("P-Asserted-Identity", "From"), "national", ("anonymous",))
    invite = read("grandstream_ht813")
    invite.headers.set("P-Asserted-Identity", "<sip:anonymous@anonymous.invalid>")
    assert caller_from_invite(invite, spec, "EE").form == "withheld"
    invite.headers.remove("P-Asserted-Identity")
    assert caller_from_invite(invite, spec, "EE").number == "gw-fxo1", (
        "without gateway_user it is kept, flagged"
    )
    assert caller_from_invite(invite, spec, "EE").flagged


@pytest.mark.parametrize(
    ("user", "form", "country", "expected"),
    [
        ("5551234", "national", "EE", ("national", "+3725551234")),
        ("0401234567", "national", "FI", ("national", "+358401234567")),
        ("358401234567", "international", "EE", ("international", "+358401234567")),
        ("358401234567", "auto", "EE", ("national", "+372358401234567")),
        ("00358401234567", "national", "EE", ("international", "+358401234567")),
        ("+3725551234", "national", "EE", ("e164", "+3725551234")),
        ("1234", "auto", "EE", ("unknown", None)),
        ("+37", "e164", "EE", ("unknown", None)),
        ("12345678901234567", "auto", "EE", ("unknown", None)),
        ("55x1234", "auto", "EE", ("unknown", None)),
    ],
)
def test_normalise(user, form, country, expected):
    assert normalise(user, form, country) == expected


def test_meta_is_what_the_call_object_keeps():
    number = CallerNumber("+3725551234", "5551234", "P-Asserted-Identity", "national", name="Mari")
    assert number.meta() == {
        "header": "P-Asserted-Identity",
        "raw": "5551234",
        "form": "national",
        "flagged": False,
        "name": "Mari",
    }
