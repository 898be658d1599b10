"""The parser targets: SIP, SDP, RTP/RTCP and AT, each with its oracle.

Every check swallows exactly the parser's documented error type and asserts what must hold
for what did parse (it prints and reads back the same; the fast RTP path agrees with the
full one; an AT stream gives the same events however it is cut). Everything else escapes
and is a crash. The checks are pure: no I/O, no clock.
"""

from __future__ import annotations

from collections.abc import Sequence

from salvesti.core.protocols.at import (
    ATCommander,
    Event,
    LineFramer,
    VoiceData,
    VoiceStreamDecoder,
    parse_urc,
    split_fields,
)
from salvesti.core.protocols.at.urc import parse_cid_line
from salvesti.core.protocols.rtp import RtpError, RtpPacket, TelephoneEvent, is_rtcp, parse_header
from salvesti.core.protocols.sdp import SdpParseError, SessionDescription
from salvesti.core.protocols.sdp.codecs import PCMA, PCMU
from salvesti.core.protocols.sdp.negotiate import negotiate
from salvesti.core.protocols.sip.digest import parse_auth_header
from salvesti.core.protocols.sip.errors import SipParseError
from salvesti.core.protocols.sip.message import SipRequest, SipResponse, StreamParser, parse_message
from salvesti.core.protocols.sip.session_timer import parse_session_expires

from .engine import Target

SIP_TOKENS = [
    b"Via: SIP/2.0/UDP ",
    b"Content-Length: ",
    b"\r\n\r\n",
    b"CSeq: 1 INVITE",
    b"Call-ID: ",
    b";branch=z9hG4bK",
    b";tag=",
    b"<sip:",
    b"sips:[::1]:",
    b"Session-Expires: ",
    b'Authorization: Digest username="a", nonce="',
    b"Max-Forwards: ",
    b"SIP/2.0 ",
    b"\r\n ",
    b"%00",
]


def check_sip(data: bytes) -> None:
    """A datagram: parse, read every header the stack reads, print and parse back."""
    try:
        msg = parse_message(data)
    except SipParseError:
        return
    assert parse_message(msg.to_bytes()) == msg, "a parsed message does not read back the same"
    _read_headers(msg)
    for name in ("Authorization", "Proxy-Authorization", "WWW-Authenticate"):
        value = msg.headers.get(name)
        if value is not None:
            parse_auth_header(value)
    try:
        parse_session_expires(msg.headers.get("Session-Expires"))
    except SipParseError:
        pass


def _read_headers(msg: SipRequest | SipResponse) -> None:
    """Read the headers the stack reads; a bad one raises SipParseError and nothing else."""
    readers = [lambda: msg.from_addr, lambda: msg.to_addr, lambda: msg.vias, lambda: msg.contact]
    readers.append(lambda: msg.cseq)
    if isinstance(msg, SipRequest):
        readers.append(lambda: msg.parsed_uri)
    for read in readers:
        try:
            read()
        except SipParseError:
            pass


def check_sip_stream(data: bytes) -> None:
    """The same bytes over TCP, cut at a few places: the framer raises only SipParseError."""
    parser = StreamParser()
    step = 1 + (data[0] if data else 0) % 97
    try:
        for i in range(0, len(data), step):
            parser.feed(data[i : i + step])
    except SipParseError:
        pass


def check_sdp(data: bytes) -> None:
    """An SDP body: parse, print and parse back, and negotiate an answer from it."""
    try:
        sd = SessionDescription.parse(data)
    except SdpParseError:
        return
    again = SessionDescription.parse(sd.to_bytes())
    assert again.to_bytes() == sd.to_bytes(), "SDP does not print the same after a round trip"
    negotiate(sd, [PCMA, PCMU])


def check_rtp(data: bytes) -> None:
    """A datagram on an RTP port: the relay's fast header parse must agree with the full one,
    and RTCP (RFC 5761 demultiplexing) is never taken for RTP."""
    fast = parse_header(data)
    try:
        packet = RtpPacket.parse(data)
    except RtpError:
        packet = None
    if is_rtcp(data):
        assert fast is None and packet is None, "an RTCP packet parsed as RTP"
        return
    if packet is None:
        assert fast is None, "the fast path accepted a packet the full parse refused"
        return
    assert fast is not None, "the fast path refused a packet the full parse accepted"
    marker, pt, seq, ts, ssrc, start, end = fast
    assert (bool(marker), pt, seq, ts, ssrc) == (
        packet.marker,
        packet.payload_type,
        packet.sequence,
        packet.timestamp,
        packet.ssrc,
    )
    assert data[start:end] == packet.payload, "the two parses disagree on the payload"
    assert RtpPacket.parse(packet.to_bytes()) == packet, "an RTP packet does not read back the same"
    try:
        TelephoneEvent.parse(packet.payload)
    except RtpError:
        pass


AT_TOKENS = [
    b"\r\n",
    b"OK\r\n",
    b"ERROR\r\n",
    b"RING\r\n",
    b"NO CARRIER\r\n",
    b"CONNECT\r\n",
    b"+CLIP: ",
    b"+CLCC: 1,1,6,0,0,",
    b"+CME ERROR: ",
    b'"+3725551234",145',
    b"NMBR = ",
    b"NAME = ",
    b"DATE = ",
    b"VOICE CALL: END: ",
    b"\x10",
    b"\x10\x03",
    b"\x10\x10",
    b"\x10b",
    b"\x10d",
]


def check_at(data: bytes) -> None:
    """Bytes from a modem while commands wait: never an exception, and the events do not
    depend on how the bytes were cut into reads (a serial port cuts anywhere)."""
    whole = _at_events(data, len(data) or 1)
    step = 3 + (data[0] if data else 0) % 40
    assert _at_events(data, step) == whole, "AT events depend on how the reads were cut"
    for line in data.decode("latin-1").split("\r\n")[:8]:
        parse_urc(line)
        parse_cid_line(line)
        split_fields(line)
    framer = LineFramer(max_line=128)
    framer.push(data)
    while framer.pop() is not None:
        pass
    VoiceStreamDecoder().feed(data)


def _at_events(data: bytes, step: int) -> list[Event]:
    commander = ATCommander(max_line=256)
    for cmd in ("AT+CLCC", "ATA", "AT+VRX"):
        commander.send(cmd, 1.0, now=0.0)
    events: list[Event] = []
    for i in range(0, len(data), step):
        events += commander.feed(data[i : i + step], now=0.5)
    events += commander.handle_timer(10.0)
    return _joined(events)


def _joined(events: list[Event]) -> list[Event]:
    """Voice data cut across reads comes as several VoiceData events: join neighbours."""
    out: list[Event] = []
    for event in events:
        if isinstance(event, VoiceData) and out and isinstance(out[-1], VoiceData):
            out[-1] = VoiceData(out[-1].data + event.data)
        else:
            out.append(event)
    return out


def parser_targets(
    sip: Sequence[bytes], sdp: Sequence[bytes], rtp: Sequence[bytes], at: Sequence[bytes]
) -> list[Target]:
    """The parser targets over the given seed corpora (see :mod:`.corpus`)."""
    return [
        Target("sip", sip, check_sip, SIP_TOKENS),
        Target("sip-tcp", sip, check_sip_stream, SIP_TOKENS),
        Target("sdp", sdp, check_sdp, [b"m=audio ", b"a=rtpmap:", b"c=IN IP6 ", b"a=fmtp:101 0-16"]),
        Target("rtp", rtp, check_rtp, [b"\x80", b"\x90", b"\xa0", b"\xc8", b"\xbe\xde"]),
        Target("at", at, check_at, AT_TOKENS),
    ]
