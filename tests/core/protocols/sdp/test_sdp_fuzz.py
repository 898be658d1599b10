"""Property test: any SDP body either parses (and round-trips) or raises SdpParseError."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from salvesti.core.protocols.sdp import SdpParseError, SessionDescription
from salvesti.core.protocols.sip.message import parse_message

SIP_GOLDEN = Path(__file__).parents[1] / "sip" / "golden"
BODIES = [b for b in (parse_message(p.read_bytes()).body for p in sorted(SIP_GOLDEN.glob("*.sip"))) if b]


@st.composite
def mutated(draw) -> bytes:
    data = bytearray(draw(st.sampled_from(BODIES)))
    for _ in range(draw(st.integers(1, 6))):
        pos = draw(st.integers(0, len(data)))
        byte = draw(st.sampled_from(list(b"=:/ \r\n0a9-.\xff")))
        if draw(st.booleans()) and pos < len(data):
            data[pos] = byte
        else:
            data.insert(pos, byte)
    return bytes(data)


def _check(data: bytes | str) -> None:
    try:
        sd = SessionDescription.parse(data)
    except SdpParseError:
        return
    assert SessionDescription.parse(sd.to_bytes()).to_bytes() == sd.to_bytes()


@settings(max_examples=300, deadline=None)
@given(mutated())
def test_mutated_bodies(data: bytes) -> None:
    _check(data)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_random_text(text: str) -> None:
    _check("v=0\r\n" + text)
