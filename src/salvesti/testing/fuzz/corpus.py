"""Seed corpora from the real messages the tests already keep.

SIP: the captured messages in ``tests/core/protocols/sip/golden`` (baresip, sipp, Asterisk,
Cisco, Grandstream, Yealink); SDP: their bodies; AT: the modem side (``<`` lines) of the
golden modem logs; RTP: packets as the phones send them (G.711 every 20 ms, RFC 4733 events,
CSRCs, a header extension, padding) and RTCP SR/RR/BYE as they arrive muxed on the RTP port.
"""

from __future__ import annotations

import codecs
import struct
from pathlib import Path

from salvesti.core.protocols.rtp import RtpPacket, TelephoneEvent
from salvesti.core.protocols.sip.message import parse_message


def sip_seeds(tests_dir: Path) -> list[bytes]:
    return [p.read_bytes() for p in sorted((tests_dir / "core/protocols/sip/golden").glob("*.sip"))]


def sdp_seeds(tests_dir: Path) -> list[bytes]:
    return [body for body in (parse_message(m).body for m in sip_seeds(tests_dir)) if body]


def at_seeds(tests_dir: Path) -> list[bytes]:
    """Each golden log's modem bytes, one seed per log, as they came down the wire."""
    seeds = []
    for path in sorted((tests_dir / "core/protocols/at/golden").glob("*.log")):
        chunks = [
            codecs.escape_decode(line[2:].encode("latin-1"))[0]
            for line in path.read_text(encoding="utf-8").splitlines()
            if line.startswith("< ")
        ]
        seeds.append(b"".join(chunks))
    return seeds


def rtp_seeds() -> list[bytes]:
    pcma = bytes([0xD5]) * 160
    packets = [
        RtpPacket(8, 1000, 160000, 0x1234ABCD, pcma, marker=True),
        RtpPacket(0, 65535, 4294967136, 0xDEADBEEF, bytes([0xFF]) * 160),
        RtpPacket(101, 7, 8000, 0x1234ABCD, TelephoneEvent(5, end=True, duration=800).to_bytes()),
        RtpPacket(8, 2, 320, 1, pcma, csrc=[1, 2, 3]),
        RtpPacket(8, 3, 480, 1, pcma, extension=(0xBEDE, b"\x10\xff\x00\x00")),
        RtpPacket(9, 4, 640, 1, bytes(80), padding=4),
    ]
    sr = struct.pack("!BBHIIIIII", 0x80, 200, 6, 0x1234ABCD, 0xE8C8E0F1, 0x10000000, 160000, 50, 8000)
    rr = struct.pack("!BBHIIIIIII", 0x81, 201, 7, 1, 0x1234ABCD, 0x00000002, 1050, 20, 0, 0)
    bye = struct.pack("!BBHI", 0x81, 203, 1, 0x1234ABCD)
    return [p.to_bytes() for p in packets] + [sr, rr, sr + bye]
