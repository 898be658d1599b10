"""Property tests: whatever bytes arrive, the parsers raise SipParseError or succeed."""

from __future__ import annotations

from pathlib import Path

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
