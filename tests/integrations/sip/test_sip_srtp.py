"""SDES (RFC 4568) offer/answer on a carrier leg and SRTP on its media leg.

Keys are checked through the SDP a peer would send; packets through real sockets, with
libsrtp on the peer's side too, so "encrypted on the wire, clear to the recorder" is
what is tested, not a mock of it.
"""

from __future__ import annotations

import asyncio
import socket
import struct

import pytest

from salvesti.core.protocols.sdp import PCMU
from salvesti.integrations.sip.call import Leg, SrtpRefused
from salvesti.integrations.sip.media_leg import MediaLeg
from salvesti.integrations.sip.srtp import (
    SUITE,
    CryptoAttribute,
    SdesError,
    SdesNegotiation,
    SrtpSession,
    new_key,
    pick,
)

KEY = bytes(range(30))


def rtp(seq: int, payload: bytes = b"\xff" * 160) -> bytes:
    return struct.pack("!BBHII", 0x80, 0, seq, seq * 160, 0x1234) + payload


def test_crypto_attribute_round_trip_and_lifetime() -> None:
    attr = CryptoAttribute(1, SUITE, KEY)
    assert str(attr) == "1 AES_CM_128_HMAC_SHA1_80 inline:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwd"
    assert CryptoAttribute.parse(str(attr) + "|2^31") == attr


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ("1 AES_CM_128_HMAC_SHA1_80 inline:AAEC|2^20|1:4", "MKI"),
        ("1 AES_CM_128_HMAC_SHA1_80 inline:AAEC KDR=1", "session parameters"),
        ("1 AES_CM_128_HMAC_SHA1_80 inline:A=A=", "base64"),
        ("one AES_CM_128_HMAC_SHA1_80", "not an SDES crypto attribute"),
    ],
)
def test_crypto_attributes_we_cannot_use_say_why(value: str, why: str) -> None:
    with pytest.raises(SdesError, match=why):
        CryptoAttribute.parse(value)


def test_pick_skips_other_suites_and_names_them_when_none_fits() -> None:
    ours = str(CryptoAttribute(2, SUITE, KEY))
    assert pick(["1 AEAD_AES_256_GCM inline:" + "A" * 60, ours]).tag == 2
    with pytest.raises(SdesError, match="AES_CM_128_HMAC_SHA1_32"):
        pick(["1 AES_CM_128_HMAC_SHA1_32 inline:" + "A" * 40])
    with pytest.raises(SdesError, match="no a=crypto line"):
        pick([])


def test_srtp_session_refuses_forgeries_and_replays() -> None:
    a_key, b_key = new_key(), new_key()
    a, b = SrtpSession(a_key, b_key), SrtpSession(b_key, a_key)
    packet = a.protect(rtp(1))
    assert len(packet) == 12 + 160 + 10 and packet[12:172] != b"\xff" * 160
    assert b.unprotect(packet) == rtp(1)
    assert b.unprotect(packet) is None  # a replay
    forged = bytearray(a.protect(rtp(2)))
    forged[20] ^= 1
    assert b.unprotect(bytes(forged)) is None


def _peer_sdp(proto: str, crypto: str | None, port: int = 40000) -> bytes:
    lines = ["v=0", "o=- 1 1 IN IP4 127.0.0.1", "s=-", "c=IN IP4 127.0.0.1", "t=0 0"]
    lines += [f"m=audio {port} {proto} 0", "a=rtpmap:0 PCMU/8000"]
    if crypto:
        lines.append(f"a=crypto:{crypto}")
    return ("\r\n".join(lines) + "\r\n").encode()


def _leg() -> Leg:
    leg = Leg("outside", False, ("127.0.0.1", 5061), "tls", "c", "t", "127.0.0.1", sdes=SdesNegotiation())
    leg.media = MediaLeg(None, "127.0.0.1", 30000)
    return leg


def test_offer_and_answer_carry_our_key_and_take_theirs() -> None:
    leg = _leg()
    offer = leg.make_offer([PCMU]).decode()
    assert "m=audio 30000 RTP/SAVP 0 " in offer
    assert leg.sdes is not None
    assert f"a=crypto:1 {SUITE} inline:" in offer and str(CryptoAttribute(1, SUITE, leg.sdes.local)) in offer
    leg.take_answer(_peer_sdp("RTP/SAVP", str(CryptoAttribute(1, SUITE, KEY))))
    assert leg.sdes.remote == KEY and leg.media is not None and leg.media.srtp is not None


def test_answer_uses_the_offered_tag() -> None:
    leg = _leg()
    answer = leg.answer_offer(_peer_sdp("RTP/SAVP", str(CryptoAttribute(7, SUITE, KEY))), [PCMU]).decode()
    assert "RTP/SAVP" in answer and f"a=crypto:7 {SUITE} inline:" in answer


@pytest.mark.parametrize(
    ("proto", "crypto", "why"),
    [
        ("RTP/AVP", None, "needs SRTP \\(RTP/SAVP\\) but the peer sent RTP/AVP"),
        ("RTP/SAVP", None, "no a=crypto line"),
        ("RTP/SAVP", "1 AES_CM_128_HMAC_SHA1_32 inline:" + "A" * 40, "AES_CM_128_HMAC_SHA1_32"),
    ],
)
def test_offers_without_usable_srtp_are_refused(proto: str, crypto: str | None, why: str) -> None:
    with pytest.raises(SrtpRefused, match=why):
        _leg().answer_offer(_peer_sdp(proto, crypto), [PCMU])


def test_answer_for_another_tag_is_refused() -> None:
    leg = _leg()
    leg.make_offer([PCMU])
    with pytest.raises(SrtpRefused, match="no a=crypto line for our tag 1"):
        leg.take_answer(_peer_sdp("RTP/SAVP", str(CryptoAttribute(2, SUITE, KEY))))


async def test_media_leg_decrypts_what_arrives_and_encrypts_what_leaves() -> None:
    loop = asyncio.get_running_loop()
    ours, peer_key = new_key(), new_key()
    peer = SrtpSession(peer_key, ours)
    far = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    far.bind(("127.0.0.1", 0))
    far.setblocking(False)
    rtp_sock, rtcp_sock = (socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(2))
    for s in (rtp_sock, rtcp_sock):
        s.bind(("127.0.0.1", 0))
        s.setblocking(False)
    leg = MediaLeg(None, "127.0.0.1", rtp_sock.getsockname()[1])
    await leg.attach(loop, rtp_sock, rtcp_sock)
    leg.set_remote(far.getsockname(), (0, PCMU))
    leg.srtp = SrtpSession(ours, peer_key)
    got: list[bytes] = []
    arrived = loop.create_future()

    def handler(_leg: MediaLeg, data: bytes, hdr: tuple[int, ...], now: float) -> None:
        got.append(data)
        if not arrived.done():
            arrived.set_result(None)

    leg.handler = handler
    try:
        far.sendto(b"\x80\x00garbage-not-srtp" + bytes(20), rtp_sock.getsockname())
        far.sendto(peer.protect(rtp(5)), rtp_sock.getsockname())
        await asyncio.wait_for(arrived, 5)
        assert got == [rtp(5)]
        assert leg.stats.srtp_failed == 1
        leg.send_frame(b"\x7f" * 160, 0, 160)
        wire = await asyncio.wait_for(loop.sock_recv(far, 2048), 5)
        assert len(wire) == 182 and wire[12:172] != b"\x7f" * 160
        assert peer.unprotect(wire)[12:] == b"\x7f" * 160  # type: ignore[index]
    finally:
        leg.close()
        far.close()


def test_a_plain_leg_refuses_srtp_only_media_and_says_how_to_allow_it() -> None:
    leg = Leg("outside", True, ("127.0.0.1", 5060), "udp", "c", "t", "127.0.0.1")
    leg.media = MediaLeg(None, "127.0.0.1", 30000)
    with pytest.raises(SrtpRefused, match="set srtp: sdes"):
        leg.answer_offer(_peer_sdp("RTP/SAVP", str(CryptoAttribute(1, SUITE, KEY))), [PCMU])
    assert b"RTP/AVP" in leg.answer_offer(_peer_sdp("RTP/AVP", None), [PCMU])


def test_a_refresh_answer_with_a_new_key_rekeys_and_one_without_keeps_the_old() -> None:
    leg = _leg()
    leg.make_offer([PCMU])
    leg.take_answer(_peer_sdp("RTP/SAVP", str(CryptoAttribute(1, SUITE, KEY))))
    assert leg.media is not None
    first = leg.media.srtp
    leg.refresh_answered(_peer_sdp("RTP/SAVP", None))
    assert leg.media.srtp is first and leg.sdes is not None and leg.sdes.remote == KEY
    other = bytes(reversed(KEY))
    leg.refresh_answered(_peer_sdp("RTP/SAVP", str(CryptoAttribute(1, SUITE, other))))
    assert leg.sdes.remote == other and leg.media.srtp is not first
