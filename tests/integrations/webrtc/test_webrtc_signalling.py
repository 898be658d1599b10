"""The browser phone's messages and the tab's state machine, without a socket or a browser."""

from __future__ import annotations

import pytest

from salvesti.integrations.webrtc import signalling as sig

OFFER = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n"


@pytest.mark.parametrize(
    ("msg", "code"),
    [
        ([], "bad_message"),
        ({"type": "nope"}, "unknown_type"),
        ({"type": "call", "number": "12a", "sdp": OFFER}, "bad_number"),
        ({"type": "call", "number": "+3725551234"}, "bad_sdp"),
        ({"type": "call", "number": "+3725551234", "sdp": "hello"}, "bad_sdp"),
        ({"type": "call", "number": "+3725551234", "sdp": "v=0\r\ns=-\r\n"}, "bad_sdp"),
        ({"type": "call", "number": "1", "sdp": "v=0" + "x" * sig.MAX_SDP + "m=audio"}, "bad_sdp"),
        ({"type": "answer", "call": "../../etc", "sdp": OFFER}, "bad_message"),
        ({"type": "dtmf", "digit": "55"}, "bad_digit"),
        ({"type": "dtmf", "digit": "E"}, "bad_digit"),
        ({"type": "hold", "on": "yes"}, "bad_message"),
        ({"type": "candidate", "candidate": "text"}, "bad_message"),
        ({"type": "transfer", "to": "1 0 1"}, "bad_message"),
        ({"type": "candidate", "candidate": {"candidate": "c", "sdpMLineIndex": "0"}}, "bad_message"),
    ],
)
def test_malformed_messages_get_a_clear_error(msg: object, code: str) -> None:
    out = sig.parse(msg)
    assert isinstance(out, sig.BadMessage) and out.code == code
    assert out.to_json()["type"] == "error" and out.message


def test_well_formed_messages_become_commands() -> None:
    assert sig.parse({"type": "call", "number": "+372 555 1234", "sdp": OFFER}) == sig.Dial(
        "+3725551234", OFFER
    )
    assert sig.parse({"type": "answer", "call": "20261207-abc", "sdp": OFFER}) == sig.Answer(
        "20261207-abc", OFFER
    )
    assert sig.parse({"type": "dtmf", "digit": "a"}) == sig.Dtmf("A")
    assert sig.parse({"type": "hold", "on": True}) == sig.Hold(True)
    assert sig.parse({"type": "transfer", "to": "101"}) == sig.Transfer("101")
    cand = {"candidate": "candidate:1 1 udp 1 127.0.0.1 5000 typ host", "sdpMid": "0", "sdpMLineIndex": 0}
    assert sig.parse({"type": "candidate", "candidate": cand}) == sig.Candidate(cand["candidate"], "0", 0)


def test_out_of_order_messages_change_nothing() -> None:
    s = sig.PhoneSession()
    idle_refused = (sig.Answer("c1", OFFER), sig.Decline("c1"), sig.Hangup(), sig.Dtmf("1"), sig.Hold(True))
    for cmd in (*idle_refused, sig.Transfer("101")):
        assert s.accept(cmd) is not None
        assert s.state is sig.State.IDLE
    assert s.on_ring("c1")
    assert s.accept(sig.Answer("c2", OFFER)).code == "not_ringing"  # type: ignore[union-attr]
    assert s.accept(sig.Dial("1", OFFER)).code == "busy"  # type: ignore[union-attr]
    assert s.state is sig.State.RINGING
    assert s.accept(sig.Answer("c1", OFFER)) is None and s.state is sig.State.CONNECTING
    assert not s.on_ring("c3"), "a tab answering a call is not rung for another"
    s.on_connected()
    assert s.accept(sig.Dtmf("5")) is None and s.accept(sig.Hold(True)) is None
    s.on_ended()
    assert s.state is sig.State.IDLE and s.ringing is None


def test_a_ring_that_ends_frees_the_tab() -> None:
    s = sig.PhoneSession()
    assert s.on_ring("c1")
    s.on_ring_over("other")
    assert s.state is sig.State.RINGING
    s.on_ring_over("c1")
    assert s.state is sig.State.IDLE
    assert s.accept(sig.Dial("+3725551234", OFFER)) is None and s.state is sig.State.DIALING
