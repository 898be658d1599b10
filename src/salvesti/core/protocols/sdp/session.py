"""SDP session descriptions (RFC 4566), parsed into what a recorder needs.

Only what offer/answer and hold detection use is modelled (connection, media lines,
rtpmap, fmtp, ptime, direction); every other line is kept, in order, so a parsed
description serialises back without losing anything a peer might care about.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..digits import is_digits
from .codecs import STATIC_PAYLOAD_TYPES, Codec

DIRECTIONS = ("sendrecv", "sendonly", "recvonly", "inactive")


class SdpParseError(ValueError):
    """The SDP body could not be parsed; the message names the bad line."""


@dataclass
class Connection:
    """c=<nettype> <addrtype> <connection-address>"""

    address: str
    addrtype: str = "IP4"
    nettype: str = "IN"

    @classmethod
    def parse(cls, value: str) -> Connection:
        parts = value.split()
        # A multicast address may carry /ttl; the address is what we need.
        if len(parts) != 3 or not parts[2].split("/")[0]:
            raise SdpParseError(f"bad c= line: {value!r}")
        return cls(parts[2].split("/")[0], parts[1].upper(), parts[0].upper())

    def __str__(self) -> str:
        return f"{self.nettype} {self.addrtype} {self.address}"


@dataclass
class Origin:
    """o=<username> <sess-id> <sess-version> <nettype> <addrtype> <unicast-address>"""

    username: str = "-"
    session_id: int = 0
    session_version: int = 0
    nettype: str = "IN"
    addrtype: str = "IP4"
    address: str = "127.0.0.1"

    @classmethod
    def parse(cls, value: str) -> Origin:
        parts = value.split()
        if len(parts) != 6 or not is_digits(parts[1]) or not is_digits(parts[2]):
            raise SdpParseError(f"bad o= line: {value!r}")
        return cls(parts[0], int(parts[1]), int(parts[2]), parts[3], parts[4], parts[5])

    def __str__(self) -> str:
        return (
            f"{self.username} {self.session_id} {self.session_version} "
            f"{self.nettype} {self.addrtype} {self.address}"
        )


def _attr(value: str) -> tuple[str, str | None]:
    name, sep, rest = value.partition(":")
    return name, (rest if sep else None)


def _fmt_attr(name: str, value: str | None) -> str:
    return f"a={name}" if value is None else f"a={name}:{value}"


@dataclass
class MediaDescription:
    """One m= section. ``direction`` is None when the offer did not say (= sendrecv)."""

    media: str
    port: int
    proto: str
    formats: list[int] = field(default_factory=list)
    connection: Connection | None = None
    direction: str | None = None
    rtpmap: dict[int, Codec] = field(default_factory=dict)
    fmtp: dict[int, str] = field(default_factory=dict)
    ptime: int | None = None
    attributes: list[tuple[str, str | None]] = field(default_factory=list)
    lines: list[tuple[str, str]] = field(default_factory=list)  # i=, b=, k= kept as is
    port_count: int | None = None
    raw_formats: list[str] | None = None  # non-RTP media (e.g. datachannel) formats

    def codec(self, pt: int) -> Codec | None:
        """The codec behind a payload type: rtpmap first, else the static table."""
        return self.rtpmap.get(pt) or STATIC_PAYLOAD_TYPES.get(pt)

    @property
    def effective_direction(self) -> str:
        return self.direction or "sendrecv"

    def _add_attribute(self, name: str, value: str | None, lineno: int) -> None:
        if name in DIRECTIONS and value is None:
            self.direction = name
        elif name == "rtpmap" and value:
            pt_text, _, enc = value.partition(" ")
            parts = enc.strip().split("/")
            if not is_digits(pt_text) or len(parts) < 2 or not is_digits(parts[1]):
                raise SdpParseError(f"line {lineno}: bad a=rtpmap: {value!r}")
            channels = int(parts[2]) if len(parts) > 2 and is_digits(parts[2]) else 1
            self.rtpmap[int(pt_text)] = Codec(parts[0], int(parts[1]), channels)
        elif name == "fmtp" and value:
            pt_text, _, params = value.partition(" ")
            if not is_digits(pt_text):
                self.attributes.append((name, value))
                return
            self.fmtp[int(pt_text)] = params.strip()
        elif name == "ptime" and value and is_digits(value.strip().split(".")[0]):
            self.ptime = int(value.strip().split(".")[0])
        else:
            self.attributes.append((name, value))

    def to_lines(self) -> list[str]:
        port = f"{self.port}/{self.port_count}" if self.port_count else str(self.port)
        fmts = self.raw_formats if self.raw_formats is not None else [str(f) for f in self.formats]
        out = [f"m={self.media} {port} {self.proto} {' '.join(fmts)}".rstrip()]
        out += [f"{k}={v}" for k, v in self.lines if k == "i"]
        if self.connection:
            out.append(f"c={self.connection}")
        out += [f"{k}={v}" for k, v in self.lines if k != "i"]
        for pt in self.formats:
            if pt in self.rtpmap:
                out.append(f"a=rtpmap:{pt} {self.rtpmap[pt].rtpmap}")
            if pt in self.fmtp:
                out.append(f"a=fmtp:{pt} {self.fmtp[pt]}")
        if self.ptime is not None:
            out.append(f"a=ptime:{self.ptime}")
        if self.direction:
            out.append(f"a={self.direction}")
        out += [_fmt_attr(n, v) for n, v in self.attributes]
        return out

    def is_hold(self, session_connection: Connection | None = None) -> bool:
        """RFC 3264 §8.4 hold (sendonly/inactive) or the RFC 2543 c=0.0.0.0 form."""
        conn = self.connection or session_connection
        if conn is not None and conn.address in ("0.0.0.0", "::"):
            return True
        return self.effective_direction in ("sendonly", "inactive")


@dataclass
class SessionDescription:
    origin: Origin = field(default_factory=Origin)
    session_name: str = "-"
    connection: Connection | None = None
    timing: str = "0 0"
    media: list[MediaDescription] = field(default_factory=list)
    attributes: list[tuple[str, str | None]] = field(default_factory=list)
    lines: list[tuple[str, str]] = field(default_factory=list)  # i u e p b r z k kept as is
    version: int = 0
    direction: str | None = None

    @classmethod
    def parse(cls, data: str | bytes) -> SessionDescription:
        """Parse an SDP body; tolerant of LF line ends and trailing blanks."""
        if isinstance(data, bytes | bytearray):
            try:
                text = bytes(data).decode("utf-8")
            except UnicodeDecodeError as exc:
                raise SdpParseError("SDP is not valid UTF-8") from exc
        else:
            text = data
        sd = cls()
        seen_version = False
        current: MediaDescription | None = None
        for lineno, raw in enumerate(text.splitlines(), start=1):
            line = raw.strip()
            if not line:
                continue
            if len(line) < 2 or line[1] != "=" or not line[0].isalpha():
                raise SdpParseError(f"line {lineno}: not a <type>=<value> line: {line[:60]!r}")
            kind, value = line[0], line[2:]
            if kind == "v":
                if value.strip() != "0":
                    raise SdpParseError(f"line {lineno}: unsupported SDP version {value!r}")
                seen_version = True
            elif kind == "m":
                current = _parse_m_line(value, lineno)
                sd.media.append(current)
            elif kind == "c":
                conn = Connection.parse(value)
                if current is None:
                    sd.connection = conn
                else:
                    current.connection = conn
            elif kind == "a":
                name, attr_value = _attr(value)
                if current is not None:
                    current._add_attribute(name, attr_value, lineno)
                elif name in DIRECTIONS and attr_value is None:
                    sd.direction = name
                else:
                    sd.attributes.append((name, attr_value))
            elif current is not None:
                current.lines.append((kind, value))
            elif kind == "o":
                sd.origin = Origin.parse(value)
            elif kind == "s":
                sd.session_name = value
            elif kind == "t":
                sd.timing = value
            else:
                sd.lines.append((kind, value))
        if not seen_version:
            raise SdpParseError("missing v= line")
        return sd

    def to_bytes(self) -> bytes:
        out = [f"v={self.version}", f"o={self.origin}", f"s={self.session_name}"]
        out += [f"{k}={v}" for k, v in self.lines if k in "iuep"]
        if self.connection:
            out.append(f"c={self.connection}")
        out += [f"{k}={v}" for k, v in self.lines if k == "b"]
        out.append(f"t={self.timing}")
        out += [f"{k}={v}" for k, v in self.lines if k not in "iuepb"]
        if self.direction:
            out.append(f"a={self.direction}")
        out += [_fmt_attr(n, v) for n, v in self.attributes]
        for m in self.media:
            out += m.to_lines()
        return ("\r\n".join(out) + "\r\n").encode("utf-8")

    def audio(self) -> MediaDescription | None:
        """The first active audio stream (port not 0), the one a recorder cares about."""
        return next((m for m in self.media if m.media == "audio" and m.port != 0), None)

    def media_direction(self, m: MediaDescription) -> str:
        """Direction of ``m``, inheriting the session-level attribute (RFC 4566 §6)."""
        return m.direction or self.direction or "sendrecv"

    def media_address(self, m: MediaDescription) -> str | None:
        conn = m.connection or self.connection
        return conn.address if conn else None

    def is_hold(self) -> bool:
        m = self.audio()
        if m is None:
            return False
        if m.direction is None and self.direction in ("sendonly", "inactive"):
            return True
        return m.is_hold(self.connection)


def _parse_m_line(value: str, lineno: int) -> MediaDescription:
    """m=<media> <port>[/<number of ports>] <proto> <fmt> ..."""
    parts = value.split()
    if len(parts) < 3:
        raise SdpParseError(f"line {lineno}: bad m= line: {value!r}")
    port_text, _, count = parts[1].partition("/")
    if not is_digits(port_text) or int(port_text) > 65535 or (count and not is_digits(count)):
        raise SdpParseError(f"line {lineno}: bad port in m= line: {value!r}")
    m = MediaDescription(parts[0], int(port_text), parts[2], port_count=int(count) if count else None)
    if all(is_digits(f) and int(f) < 128 for f in parts[3:]):
        m.formats = [int(f) for f in parts[3:]]
    else:
        m.raw_formats = parts[3:]
    return m
