"""TCP framing by Content-Length (RFC 3261 §18.3), split at every byte."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from salvesti.core.protocols.sip.errors import SipParseError
from salvesti.core.protocols.sip.message import StreamParser, parse_message

GOLDEN_DIR = Path(__file__).parent / "golden"
CALL = [
    "sipp_uac_invite.sip",
    "sipp_uac_180_ringing.sip",
    "sipp_uac_200_ok.sip",
    "sipp_uac_ack.sip",
    "sipp_uac_bye.sip",
    "baresip_invite_auth.sip",
    "cisco_invite_compact.sip",
]


def _stream() -> tuple[bytes, list]:
    frames = [(GOLDEN_DIR / n).read_bytes() for n in CALL]
    expected = [parse_message(f) for f in frames]
    # Keep-alives between messages: the RFC 5626 double-CRLF ping and a single CRLF pong.
    data = b"\r\n\r\n".join(frames[:3]) + b"\r\n" + b"".join(frames[3:])
    return data, expected


def test_whole_stream_in_one_feed() -> None:
    data, expected = _stream()
    assert StreamParser().feed(data) == expected


def test_split_at_every_byte() -> None:
    data, expected = _stream()
    parser = StreamParser()
    out = []
    for i in range(len(data)):
        out += parser.feed(data[i : i + 1])
    assert out == expected
    assert parser.buffered == 0


@pytest.mark.parametrize("cut", range(1, 400, 7))
def test_split_in_two_anywhere(cut: int) -> None:
    data, expected = _stream()
    parser = StreamParser()
    assert parser.feed(data[:cut]) + parser.feed(data[cut:]) == expected


def test_body_waits_for_content_length() -> None:
    frame = (GOLDEN_DIR / "baresip_invite.sip").read_bytes()
    parser = StreamParser()
    assert parser.feed(frame[:-1]) == []
    assert parser.buffered == len(frame) - 1
    [msg] = parser.feed(frame[-1:])
    assert msg.body.endswith(b"a=ptime:20\r\n")


def test_missing_content_length_means_empty_body() -> None:
    frame = (GOLDEN_DIR / "lf_only_options.sip").read_bytes().replace(b"Content-Length: 0\n", b"")
    [msg] = StreamParser().feed(frame + frame)[:1]
    assert msg.body == b""


def test_keepalive_only() -> None:
    parser = StreamParser()
    assert parser.feed(b"\r\n\r\n") == [] and parser.feed(b"\r\n") == [] and parser.buffered == 0


def test_garbage_raises_at_first_line_and_stays_broken() -> None:
    parser = StreamParser()
    assert parser.feed(b"GET / HTTP/1.1") == []  # no full line yet
    with pytest.raises(SipParseError, match=r"^bad request line: 'GET / HTTP/1.1'$"):
        parser.feed(b"\r\n")
    with pytest.raises(SipParseError):
        parser.feed((GOLDEN_DIR / "sipp_uac_bye.sip").read_bytes())


def test_bad_content_length_raises() -> None:
    head = (GOLDEN_DIR / "sipp_uac_bye.sip").read_bytes().replace(b"Content-Length: 0", b"Content-Length: -1")
    with pytest.raises(SipParseError, match=r"^bad Content-Length header: '-1'$"):
        StreamParser().feed(head)


def test_huge_content_length_raises() -> None:
    head = (
        (GOLDEN_DIR / "sipp_uac_bye.sip")
        .read_bytes()
        .replace(b"Content-Length: 0", b"Content-Length: 99999999")
    )
    with pytest.raises(SipParseError, match=r"^Content-Length 99999999 exceeds limit 1048576$"):
        StreamParser().feed(head)


def test_endless_header_section_raises() -> None:
    parser = StreamParser()
    parser.feed(b"OPTIONS sip:a@b SIP/2.0\r\n")
    with pytest.raises(SipParseError, match=r"^header section exceeds 65536 bytes$"):
        for _ in range(2000):  # bounded: 2000 * 40 bytes > 64 KiB
            parser.feed(b"X-Filler: " + b"a" * 28 + b"\r\n")


def test_trickled_huge_header_costs_linear_time() -> None:
    """A peer sending one byte at a time must not make each feed rescan the buffer."""
    parser = StreamParser()
    parser.feed(b"OPTIONS sip:a@b SIP/2.0\r\nX-Filler: ")
    start = time.perf_counter()
    with pytest.raises(SipParseError, match=r"^header section exceeds 65536 bytes$"):
        for _ in range(70000):  # bounded: the limit is reached before the loop ends
            parser.feed(b"a")
    assert time.perf_counter() - start < 2.0


def test_trickled_endless_start_line_is_refused() -> None:
    parser = StreamParser()
    with pytest.raises(SipParseError, match=r"^header section exceeds 65536 bytes$"):
        for _ in range(70):  # bounded: 70 KiB > 64 KiB
            parser.feed(b"A" * 1024)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(1, 400), min_size=1, max_size=40))
def test_any_chunking_gives_the_same_messages(sizes: list[int]) -> None:
    data, expected = _stream()
    parser = StreamParser()
    out, pos = [], 0
    for size in sizes:
        out += parser.feed(data[pos : pos + size])
        pos += size
    out += parser.feed(data[pos:])
    assert out == expected
