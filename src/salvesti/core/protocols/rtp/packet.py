"""RTP packets (RFC 3550 section 5.1) and the RTP/RTCP split of RFC 5761 section 4.

Two ways in: :class:`RtpPacket` is the readable object for tests, tools and the odd
control decision; :func:`parse_header` is the hot path used by the relay for every packet,
returning a plain tuple so that 100,000 packets a second do not build 100,000 objects.

Fixed header (RFC 3550 5.1)::

     0                   1                   2                   3
     0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
    |V=2|P|X|  CC   |M|     PT      |       sequence number         |
    |                           timestamp                           |
    |           synchronization source (SSRC) identifier            |
    |            contributing source (CSRC) identifiers             |
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

RTP_HEADER = struct.Struct("!BBHII")
_EXT_HEADER = struct.Struct("!HH")


class RtpError(ValueError):
    """The datagram is not a valid RTP packet."""


def is_rtcp(data: bytes) -> bool:
    """True for RTCP arriving on an RTP port (rtcp-mux, RFC 5761 4): PT 64..95 after the marker.

    RTCP packet types 192..223 (SR 200, RR 201, SDES 202, BYE 203, APP 204, feedback 205/206)
    read as marker + payload type 64..95 in RTP terms, a range RTP must never use.
    """
    return len(data) >= 8 and (data[0] >> 6) == 2 and 192 <= data[1] <= 223


def parse_header(data: bytes) -> tuple[int, int, int, int, int, int, int] | None:
    """Fast header parse: ``(marker, payload_type, sequence, timestamp, ssrc, start, end)``.

    ``data[start:end]`` is the payload (CSRCs, the extension and padding skipped). Returns
    None for anything that is not RTP version 2 or is truncated, and for RTCP; callers count
    and drop those. Kept allocation-light: it runs once per packet on the relay.
    """
    n = len(data)
    if n < 12:
        return None
    b0, b1, seq, ts, ssrc = RTP_HEADER.unpack_from(data)
    if b0 >> 6 != 2 or 192 <= b1 <= 223:
        return None
    start = 12 + ((b0 & 0x0F) << 2)
    if b0 & 0x10:
        if n < start + 4:
            return None
        start += 4 + (_EXT_HEADER.unpack_from(data, start)[1] << 2)
    end = n
    if b0 & 0x20:
        if not data[-1]:
            return None
        end -= data[-1]
    if end < start:
        return None
    return b1 >> 7, b1 & 0x7F, seq, ts, ssrc, start, end


@dataclass
class RtpPacket:
    """One RTP packet; ``extension`` is ``(profile, data)`` when the X bit is set."""

    payload_type: int
    sequence: int
    timestamp: int
    ssrc: int
    payload: bytes = b""
    marker: bool = False
    csrc: list[int] = field(default_factory=list)
    extension: tuple[int, bytes] | None = None
    version: int = 2
    padding: int = 0

    @classmethod
    def parse(cls, data: bytes) -> RtpPacket:
        """Parse a datagram; raises :class:`RtpError` with the reason when it is not RTP."""
        if len(data) < 12:
            raise RtpError(f"RTP packet too short: {len(data)} bytes")
        b0, b1, seq, ts, ssrc = RTP_HEADER.unpack_from(data)
        version = b0 >> 6
        if version != 2:
            raise RtpError(f"RTP version {version} is not 2")
        if 192 <= b1 <= 223:
            raise RtpError("RTCP packet, not RTP")
        cc = b0 & 0x0F
        pos = 12 + 4 * cc
        if len(data) < pos:
            raise RtpError("RTP packet truncated in the CSRC list")
        csrc = list(struct.unpack_from(f"!{cc}I", data, 12)) if cc else []
        extension = None
        if b0 & 0x10:
            if len(data) < pos + 4:
                raise RtpError("RTP packet truncated in the header extension")
            profile, words = _EXT_HEADER.unpack_from(data, pos)
            ext_end = pos + 4 + 4 * words
            if len(data) < ext_end:
                raise RtpError("RTP packet truncated in the header extension")
            extension = (profile, bytes(data[pos + 4 : ext_end]))
            pos = ext_end
        end = len(data)
        padding = 0
        if b0 & 0x20:
            padding = data[-1]
            if padding == 0 or end - padding < pos:
                raise RtpError("RTP padding length is invalid")
            end -= padding
        return cls(
            payload_type=b1 & 0x7F,
            sequence=seq,
            timestamp=ts,
            ssrc=ssrc,
            payload=bytes(data[pos:end]),
            marker=bool(b1 & 0x80),
            csrc=csrc,
            extension=extension,
            version=version,
            padding=padding,
        )

    def to_bytes(self) -> bytes:
        """Serialise; padding is written when ``padding`` > 0 (the count includes the last byte)."""
        b0 = 0x80 | (0x20 if self.padding else 0) | (0x10 if self.extension else 0) | len(self.csrc)
        b1 = (0x80 if self.marker else 0) | (self.payload_type & 0x7F)
        parts = [
            RTP_HEADER.pack(
                b0, b1, self.sequence & 0xFFFF, self.timestamp & 0xFFFFFFFF, self.ssrc & 0xFFFFFFFF
            )
        ]
        if self.csrc:
            parts.append(struct.pack(f"!{len(self.csrc)}I", *self.csrc))
        if self.extension is not None:
            profile, data = self.extension
            if len(data) % 4:
                raise RtpError("RTP header extension length must be a multiple of 4")
            parts.append(_EXT_HEADER.pack(profile, len(data) // 4) + data)
        parts.append(self.payload)
        if self.padding:
            parts.append(bytes(self.padding - 1) + bytes([self.padding]))
        return b"".join(parts)
