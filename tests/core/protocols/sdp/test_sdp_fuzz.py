"""Property test: any SDP body either parses (and round-trips) or raises SdpParseError."""

from __future__ import annotations

from pathlib import Path

import pytest
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


# Found by bench/fuzz.py: a superscript one passed str.isdigit() and int() raised ValueError.
BASE = "v=0\r\no=- 1 2 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 8 101\r\n"


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (BASE.replace("o=- 1 2", "o=- 1 2\u00b9"), "bad o= line: '- 1 2\u00b9 IN IP4 10.0.0.1'"),
        (
            BASE.replace("audio 4000", "audio 40\u00b90"),
            "line 6: bad port in m= line: 'audio 40\u00b90 RTP/AVP 8 101'",
        ),
        (
            BASE + "a=rtpmap:\u00b9101 telephone-event/8000\r\n",
            "line 7: bad a=rtpmap: '\u00b9101 telephone-event/8000'",
        ),
    ],
)
def test_non_ascii_digits_are_a_parse_error(body: str, error: str) -> None:
    with pytest.raises(SdpParseError) as exc:
        SessionDescription.parse(body.encode())
    assert str(exc.value) == error


def test_non_ascii_digits_elsewhere_are_kept_as_text() -> None:
    """A format list, fmtp or ptime that is not 0-9 is kept as it came, not read as a number."""
    sd = SessionDescription.parse(
        BASE.replace("8 101", "8 10\u00b91") + "a=fmtp:\u00b9 0-15\r\na=ptime:2\u00b9\r\n"
    )
    audio = sd.audio()
    assert audio is not None
    assert audio.raw_formats == ["8", "10\u00b91"]
    assert ("fmtp", "\u00b9 0-15") in audio.attributes
    assert ("ptime", "2\u00b9") in audio.attributes
