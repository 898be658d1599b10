"""Property tests: whatever bytes arrive, the parsers raise SipParseError or succeed."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from salvesti.core.protocols.sip.digest import parse_auth_header
from salvesti.core.protocols.sip.errors import SipParseError
from salvesti.core.protocols.sip.message import StreamParser, parse_message
from salvesti.core.protocols.sip.uri import Address, Via, parse_uri

GOLDEN_DIR = Path(__file__).parent / "golden"
SAMPLES = [p.read_bytes() for p in sorted(GOLDEN_DIR.glob("*.sip"))]
FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _parse_all(data: bytes) -> None:
    try:
        msg = parse_message(data)
    except SipParseError:
        return
    # A message that parsed must serialise and parse again to the same thing.
    assert parse_message(msg.to_bytes()) == msg


@st.composite
def mutated(draw) -> bytes:
    """A golden message with a few bytes replaced, inserted or deleted."""
    data = bytearray(draw(st.sampled_from(SAMPLES)))
    for _ in range(draw(st.integers(1, 6))):
        pos = draw(st.integers(0, len(data)))
        op = draw(st.sampled_from(["replace", "insert", "delete", "truncate"]))
        byte = draw(st.sampled_from(list(b':;,<>"\\ \t\r\n@[]=/0zZ\x00\xff')))
        if op == "replace" and pos < len(data):
            data[pos] = byte
        elif op == "insert":
            data.insert(pos, byte)
        elif op == "delete" and pos < len(data):
            del data[pos]
        elif op == "truncate":
            del data[pos:]
    return bytes(data)


@FUZZ
@given(st.binary(max_size=600))
def test_random_bytes_only_raise_sip_parse_error(data: bytes) -> None:
    _parse_all(data)


@FUZZ
@given(mutated())
def test_mutated_goldens_only_raise_sip_parse_error(data: bytes) -> None:
    _parse_all(data)


@FUZZ
@given(mutated(), st.integers(1, 50))
def test_stream_parser_only_raises_sip_parse_error(data: bytes, chunk: int) -> None:
    parser = StreamParser()
    try:
        for i in range(0, len(data), chunk):
            parser.feed(data[i : i + chunk])
    except SipParseError:
        pass


@FUZZ
@given(st.text(max_size=80))
def test_uri_address_via_only_raise_sip_parse_error(text: str) -> None:
    for parse in (parse_uri, Address.parse, Via.parse):
        try:
            value = parse(text)
        except SipParseError:
            continue
        assert parse(str(value)) == value  # what we print, we read back the same


ADDRESS_ALPHABET = st.sampled_from([*list('"<>;=:@ \\,abcsip'), "sip:", "tag", "<sip:a@b>"])


@FUZZ
@given(st.lists(ADDRESS_ALPHABET, max_size=20).map("".join))
def test_address_like_text_round_trips(text: str) -> None:
    try:
        addr = Address.parse(text)
    except SipParseError:
        return
    assert Address.parse(str(addr)) == addr


@FUZZ
@given(st.text(max_size=200))
def test_auth_header_parser_never_raises(text: str) -> None:
    assert isinstance(parse_auth_header(text), dict)


# Found by bench/fuzz.py: str.isdigit() took a superscript one for a digit and int() then
# raised ValueError out of the parser; an Arabic-Indic three was read as the number 3.
NON_ASCII_DIGITS = [
    (
        "sip:102@pbx.example.ee:\u00b9060",
        "From",
        "bad port in URI 'sip:102@pbx.example.ee:\u00b9060': 'pbx.example.ee:\u00b9060'",
    ),
    (
        "sip:102@pbx.example.ee:\u0663",
        "From",
        "bad port in URI 'sip:102@pbx.example.ee:\u0663': 'pbx.example.ee:\u0663'",
    ),
    ("1\u00b97728 INVITE", "CSeq", "bad CSeq header: '1\u00b97728 INVITE'"),
    ("\u0663", "Content-Length", "bad Content-Length header: '\u0663'"),
    ("7\u00b9", "Max-Forwards", "bad Max-Forwards header: '7\u00b9'"),
]


@pytest.mark.parametrize(("value", "header", "error"), NON_ASCII_DIGITS)
def test_non_ascii_digits_are_a_parse_error(value: str, header: str, error: str) -> None:
    lines = {
        "Via": "SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK1",
        "From": "<sip:102@pbx.example.ee>;tag=1",
        "To": "<sip:101@pbx.example.ee>",
        "Call-ID": "c1",
        "CSeq": "1 INVITE",
        "Max-Forwards": "70",
        "Content-Length": "0",
    }
    lines[header] = value if header != "From" else f"<{value}>;tag=1"
    head = "".join(f"{name}: {text}\r\n" for name, text in lines.items())
    data = f"INVITE sip:101@pbx.example.ee SIP/2.0\r\n{head}\r\n".encode()
    with pytest.raises(SipParseError) as exc:
        parse_message(data)
    assert str(exc.value) == error


def test_rport_in_non_ascii_digits_is_no_port() -> None:
    assert Via.parse("SIP/2.0/UDP 10.0.0.1;rport=\u0663;branch=z9hG4bK1").rport is None
