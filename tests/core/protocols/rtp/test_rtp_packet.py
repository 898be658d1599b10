"""RTP packets (RFC 3550 5.1), RTCP detection (RFC 5761 4) and telephone events (RFC 4733)."""

import pytest

from salvesti.core.protocols.rtp import RtpError, RtpPacket, TelephoneEvent, is_rtcp, parse_header

# A PCMU packet as a phone sends it: V=2, M=1, PT=0, seq 0x1234, ts 0xdeadbeef, SSRC 0x01020304.
GOLDEN = bytes.fromhex("80801234deadbeef01020304") + b"\xff" * 160


def test_parse_golden_packet():
    pkt = RtpPacket.parse(GOLDEN)
    assert (pkt.version, pkt.marker, pkt.payload_type) == (2, True, 0)
    assert (pkt.sequence, pkt.timestamp, pkt.ssrc) == (0x1234, 0xDEADBEEF, 0x01020304)
    assert pkt.payload == b"\xff" * 160
    assert pkt.to_bytes() == GOLDEN


def test_csrc_extension_and_padding_round_trip():
    pkt = RtpPacket(
        payload_type=8,
        sequence=65535,
        timestamp=2**32 - 1,
        ssrc=7,
        payload=b"abc",
        csrc=[1, 2],
        extension=(0xBEDE, b"\x10\x01\x00\x00"),
        padding=4,
    )
    raw = pkt.to_bytes()
    assert raw[0] == 0x80 | 0x20 | 0x10 | 2
    assert RtpPacket.parse(raw) == pkt
    marker, pt, seq, ts, ssrc, start, end = parse_header(raw)
    assert (marker, pt, seq, ts, ssrc) == (0, 8, 65535, 2**32 - 1, 7)
    assert raw[start:end] == b"abc"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\x80\x00", "RTP packet too short: 2 bytes"),
        (bytes.fromhex("400012340000000000000001"), "RTP version 1 is not 2"),
        (bytes.fromhex("81c8000600000001") + bytes(24), "RTCP packet, not RTP"),
        (bytes.fromhex("83000001000000000000000100000001"), "RTP packet truncated in the CSRC list"),
        (bytes.fromhex("a00000010000000000000001") + b"\x00", "RTP padding length is invalid"),
    ],
)
def test_invalid_packets_are_refused_with_the_reason(data, message):
    with pytest.raises(RtpError) as err:
        RtpPacket.parse(data)
    assert str(err.value) == message
    assert parse_header(data) is None


def test_is_rtcp_tells_rtcp_from_rtp():
    sender_report = bytes.fromhex("80c8000601020304") + bytes(20)
    receiver_report = bytes.fromhex("81c9000701020304") + bytes(24)
    assert is_rtcp(sender_report) and is_rtcp(receiver_report)
    assert not is_rtcp(GOLDEN)
    assert not is_rtcp(b"garbage garbage")


def test_parse_header_rejects_garbage_without_raising():
    for data in (b"", b"hello world!", bytes(12), b"\xff" * 40):
        assert parse_header(data) is None


def test_telephone_event_round_trip():
    # Digit 5, end bit, volume 10, duration 1280 (RFC 4733 2.3 layout).
    raw = bytes.fromhex("058a0500")
    ev = TelephoneEvent.parse(raw)
    assert (ev.event, ev.end, ev.volume, ev.duration, ev.digit) == (5, True, 10, 1280, "5")
    assert ev.to_bytes() == raw
    assert TelephoneEvent.from_digit("#").event == 11
    with pytest.raises(RtpError):
        TelephoneEvent.parse(b"\x05")
