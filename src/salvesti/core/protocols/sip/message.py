"""SIP requests and responses: parsing, serialising and building responses.

``parse_message`` takes one datagram (or one frame cut by ``StreamParser`` from a TCP
stream) and returns a validated message: Via, From, To, Call-ID and CSeq are checked
here, once, so the transaction and dialog layers can read them without re-checking.
Everything wrong is reported as ``SipParseError`` naming the offending line or header.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field

from ..digits import is_digits
from .errors import SipParseError
from .headers import Headers, canonical_name
from .reasons import REASON_PHRASES as REASON_PHRASES  # re-exported for callers
from .reasons import reason_phrase
from .uri import TOKEN_RE, Address, SipUri, Via, parse_uri

SIP_VERSION = "SIP/2.0"
MAX_HEADER_BYTES = 65536
MAX_BODY_BYTES = 1 << 20


class _MessageMixin:
    """Convenience accessors shared by requests and responses."""

    headers: Headers
    body: bytes

    def _required(self, name: str) -> str:
        value = self.headers.get(name)
        if value is None:
            raise SipParseError(f"missing required header {name!r}")
        return value

    @property
    def call_id(self) -> str:
        return self._required("Call-ID").strip()

    @property
    def cseq(self) -> tuple[int, str]:
        return parse_cseq(self._required("CSeq"))

    @property
    def from_addr(self) -> Address:
        return Address.parse(self._required("From"))

    @property
    def to_addr(self) -> Address:
        return Address.parse(self._required("To"))

    @property
    def via(self) -> Via:
        """The top Via."""
        return Via.parse(self._required("Via"))

    @property
    def vias(self) -> list[Via]:
        return [Via.parse(v) for v in self.headers.get_all("Via")]

    @property
    def contact(self) -> Address | None:
        value = self.headers.get("Contact")
        return None if value is None or value.strip() == "*" else Address.parse(value)

    def _head_and_body(self, start_line: str) -> bytes:
        self.headers.set("Content-Length", str(len(self.body)))
        lines = [start_line] + [f"{n}: {v}" if v else f"{n}:" for n, v in self.headers.items()]
        return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8") + self.body


@dataclass(eq=True)
class SipRequest(_MessageMixin):
    method: str
    uri: str
    headers: Headers = field(default_factory=Headers)
    body: bytes = b""
    version: str = SIP_VERSION

    def to_bytes(self) -> bytes:
        """Serialise, setting Content-Length to the body's length."""
        return self._head_and_body(f"{self.method} {self.uri} {self.version}")

    @property
    def parsed_uri(self) -> SipUri:
        return parse_uri(self.uri)


@dataclass(eq=True)
class SipResponse(_MessageMixin):
    status: int
    reason: str
    headers: Headers = field(default_factory=Headers)
    body: bytes = b""
    version: str = SIP_VERSION

    def to_bytes(self) -> bytes:
        """Serialise, setting Content-Length to the body's length."""
        return self._head_and_body(f"{self.version} {self.status} {self.reason}")


SipMessage = SipRequest | SipResponse


def parse_cseq(value: str) -> tuple[int, str]:
    """CSeq = 1*DIGIT LWS Method"""
    parts = value.split()
    if len(parts) != 2 or not is_digits(parts[0]) or not TOKEN_RE.match(parts[1]):
        raise SipParseError(f"bad CSeq header: {value.strip()!r}")
    number = int(parts[0])
    if number >= 2**31:
        raise SipParseError(f"CSeq number out of range: {value.strip()!r}")
    return number, parts[1].upper()


def is_keepalive(data: bytes) -> bool:
    """A datagram of only CR/LF bytes is a NAT keep-alive (RFC 5626 §3.5.1), not an error."""
    return bool(data) and not data.strip(b"\r\n")


_BLANK_LINE_RE = re.compile(rb"\r?\n\r?\n")
_LINE_END_RE = re.compile(r"\r?\n")
_STATUS_LINE_RE = re.compile(r"^(SIP/\d+\.\d+) +(\d{3})(?: (.*))?$", re.IGNORECASE)
_REQUEST_LINE_RE = re.compile(r"^([A-Za-z0-9\-.!%*_+`'~]+) +(\S+) +(SIP/\d+\.\d+)$", re.IGNORECASE)


def _decode_head(head: bytes) -> str:
    try:
        return head.decode("utf-8")
    except UnicodeDecodeError:
        # Some phones put Latin-1 display names on the wire; accept rather than drop calls.
        return head.decode("latin-1")


def _parse_start_line(line: str) -> SipRequest | SipResponse:
    if line.upper().startswith("SIP/"):
        m = _STATUS_LINE_RE.match(line)
        if not m:
            raise SipParseError(f"bad status line: {line[:80]!r}")
        version, code, reason = m.group(1).upper(), int(m.group(2)), (m.group(3) or "").strip()
        if version != SIP_VERSION:
            raise SipParseError(f"unsupported SIP version {m.group(1)!r} in status line")
        if not 100 <= code <= 699:
            raise SipParseError(f"status code out of range in status line: {line[:80]!r}")
        return SipResponse(code, reason, Headers())
    m = _REQUEST_LINE_RE.match(line)
    if not m:
        raise SipParseError(f"bad request line: {line[:80]!r}")
    method, uri, version = m.group(1), m.group(2), m.group(3).upper()
    if version != SIP_VERSION:
        raise SipParseError(f"unsupported SIP version {m.group(3)!r} in request line")
    if ":" not in uri:
        raise SipParseError(f"bad Request-URI in request line: {uri[:80]!r}")
    return SipRequest(method.upper(), uri, Headers())


def _parse_header_lines(lines: list[str], headers: Headers) -> None:
    current: list[str] | None = None  # [name, value] being built (for folded lines)
    for number, line in enumerate(lines, start=2):
        if line[:1] in (" ", "\t"):
            if current is None:
                raise SipParseError(f"line {number}: continuation line before any header")
            current[1] = f"{current[1]} {line.strip()}".strip()
            continue
        if current is not None:
            headers.add(current[0], current[1])
        name, sep, value = line.partition(":")
        name = name.rstrip(" \t")
        if not sep:
            raise SipParseError(f"line {number}: header line without ':': {line[:80]!r}")
        if not TOKEN_RE.match(name):
            raise SipParseError(f"line {number}: bad header name {name[:40]!r}")
        current = [name, value.strip()]
    if current is not None:
        headers.add(current[0], current[1])


def _validate(msg: SipRequest | SipResponse) -> None:
    """Check the headers every transaction and dialog needs, once, at the edge."""
    for name in ("Via", "From", "To", "Call-ID", "CSeq"):
        if name not in msg.headers:
            raise SipParseError(f"missing required header {name!r}")
    if not msg.call_id:
        raise SipParseError("empty Call-ID header")
    _, cseq_method = msg.cseq
    if isinstance(msg, SipRequest) and cseq_method != msg.method:
        raise SipParseError(f"CSeq method {cseq_method!r} does not match request method {msg.method!r}")
    msg.from_addr  # noqa: B018 - parse to validate
    msg.to_addr  # noqa: B018
    msg.vias  # noqa: B018
    if isinstance(msg, SipRequest):
        max_fwd = msg.headers.get("Max-Forwards")
        if max_fwd is not None and not is_digits(max_fwd.strip()):
            raise SipParseError(f"bad Max-Forwards header: {max_fwd!r}")


def _content_length(headers: Headers) -> int | None:
    value = headers.get("Content-Length")
    if value is None:
        return None
    value = value.strip()
    if not is_digits(value):
        raise SipParseError(f"bad Content-Length header: {value[:40]!r}")
    return int(value)


def parse_message(data: bytes) -> SipRequest | SipResponse:
    """Parse one SIP message from a datagram or a stream frame.

    Tolerates leading CRLF keep-alives, LF-only line ends and folded header lines.
    A body longer than Content-Length is cut (UDP padding); a shorter one is an error.
    """
    if not isinstance(data, bytes | bytearray | memoryview):
        raise SipParseError("message must be bytes")
    data = bytes(data).lstrip(b"\r\n")
    if not data:
        raise SipParseError("empty message")
    m = _BLANK_LINE_RE.search(data)
    head, body = (data[: m.start()], data[m.end() :]) if m else (data.rstrip(b"\r\n"), b"")
    if len(head) > MAX_HEADER_BYTES:
        raise SipParseError(f"header section exceeds {MAX_HEADER_BYTES} bytes")
    text = _decode_head(head)
    if "\x00" in text:
        raise SipParseError("NUL byte in message head")
    lines = _LINE_END_RE.split(text)
    msg = _parse_start_line(lines[0].strip())
    _parse_header_lines(lines[1:], msg.headers)
    length = _content_length(msg.headers)
    if length is not None:
        if length > len(body):
            raise SipParseError(f"Content-Length {length} exceeds body length {len(body)}")
        body = body[:length]
    msg.body = body
    _validate(msg)
    return msg


class StreamParser:
    """Cut SIP messages out of a TCP/TLS byte stream by Content-Length (RFC 3261 §18.3).

    CRLF keep-alives between messages are skipped. Work per ``feed`` is proportional to
    the new bytes, not to what is buffered, so a peer trickling a huge header one byte
    at a time cannot make us rescan it. Once the stream is found to be garbage, every
    later ``feed`` raises too: the only recovery is closing the connection.
    """

    def __init__(self) -> None:
        self._buf = bytearray()
        self._error: SipParseError | None = None
        self._reset()

    def _reset(self) -> None:
        self._in_message = False  # leading keep-alives of this message skipped
        self._start_ok = False  # start line checked
        self._search_from = 0  # where to look for the blank line next time
        self._frame_end: int | None = None  # head + Content-Length, once known

    def feed(self, data: bytes) -> list[SipRequest | SipResponse]:
        if self._error is not None:
            raise self._error
        self._buf += data
        try:
            return self._drain()
        except SipParseError as exc:
            self._error = exc
            raise

    def _drain(self) -> list[SipRequest | SipResponse]:
        out: list[SipRequest | SipResponse] = []
        while True:
            if self._frame_end is None and not self._find_frame():
                return out
            assert self._frame_end is not None
            if len(self._buf) < self._frame_end:
                return out
            frame = bytes(self._buf[: self._frame_end])
            del self._buf[: self._frame_end]
            self._reset()
            out.append(parse_message(frame))

    def _find_frame(self) -> bool:
        """Advance through keep-alives, start line and head; True once the frame's end is known."""
        if not self._in_message:
            skip = 0
            while skip < len(self._buf) and self._buf[skip] in (0x0D, 0x0A):
                skip += 1
            del self._buf[:skip]
            if not self._buf:
                return False
            self._in_message = True
        if not self._start_ok:
            first_end = self._buf.find(b"\n", self._search_from)
            if first_end < 0:
                self._search_from = len(self._buf)
                if self._search_from >= MAX_HEADER_BYTES:
                    raise SipParseError(f"header section exceeds {MAX_HEADER_BYTES} bytes")
                return False
            _parse_start_line(_decode_head(bytes(self._buf[:first_end])).strip())
            self._start_ok = True
            self._search_from = max(0, first_end - 1)  # the blank line may begin at its CR
        m = _BLANK_LINE_RE.search(self._buf, self._search_from)
        if m is None:
            # The blank line is at most 4 bytes: the next search may start 3 back.
            self._search_from = max(0, len(self._buf) - 3)
            if self._search_from >= MAX_HEADER_BYTES:
                raise SipParseError(f"header section exceeds {MAX_HEADER_BYTES} bytes")
            return False
        headers = Headers()
        _parse_header_lines(_LINE_END_RE.split(_decode_head(bytes(self._buf[: m.start()])))[1:], headers)
        length = _content_length(headers) or 0
        if length > MAX_BODY_BYTES:
            raise SipParseError(f"Content-Length {length} exceeds limit {MAX_BODY_BYTES}")
        self._frame_end = m.end() + length
        return True

    @property
    def buffered(self) -> int:
        """Bytes waiting for the rest of a message."""
        return len(self._buf)


def build_response(
    request: SipRequest,
    status: int,
    reason: str | None = None,
    *,
    to_tag: str | None = None,
    headers: list[tuple[str, str]] | None = None,
    body: bytes = b"",
) -> SipResponse:
    """Build a response per RFC 3261 §8.2.6: copy Via (all), From, To, Call-ID, CSeq.

    ``to_tag`` is added when To has none (never to 100 Trying). Record-Route is copied
    into 101-299 responses because those may create a dialog (§12.1.1).
    """
    out = Headers()
    for via in request.headers.get_all("Via"):
        out.add("Via", via)
    out.add("From", request._required("From"))
    to = request._required("To")
    if to_tag and status != 100 and Address.parse(to).tag is None:
        to = f"{to};tag={to_tag}"
    out.add("To", to)
    out.add("Call-ID", request._required("Call-ID"))
    out.add("CSeq", request._required("CSeq"))
    if 100 < status < 300:
        for rr in request.headers.get_all("Record-Route"):
            out.add("Record-Route", rr)
    for name, value in headers or []:
        out.add(canonical_name(name), value)
    return SipResponse(status, reason if reason is not None else reason_phrase(status), out, body)


def new_branch() -> str:
    """A fresh RFC 3261 branch (magic cookie + 64 random bits)."""
    return "z9hG4bK" + secrets.token_hex(8)


def new_tag() -> str:
    return secrets.token_hex(6)


def new_call_id(host: str) -> str:
    return f"{secrets.token_hex(12)}@{host}"


def make_via(transport: str, host: str, port: int | None, branch: str | None = None) -> str:
    """Our top Via value, with a fresh branch and ``rport`` so NATed peers answer us
    where we really are (RFC 3581)."""
    via = Via(transport.upper(), host, port, {"branch": branch or new_branch(), "rport": None})
    return str(via)
