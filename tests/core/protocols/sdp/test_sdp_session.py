"""SDP parsing and serialising, on bodies captured from baresip and sipp and vendor samples."""

from __future__ import annotations

from pathlib import Path

import pytest

from salvesti.core.protocols.sdp import (
    G722,
    PCMA,
    PCMU,
    TELEPHONE_EVENT,
    Codec,
    SdpParseError,
    SessionDescription,
)
from salvesti.core.protocols.sip.message import parse_message

SIP_GOLDEN = Path(__file__).parents[1] / "sip" / "golden"
WITH_SDP = [
    "baresip_invite.sip",
    "baresip_invite_auth.sip",
    "sipp_uac_invite.sip",
    "sipp_uas_200_ok_sdp.sip",
    "asterisk_invite.sip",
    "yealink_invite.sip",
    "cisco_invite_compact.sip",
]


def body(name: str) -> bytes:
    return parse_message((SIP_GOLDEN / name).read_bytes()).body


@pytest.mark.parametrize("name", WITH_SDP)
def test_round_trip(name: str) -> None:
    sd = SessionDescription.parse(body(name))
    again = SessionDescription.parse(sd.to_bytes())
    assert again == sd
    assert again.to_bytes() == sd.to_bytes()


def test_baresip_offer() -> None:
    sd = SessionDescription.parse(body("baresip_invite.sip"))
    assert sd.connection.address == "127.0.0.1" and sd.connection.addrtype == "IP4"
    m = sd.audio()
    assert m.media == "audio" and m.proto == "RTP/AVP" and m.port > 0
    assert m.formats == [0, 8, 101]
    assert m.codec(0) == PCMU and m.codec(8) == PCMA
    assert m.codec(101) == TELEPHONE_EVENT and m.fmtp[101] == "0-15"
    assert m.direction == "sendrecv" and m.ptime == 20
    assert ("tool", "baresip 1.0.0") in sd.attributes
    assert ("rtcp-rsize", None) in m.attributes and ("minptime", "20") in m.attributes
    assert sd.media_address(m) == "127.0.0.1" and not sd.is_hold()


def test_baresip_serialises_byte_identical() -> None:
    # baresip puts rtpmap/fmtp first and direction before other attributes, like we do.
    data = body("baresip_invite.sip")
    out = SessionDescription.parse(data).to_bytes()
    assert sorted(out.split(b"\r\n")) == sorted(data.split(b"\r\n"))


def test_sipp_offer_uses_static_payload_type() -> None:
    sd = SessionDescription.parse(body("sipp_uac_invite.sip"))
    m = sd.audio()
    assert m.formats == [0] and m.codec(0) == PCMU
    assert sd.origin.username == "user1" and sd.session_name == "-"


def test_vendor_offers() -> None:
    yealink = SessionDescription.parse(body("yealink_invite.sip")).audio()
    assert yealink.formats == [9, 0, 8, 18, 101]
    assert yealink.codec(9) == G722 and yealink.codec(9).clock_rate == 8000
    assert yealink.fmtp[18] == "annexb=no"
    cisco = SessionDescription.parse(body("cisco_invite_compact.sip"))
    assert cisco.lines == [("b", "TIAS:64000")] and cisco.audio().lines == [("b", "TIAS:64000")]
    assert cisco.audio().direction is None and cisco.audio().effective_direction == "sendrecv"
    asterisk = SessionDescription.parse(body("asterisk_invite.sip")).audio()
    assert asterisk.ptime == 20 and ("maxptime", "150") in asterisk.attributes


def test_opus_and_media_level_connection_and_multiple_streams() -> None:
    text = (
        "v=0\no=- 1 1 IN IP6 ::1\ns=call\nc=IN IP6 ::1\nt=0 0\na=recvonly\n"
        "m=audio 4000 RTP/SAVP 111 0\nc=IN IP4 192.0.2.10\na=rtpmap:111 opus/48000/2\n"
        "a=fmtp:111 minptime=10;useinbandfec=1\na=ptime:20.5\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:abc\n"
        "m=video 0 RTP/AVP 96\nm=application 5000 UDP/DTLS/SCTP webrtc-datachannel\n"
    )
    sd = SessionDescription.parse(text)
    m = sd.audio()
    assert m.codec(111) == Codec("opus", 48000, 2) and m.fmtp[111] == "minptime=10;useinbandfec=1"
    assert m.ptime == 20 and sd.media_address(m) == "192.0.2.10"
    assert sd.media_direction(m) == "recvonly" and sd.direction == "recvonly"
    assert [x.media for x in sd.media] == ["audio", "video", "application"]
    assert sd.media[2].raw_formats == ["webrtc-datachannel"] and sd.media[2].formats == []
    assert SessionDescription.parse(sd.to_bytes()) == sd
    assert b"m=application 5000 UDP/DTLS/SCTP webrtc-datachannel\r\n" in sd.to_bytes()


@pytest.mark.parametrize(
    ("sdp", "hold"),
    [
        ("c=IN IP4 10.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\na=sendonly\r\n", True),
        ("c=IN IP4 10.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\na=inactive\r\n", True),
        ("c=IN IP4 0.0.0.0\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n", True),  # RFC 2543 hold
        ("c=IN IP4 10.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\nc=IN IP4 0.0.0.0\r\n", True),
        ("c=IN IP4 10.0.0.1\r\nt=0 0\r\na=sendonly\r\nm=audio 4000 RTP/AVP 0\r\n", True),  # session-level
        ("c=IN IP4 10.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\na=recvonly\r\n", False),
        ("c=IN IP4 10.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\na=sendrecv\r\n", False),
        ("c=IN IP4 10.0.0.1\r\nt=0 0\r\nm=audio 0 RTP/AVP 0\r\na=sendonly\r\n", False),  # stream refused
    ],
)
def test_hold_detection(sdp: str, hold: bool) -> None:
    sd = SessionDescription.parse("v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\n" + sdp)
    assert sd.is_hold() is hold


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("o=- 1 1 IN IP4 h\r\n", "missing v= line"),
        ("v=1\r\n", "line 1: unsupported SDP version '1'"),
        ("v=0\r\nhello\r\n", "line 2: not a <type>=<value> line: 'hello'"),
        ("v=0\r\no=- x 1 IN IP4 h\r\n", "bad o= line: '- x 1 IN IP4 h'"),
        ("v=0\r\nc=IN IP4\r\n", "bad c= line: 'IN IP4'"),
        ("v=0\r\nc=IN IP4 /127\r\n", "bad c= line: 'IN IP4 /127'"),
        ("v=0\r\nm=audio\r\n", "line 2: bad m= line: 'audio'"),
        ("v=0\r\nm=audio x RTP/AVP 0\r\n", "line 2: bad port in m= line: 'audio x RTP/AVP 0'"),
        ("v=0\r\nm=audio 99999 RTP/AVP 0\r\n", "line 2: bad port in m= line: 'audio 99999 RTP/AVP 0'"),
        ("v=0\r\nm=audio 1 RTP/AVP 0\r\na=rtpmap:x PCMU/8000\r\n", "line 3: bad a=rtpmap: 'x PCMU/8000'"),
        ("v=0\r\nm=audio 1 RTP/AVP 0\r\na=rtpmap:0 PCMU\r\n", "line 3: bad a=rtpmap: '0 PCMU'"),
    ],
)
def test_parse_errors(text: str, message: str) -> None:
    with pytest.raises(SdpParseError) as info:
        SessionDescription.parse(text)
    assert str(info.value) == message


def test_non_utf8_is_a_parse_error() -> None:
    with pytest.raises(SdpParseError, match="SDP is not valid UTF-8"):
        SessionDescription.parse(b"v=0\r\ns=\xff\r\n")
