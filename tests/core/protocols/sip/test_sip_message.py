"""Parsing and serialising whole SIP messages, against captured and vendor-style goldens."""

from __future__ import annotations

from pathlib import Path

import pytest

from salvesti.core.protocols.sip.errors import SipParseError
from salvesti.core.protocols.sip.headers import Headers
from salvesti.core.protocols.sip.message import (
    SipRequest,
    SipResponse,
    build_response,
    is_keepalive,
    make_via,
    new_branch,
    new_call_id,
    new_tag,
    parse_message,
)
from salvesti.core.protocols.sip.uri import Address

GOLDEN_DIR = Path(__file__).parent / "golden"
GOLDEN = sorted(p.name for p in GOLDEN_DIR.glob("*.sip"))


def test_golden_set_is_complete() -> None:
    # Captured from real peers plus vendor-style samples; guard against a lost file.
    assert len(GOLDEN) >= 20
    assert "baresip_invite.sip" in GOLDEN and "sipp_uac_invite.sip" in GOLDEN


@pytest.mark.parametrize("name", GOLDEN)
def test_golden_round_trip(name: str) -> None:
    """parse -> serialise -> parse gives the same message, and serialising is stable."""
    data = (GOLDEN_DIR / name).read_bytes()
    msg = parse_message(data)
    wire = msg.to_bytes()
    again = parse_message(wire)
    assert again == msg
    assert again.to_bytes() == wire
    assert again.call_id and again.cseq[0] >= 0


@pytest.mark.parametrize(
    "name", [n for n in GOLDEN if n.startswith(("sipp_", "baresip_", "challenge_")) and "compact" not in n]
)
def test_captured_messages_serialise_byte_identical(name: str) -> None:
    """Real peers' messages (canonical names, CRLF) come back out byte for byte, except
    that Content-Length is rewritten without sipp's extra spaces."""
    data = (GOLDEN_DIR / name).read_bytes()
    assert parse_message(data).to_bytes() == data.replace(b"Content-Length:   ", b"Content-Length: ")


def test_baresip_invite_fields(golden) -> None:
    msg = parse_message(golden("baresip_invite.sip"))
    assert isinstance(msg, SipRequest)
    assert msg.method == "INVITE"
    assert msg.uri == "sip:bob@127.0.0.1:15071"
    assert msg.cseq[1] == "INVITE"
    assert msg.from_addr.uri.user == "alice"
    assert msg.from_addr.tag
    assert msg.to_addr.tag is None
    assert msg.via.transport == "UDP" and msg.via.port == 15062 and "rport" in msg.via.params
    assert msg.via.branch.startswith("z9hG4bK")
    assert msg.headers.get("content-type") == "application/sdp"
    assert msg.body.startswith(b"v=0\r\n")
    assert msg.headers.get("Supported") is not None


def test_compact_forms_and_odd_spacing(golden) -> None:
    msg = parse_message(golden("cisco_invite_compact.sip"))
    names = [n for n, _ in msg.headers.items()]
    assert names[:5] == ["Via", "Via", "From", "To", "Call-ID"]
    assert "Contact" in names and "Supported" in names and "Content-Type" in names
    assert "Content-Length" in names
    assert msg.call_id == "00112233-44556677-8899aabb-ccddeeff@10.0.0.9"
    assert msg.cseq == (101, "INVITE")
    vias = msg.vias
    assert [v.branch for v in vias] == ["z9hG4bK3e7a1b2c", "z9hG4bK99aa", "z9hG4bKold"]
    assert [v.transport for v in vias] == ["UDP", "TCP", "UDP"]
    assert vias[2].port is None
    assert msg.from_addr.display == "Cisco CP-8841"
    assert msg.to_addr.uri.params == {"user": "phone"}
    assert msg.headers.get("Subject") == "quarterly review call"  # folded line joined
    assert msg.contact is not None and msg.contact.uri.params == {"transport": "udp"}
    assert len(msg.body) == 220


def test_ipv6_and_tel_uris(golden) -> None:
    msg = parse_message(golden("ipv6_tel_invite.sip"))
    assert msg.parsed_uri.scheme == "tel" and msg.parsed_uri.user == "+3725551234"
    assert msg.parsed_uri.params == {"phone-context": "+372"}
    assert msg.via.host == "2001:db8::10" and msg.via.port == 5060
    assert msg.from_addr.uri.user == "+3726000000"
    assert msg.to_addr.display == "Kliendid"
    assert msg.contact.uri.host == "2001:db8::10"
    assert msg.headers.get_all("Record-Route") == [
        "<sip:[2001:db8::1];lr>",
        "<sip:edge.example.ee;lr;transport=tcp>",
    ]


def test_lf_only_message(golden) -> None:
    data = golden("lf_only_options.sip")
    assert b"\r" not in data
    msg = parse_message(data)
    assert msg.method == "OPTIONS"
    assert msg.to_bytes() == data.replace(b"\n", b"\r\n")


def test_utf8_display_name(golden) -> None:
    msg = parse_message(golden("yealink_invite.sip"))
    assert msg.from_addr.display == "Tõnu"


def test_latin1_display_name_is_tolerated() -> None:
    data = (GOLDEN_DIR / "lf_only_options.sip").read_bytes().replace(b"<sip:ping", b'"T\xf5nu" <sip:ping')
    assert parse_message(data).from_addr.display == "Tõnu"


def test_case_insensitive_header_names() -> None:
    raw = (
        b"OPTIONS sip:a@b SIP/2.0\r\nvIa: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFROM: <sip:x@y>;tag=1\r\n"
        b"to: <sip:a@b>\r\nCALL-ID: abc\r\ncseq: 1 OPTIONS\r\nCONTENT-LENGTH: 0\r\n\r\n"
    )
    msg = parse_message(raw)
    assert [n for n, _ in msg.headers.items()] == ["Via", "From", "To", "Call-ID", "CSeq", "Content-Length"]
    assert msg.headers.get("call-id") == msg.headers.get("Call-Id") == "abc"


def test_leading_keepalive_crlf_is_skipped(golden) -> None:
    assert parse_message(b"\r\n\r\n" + golden("sipp_uac_bye.sip")).method == "BYE"
    assert is_keepalive(b"\r\n\r\n") and is_keepalive(b"\r\n") and not is_keepalive(b"")
    assert not is_keepalive(b"OPTIONS")


def test_udp_content_length_truncates_padding(golden) -> None:
    data = golden("sipp_uac_invite.sip")
    msg = parse_message(data + b"\x00\x00garbage")
    assert msg.body == parse_message(data).body


def test_no_content_length_takes_rest_of_datagram() -> None:
    raw = (
        b"MESSAGE sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:x@y>;tag=1\r\n"
        b"To: <sip:a@b>\r\nCall-ID: abc\r\nCSeq: 1 MESSAGE\r\n\r\nhello"
    )
    assert parse_message(raw).body == b"hello"


def test_response_fields(golden) -> None:
    msg = parse_message(golden("sipp_uas_200_ok_sdp.sip"))
    assert isinstance(msg, SipResponse)
    assert (msg.status, msg.reason) == (200, "OK")
    assert msg.to_addr.tag
    assert msg.contact is not None


def test_empty_reason_phrase() -> None:
    raw = (
        b"SIP/2.0 404\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:x@y>;tag=1\r\n"
        b"To: <sip:a@b>;tag=2\r\nCall-ID: abc\r\nCSeq: 1 INVITE\r\n\r\n"
    )
    msg = parse_message(raw)
    assert (msg.status, msg.reason) == (404, "")


def test_to_bytes_sets_content_length() -> None:
    h = Headers([("Via", "SIP/2.0/UDP h;branch=z9hG4bK1"), ("Content-Length", "999")])
    msg = SipRequest("MESSAGE", "sip:a@b", h, b"12345")
    assert b"\r\nContent-Length: 5\r\n\r\n12345" in msg.to_bytes()
    assert SipResponse(200, "OK", Headers()).to_bytes() == b"SIP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n"


BAD = [
    (b"", "empty message"),
    (b"\r\n\r\n", "empty message"),
    (b"HELLO\r\n\r\n", "bad request line: 'HELLO'"),
    (b"INVITE sip:a@b SIP/3.0\r\n\r\n", "unsupported SIP version 'SIP/3.0' in request line"),
    (b"INVITE nocolon SIP/2.0\r\n\r\n", "bad Request-URI in request line: 'nocolon'"),
    (b"SIP/2.0 99 Low\r\n\r\n", "bad status line: 'SIP/2.0 99 Low'"),
    (b"SIP/2.0 700 High\r\n\r\n", "status code out of range in status line: 'SIP/2.0 700 High'"),
    (
        b"OPTIONS sip:a@b SIP/2.0\r\nVia SIP/2.0/UDP h\r\n\r\n",
        "line 2: header line without ':': 'Via SIP/2.0/UDP h'",
    ),
    (b"OPTIONS sip:a@b SIP/2.0\r\n continued\r\n\r\n", "line 2: continuation line before any header"),
    (b"OPTIONS sip:a@b SIP/2.0\r\nBad Name: x\r\n\r\n", "line 2: bad header name 'Bad Name'"),
    (
        b"OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n\r\n",
        "missing required header 'From'",
    ),
]


@pytest.mark.parametrize(("data", "message"), BAD)
def test_malformed_messages_raise_exact_errors(data: bytes, message: str) -> None:
    with pytest.raises(SipParseError) as info:
        parse_message(data)
    assert str(info.value) == message


HEAD = (
    b"INVITE sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h:5060;branch=z9hG4bK1\r\n"
    b"From: <sip:x@y>;tag=1\r\nTo: <sip:a@b>\r\n"
)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (b"Call-ID: c\r\nCSeq: x INVITE\r\n", "bad CSeq header: 'x INVITE'"),
        (b"Call-ID: c\r\nCSeq: 1\r\n", "bad CSeq header: '1'"),
        (b"Call-ID: c\r\nCSeq: 99999999999 INVITE\r\n", "CSeq number out of range: '99999999999 INVITE'"),
        (b"Call-ID: c\r\nCSeq: 1 BYE\r\n", "CSeq method 'BYE' does not match request method 'INVITE'"),
        (b"Call-ID: \r\nCSeq: 1 INVITE\r\n", "empty Call-ID header"),
        (b"Call-ID: c\r\nCSeq: 1 INVITE\r\nContent-Length: abc\r\n", "bad Content-Length header: 'abc'"),
        (
            b"Call-ID: c\r\nCSeq: 1 INVITE\r\nContent-Length: 10\r\n",
            "Content-Length 10 exceeds body length 0",
        ),
        (b"Call-ID: c\r\nCSeq: 1 INVITE\r\nMax-Forwards: many\r\n", "bad Max-Forwards header: 'many'"),
    ],
)
def test_bad_core_headers_raise_exact_errors(extra: bytes, message: str) -> None:
    with pytest.raises(SipParseError) as info:
        parse_message(HEAD + extra + b"\r\n")
    assert str(info.value) == message


def test_bad_from_names_the_header() -> None:
    data = HEAD.replace(b"<sip:x@y>", b"<sip:x@y") + b"Call-ID: c\r\nCSeq: 1 INVITE\r\n\r\n"
    with pytest.raises(SipParseError, match=r"missing '>' in address '<sip:x@y;tag=1'"):
        parse_message(data)


def test_bad_via_names_the_header() -> None:
    data = (
        HEAD.replace(b"SIP/2.0/UDP h:5060", b"SIP/2.0/UDP h:99999") + b"Call-ID: c\r\nCSeq: 1 INVITE\r\n\r\n"
    )
    with pytest.raises(SipParseError, match=r"bad port in Via"):
        parse_message(data)


def test_build_response_copies_dialog_headers(golden) -> None:
    req = parse_message(golden("cisco_invite_compact.sip"))
    resp = build_response(req, 180, to_tag="abc", headers=[("Contact", "<sip:rec@10.0.0.5>")])
    assert resp.reason == "Ringing"
    assert resp.headers.get_all("Via") == req.headers.get_all("Via")
    assert resp.headers.get("From") == req.headers.get("From")
    assert resp.to_addr.tag == "abc"
    assert resp.call_id == req.call_id and resp.cseq == req.cseq
    assert resp.headers.get("Contact") == "<sip:rec@10.0.0.5>"
    again = parse_message(resp.to_bytes())
    assert again == resp


def test_build_response_keeps_existing_to_tag_and_skips_100(golden) -> None:
    req = parse_message(golden("sipp_uac_bye.sip"))
    assert req.to_addr.tag
    assert build_response(req, 200, to_tag="other").to_addr.tag == req.to_addr.tag
    invite = parse_message(golden("sipp_uac_invite.sip"))
    assert build_response(invite, 100, to_tag="t").to_addr.tag is None
    assert build_response(invite, 487).reason == "Request Terminated"
    assert build_response(invite, 299).reason == "OK"
    assert build_response(invite, 499, "Custom").reason == "Custom"


def test_build_response_copies_record_route_only_for_dialog_responses(golden) -> None:
    req = parse_message(golden("ipv6_tel_invite.sip"))
    assert len(build_response(req, 200, to_tag="x").headers.get_all("Record-Route")) == 2
    assert build_response(req, 486, to_tag="x").headers.get_all("Record-Route") == []


def test_identifiers() -> None:
    branches = {new_branch() for _ in range(100)}
    assert len(branches) == 100 and all(b.startswith("z9hG4bK") for b in branches)
    assert len(new_tag()) >= 8 and new_tag() != new_tag()
    assert new_call_id("example.ee").endswith("@example.ee")
    via = make_via("udp", "::1", 5060, branch="z9hG4bKx")
    assert via == "SIP/2.0/UDP [::1]:5060;branch=z9hG4bKx;rport"


def test_unregister_all_contact_star(golden) -> None:
    msg = parse_message(golden("yealink_register_unregister_all.sip"))
    assert msg.headers.get("Contact") == "*" and msg.contact is None
    assert msg.headers.get("Expires") == "0"


def test_cancel_and_options_from_vendors(golden) -> None:
    cancel = parse_message(golden("grandstream_cancel.sip"))
    assert cancel.method == "CANCEL" and cancel.cseq == (21, "CANCEL")
    assert cancel.headers.get("Reason") == 'SIP;cause=487;text="Request Terminated"'
    options = parse_message(golden("asterisk_options_qualify.sip"))
    assert options.via.params == {"rport": None, "branch": "z9hG4bKPjq1w2e3r4t5"}
    assert options.to_addr.uri.params == {"line": "xyz"}


def test_registrar_answer_with_several_contacts(golden) -> None:
    resp = parse_message(golden("multi_contact_register_200.sip"))
    contacts = [Address.parse(c) for c in resp.headers.get_all("Contact")]
    assert [(c.uri.host, c.params.get("expires")) for c in contacts] == [
        ("198.51.100.7", "120"),
        ("10.1.1.2", "3600"),
        ("2001:db8::7", "60"),
    ]
    assert contacts[1].display == "Desk, 2" and contacts[1].params["q"] == "0.5"
    assert resp.via.received == "198.51.100.7" and resp.via.rport == 5060
