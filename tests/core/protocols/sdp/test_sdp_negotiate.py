"""Offer/answer: codec choice, telephone-event, answer direction, our own SDP."""

from __future__ import annotations

from pathlib import Path

import pytest

from salvesti.core.protocols.sdp import (
    CN,
    G722,
    OPUS,
    PCMA,
    PCMU,
    TELEPHONE_EVENT,
    SessionDescription,
    answer_direction,
    build_sdp,
    negotiate,
)
from salvesti.core.protocols.sip.message import parse_message

SIP_GOLDEN = Path(__file__).parents[1] / "sip" / "golden"


def offer(name: str) -> SessionDescription:
    return SessionDescription.parse(parse_message((SIP_GOLDEN / name).read_bytes()).body)


def test_negotiate_keeps_offer_order_and_payload_types() -> None:
    codecs, te = negotiate(offer("yealink_invite.sip"), [PCMA, PCMU, G722])
    assert codecs == [(9, G722), (0, PCMU), (8, PCMA)]  # G729 (18) is not ours
    assert te == 101


def test_negotiate_baresip_and_sipp() -> None:
    assert negotiate(offer("baresip_invite.sip"), [PCMA]) == ([(8, PCMA)], 101)
    assert negotiate(offer("sipp_uac_invite.sip"), [PCMA, PCMU]) == ([(0, PCMU)], None)
    assert negotiate(offer("sipp_uac_invite.sip"), [OPUS]) == ([], None)


def test_negotiate_matches_names_case_insensitively_and_dynamic_types() -> None:
    sd = SessionDescription.parse(
        "v=0\r\no=- 1 1 IN IP4 h\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\n"
        "m=audio 4000 RTP/AVP 96 97 13 98\r\na=rtpmap:96 OPUS/48000/2\r\na=rtpmap:97 pcmu/8000\r\n"
        "a=rtpmap:98 telephone-event/8000\r\n"
    )
    assert negotiate(sd, [PCMU, OPUS, CN]) == (
        [(96, sd.audio().codec(96)), (97, sd.audio().codec(97)), (13, CN)],
        98,
    )


def test_negotiate_without_audio() -> None:
    sd = SessionDescription.parse("v=0\r\no=- 1 1 IN IP4 h\r\ns=-\r\nt=0 0\r\nm=audio 0 RTP/AVP 0\r\n")
    assert negotiate(sd, [PCMU]) == ([], None)


@pytest.mark.parametrize(
    ("offered", "answer"),
    [
        ("sendrecv", "sendrecv"),
        ("sendonly", "recvonly"),
        ("recvonly", "sendonly"),
        ("inactive", "inactive"),
        (None, "sendrecv"),
        ("SENDONLY", "recvonly"),
    ],
)
def test_answer_direction(offered: str | None, answer: str) -> None:
    assert answer_direction(offered) == answer


def test_build_sdp_answer_to_baresip() -> None:
    codecs, te = negotiate(offer("baresip_invite.sip"), [PCMA, PCMU])
    sd = build_sdp(
        session_id=42, version=1, address="127.0.0.1", port=20000, codecs=codecs, telephone_event_pt=te
    )
    assert sd.to_bytes() == (
        b"v=0\r\no=- 42 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
        b"m=audio 20000 RTP/AVP 0 8 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\n"
        b"a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\na=ptime:20\r\na=sendrecv\r\n"
    )
    parsed = SessionDescription.parse(sd.to_bytes())
    assert negotiate(parsed, [PCMU]) == ([(0, PCMU)], 101)
    assert parsed.audio().codec(101) == TELEPHONE_EVENT


def test_build_sdp_hold_answer_ipv6_no_dtmf() -> None:
    sd = build_sdp(
        session_id=1,
        version=7,
        address="::1",
        port=30000,
        codecs=[(96, OPUS)],
        telephone_event_pt=None,
        direction=answer_direction("sendonly"),
        ptime=40,
    )
    text = sd.to_bytes().decode()
    assert "o=- 1 7 IN IP6 ::1\r\n" in text and "c=IN IP6 ::1\r\n" in text
    assert "a=rtpmap:96 opus/48000/2\r\n" in text and "a=ptime:40\r\n" in text and "a=recvonly\r\n" in text
    assert "telephone-event" not in text
    assert not SessionDescription.parse(sd.to_bytes()).is_hold()  # recvonly is not hold


def test_answer_mirrors_every_offered_stream() -> None:
    sd = SessionDescription.parse(
        "v=0\r\no=- 1 1 IN IP4 h\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\n"
        "m=video 5000 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n"
        "m=audio 4000 RTP/AVP 8 0\r\n"
        "m=application 6000 UDP/DTLS/SCTP webrtc-datachannel\r\n"
    )
    codecs, te = negotiate(sd, [PCMA])
    answer = build_sdp(
        session_id=1,
        version=1,
        address="10.0.0.2",
        port=20000,
        codecs=codecs,
        telephone_event_pt=te,
        offer=sd,
    )
    lines = [line for line in answer.to_bytes().decode().split("\r\n") if line.startswith("m=")]
    assert lines == [
        "m=video 0 RTP/AVP 96",
        "m=audio 20000 RTP/AVP 8",
        "m=application 0 UDP/DTLS/SCTP webrtc-datachannel",
    ]
    assert SessionDescription.parse(answer.to_bytes()).audio().port == 20000


def test_codec_sample_rates() -> None:
    assert (G722.clock_rate, G722.sample_rate) == (8000, 16000)
    assert PCMU.sample_rate == 8000 and OPUS.sample_rate == 48000
    assert OPUS.rtpmap == "opus/48000/2" and PCMA.rtpmap == "PCMA/8000"
