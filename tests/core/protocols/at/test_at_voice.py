"""DLE shielding of V.253 voice data: round trips, event codes, split reads."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from salvesti.core.protocols.at import (
    END_OF_TRANSMIT,
    DleEvent,
    Dtmf,
    HangupDetected,
    VoiceStreamDecoder,
    VoiceStreamEnded,
    encode_voice,
)


def test_encode_doubles_dle_only():
    assert encode_voice(b"\x00\x10\x03\x10\x10") == b"\x00\x10\x10\x03\x10\x10\x10\x10"
    assert END_OF_TRANSMIT == b"\x10\x03"


@given(st.binary(max_size=2000), st.integers(min_value=1, max_value=64))
def test_round_trip_any_split(pcm, chunk):
    wire = encode_voice(pcm) + END_OF_TRANSMIT + b"\r\nOK\r\n"
    dec = VoiceStreamDecoder(from_dte=True)
    got = bytearray()
    events = []
    for i in range(0, len(wire), chunk):
        data, evs = dec.feed(wire[i : i + chunk])
        got += data
        events += evs
    assert bytes(got) == pcm
    assert events == [VoiceStreamEnded()]
    assert dec.ended and dec.remainder == b"\r\nOK\r\n"


def test_modem_event_codes():
    dec = VoiceStreamDecoder()
    pcm, events = dec.feed(b"\x805\x10#\x10\x1a\x10b\x10q\x10Z\x10d")
    assert pcm == b"\x805\x10\x10"
    assert events == [
        Dtmf("#"),
        DleEvent("b", "busy"),
        HangupDetected("DLE b"),
        DleEvent("q", "quiet"),
        DleEvent("Z", "unknown"),
        DleEvent("d", "dial_tone"),
        HangupDetected("DLE d"),
    ]


def test_host_action_codes():
    dec = VoiceStreamDecoder(from_dte=True)
    assert dec.feed(b"\x10!\x10p")[1] == [DleEvent("!", "receive_abort"), DleEvent("p", "pause")]


def test_items_keep_order():
    dec = VoiceStreamDecoder()
    assert dec.feed_items(b"\x01\x105\x02\x10\x03tail") == [b"\x01", Dtmf("5"), b"\x02", VoiceStreamEnded()]
    assert dec.remainder == b"tail"
    assert dec.feed(b"more") == (b"", [])
    assert dec.remainder == b"tailmore"
