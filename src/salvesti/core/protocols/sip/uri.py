"""SIP/SIPS/tel URIs, name-addr addresses and Via values (RFC 3261 §19, §20.42, §25.1).

IPv6 hosts are stored WITHOUT brackets (``::1``), because that is what a socket
address needs; ``__str__`` puts the brackets back.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..digits import is_digits
from .errors import SipParseError

# token = 1*(alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~" )
TOKEN_RE = re.compile(r"^[A-Za-z0-9\-.!%*_+`'~]+$")
# hostname = *( domainlabel "." ) toplabel [ "." ]  (kept loose: digits, letters, - . _)
_HOSTNAME_RE = re.compile(r"^[A-Za-z0-9_\-.]+$")
# IPv6reference = "[" IPv6address "]"  (hex digits, colons, optional dotted IPv4 tail, zone id)
_IPV6_RE = re.compile(r"^[0-9A-Fa-f:.]+(%[A-Za-z0-9_.\-]+)?$")


def split_params(text: str) -> list[str]:
    """Split ``a;b=c;d="x;y"`` on semicolons that are not inside double quotes."""
    out: list[str] = []
    buf: list[str] = []
    in_quotes = False
    escape = False
    for ch in text:
        if escape:
            escape = False
        elif in_quotes and ch == "\\":
            escape = True
        elif ch == '"':
            in_quotes = not in_quotes
        elif ch == ";" and not in_quotes:
            out.append("".join(buf))
            buf = []
            continue
        buf.append(ch)
    out.append("".join(buf))
    return out


def parse_params(text: str, what: str) -> dict[str, str | None]:
    """Parse ``;name[=value]`` pairs (text without the leading ``;``). Names are
    lowercased (they are case-insensitive); values keep their case and quotes."""
    params: dict[str, str | None] = {}
    if not text.strip():
        return params
    for raw in split_params(text):
        item = raw.strip()
        if not item:
            continue
        name, sep, value = item.partition("=")
        name = name.strip()
        if not name or not TOKEN_RE.match(name):
            raise SipParseError(f"bad parameter {item!r} in {what}")
        params[name.lower()] = value.strip() if sep else None
    return params


def format_params(params: dict[str, str | None]) -> str:
    return "".join(f";{k}" if v is None else f";{k}={v}" for k, v in params.items())


def format_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def parse_hostport(text: str, what: str) -> tuple[str, int | None]:
    """``host[:port]`` with IPv6 in brackets; returns (host without brackets, port)."""
    text = text.strip()
    if text.startswith("["):
        end = text.find("]")
        if end < 0:
            raise SipParseError(f"unterminated IPv6 reference in {what}: {text!r}")
        host = text[1:end]
        rest = text[end + 1 :]
        if not _IPV6_RE.match(host):
            raise SipParseError(f"bad IPv6 address in {what}: {text!r}")
        if rest and not rest.startswith(":"):
            raise SipParseError(f"bad host:port in {what}: {text!r}")
        port_text = rest[1:] if rest else None
    else:
        host, sep, port_text_s = text.partition(":")
        port_text = port_text_s if sep else None
        if not host or not _HOSTNAME_RE.match(host):
            raise SipParseError(f"bad host in {what}: {text!r}")
    port: int | None = None
    if port_text is not None:
        port_text = port_text.strip()
        if not is_digits(port_text) or len(port_text) > 5 or int(port_text) > 65535:
            raise SipParseError(f"bad port in {what}: {text!r}")
        port = int(port_text)
    return host, port


@dataclass
class SipUri:
    """A ``sip:``, ``sips:`` or ``tel:`` URI. For ``tel:`` the number is in ``user``
    and ``host`` is empty, so callers read the number the same way for both."""

    scheme: str
    user: str | None
    password: str | None
    host: str
    port: int | None = None
    params: dict[str, str | None] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def parse(cls, text: str) -> SipUri:
        return parse_uri(text)

    def __str__(self) -> str:
        if self.scheme == "tel":
            return f"tel:{self.user or ''}{format_params(self.params)}"
        out = [self.scheme, ":"]
        if self.user is not None:
            out.append(self.user)
            if self.password is not None:
                out.append(":" + self.password)
            out.append("@")
        out.append(format_host(self.host))
        if self.port is not None:
            out.append(f":{self.port}")
        out.append(format_params(self.params))
        if self.headers:
            out.append("?" + "&".join(f"{k}={v}" for k, v in self.headers.items()))
        return "".join(out)

    @property
    def hostport(self) -> tuple[str, int | None]:
        return self.host, self.port


def parse_uri(text: str) -> SipUri:
    """Parse a SIP, SIPS or tel URI.

    SIP-URI = "sip:" [ userinfo ] hostport uri-parameters [ headers ]
    userinfo = ( user / telephone-subscriber ) [ ":" password ] "@"
    """
    text = text.strip()
    if any(c in text for c in '<>" \t\r\n'):
        raise SipParseError(f"bad character in URI {text!r}")
    scheme, sep, rest = text.partition(":")
    scheme = scheme.lower()
    if not sep or scheme not in ("sip", "sips", "tel"):
        raise SipParseError(f"unsupported URI scheme in {text!r}")
    if scheme == "tel":
        number, _, ptext = rest.partition(";")
        if not number or not re.match(r"^[0-9A-Fa-f*#+\-.()pPwW]+$", number):
            raise SipParseError(f"bad tel URI number in {text!r}")
        return SipUri("tel", number, None, "", None, parse_params(ptext, f"URI {text!r}"))
    user: str | None = None
    password: str | None = None
    at = rest.find("@")
    if at >= 0:
        userinfo, rest = rest[:at], rest[at + 1 :]
        user, psep, pw = userinfo.partition(":")
        password = pw if psep else None
        if not user:
            raise SipParseError(f"bad user part in URI {text!r}")
    hdr_text = ""
    if "?" in rest:
        rest, _, hdr_text = rest.partition("?")
    hostport, _, ptext = rest.partition(";")
    host, port = parse_hostport(hostport, f"URI {text!r}")
    headers: dict[str, str] = {}
    for pair in hdr_text.split("&") if hdr_text else []:
        k, _, v = pair.partition("=")
        if not k:
            raise SipParseError(f"bad header part in URI {text!r}")
        headers[k] = v
    return SipUri(scheme, user, password, host, port, parse_params(ptext, f"URI {text!r}"), headers)


def _parse_quoted(text: str, start: int, what: str) -> tuple[str, int]:
    """Read a quoted-string starting at ``text[start] == '"'``; return (unescaped, end)."""
    out: list[str] = []
    i = start + 1
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text):
            out.append(text[i + 1])
            i += 2
            continue
        if ch == '"':
            return "".join(out), i + 1
        out.append(ch)
        i += 1
    raise SipParseError(f"unterminated quoted string in {what}")


@dataclass
class Address:
    """A From/To/Contact/Route value: ``[display] <uri>;params`` or ``uri;params``."""

    display: str | None
    uri: SipUri
    params: dict[str, str | None] = field(default_factory=dict)

    @classmethod
    def parse(cls, text: str) -> Address:
        """name-addr = [ display-name ] LAQUOT addr-spec RAQUOT; in the addr-spec form
        every ``;param`` belongs to the header, not the URI (RFC 3261 §20.10)."""
        what = f"address {text.strip()!r}"
        s = text.strip()
        if not s:
            raise SipParseError("empty address")
        display: str | None = None
        if s.startswith('"'):
            try:
                display, end = _parse_quoted(s, 0, what)
                rest = s[end:].lstrip()
            except SipParseError:
                rest = ""
            if not rest.startswith("<"):
                # Broken quoting seen from real phones ("Mari "Boss" M" <sip:...>): take
                # everything up to the last '"' before '<' as the display name rather
                # than dropping the call.
                lt = s.find("<")
                close = s.rfind('"', 0, lt) if lt > 0 else -1
                if close <= 0 or s[close + 1 : lt].strip():
                    raise SipParseError(f"expected '<' after display name in {what}")
                display, rest = s[1:close], s[lt:]
            s = rest
        lt = s.find("<")
        # A '<' after a ';' or '"' belongs to a parameter of an addr-spec, not a name-addr.
        if lt >= 0 and not any(c in s[:lt] for c in ';"'):
            if lt > 0:
                display = " ".join(s[:lt].split()) or None
            gt = s.find(">", lt)
            if gt < 0:
                raise SipParseError(f"missing '>' in {what}")
            uri = parse_uri(s[lt + 1 : gt])
            rest = s[gt + 1 :].strip()
        else:
            uri_text, _, rest = s.partition(";")
            rest = ";" + rest if rest else ""
            if any(c in uri_text.strip() for c in ' \t"'):
                raise SipParseError(f"bad addr-spec in {what}")
            uri = parse_uri(uri_text)
        if rest and not rest.startswith(";"):
            raise SipParseError(f"unexpected text after URI in {what}")
        return cls(display or None, uri, parse_params(rest[1:], what))  # "" is no display name

    def __str__(self) -> str:
        disp = ""
        if self.display:
            escaped = self.display.replace("\\", "\\\\").replace('"', '\\"')
            disp = f'"{escaped}" '
        return f"{disp}<{self.uri}>{format_params(self.params)}"

    @property
    def tag(self) -> str | None:
        return self.params.get("tag")


# sent-protocol = protocol-name SLASH protocol-version SLASH transport (LWS allowed around SLASH)
_SENT_PROTOCOL_RE = re.compile(
    r"^\s*SIP\s*/\s*2\.0\s*/\s*([A-Za-z0-9\-]+)\s+(.*)$", re.IGNORECASE | re.DOTALL
)


@dataclass
class Via:
    """One Via value. via-parm = sent-protocol LWS sent-by *( SEMI via-params )."""

    transport: str
    host: str
    port: int | None = None
    params: dict[str, str | None] = field(default_factory=dict)

    @classmethod
    def parse(cls, text: str) -> Via:
        what = f"Via {text.strip()!r}"
        m = _SENT_PROTOCOL_RE.match(text)
        if not m:
            raise SipParseError(f"bad sent-protocol in {what}")
        transport = m.group(1).upper()
        rest = m.group(2)
        # A Via may carry a trailing comment in parentheses; it has no meaning to us.
        if "(" in rest:
            rest = rest[: rest.index("(")]
        sent_by, _, ptext = rest.partition(";")
        host, port = parse_hostport(sent_by, what)
        return cls(transport, host, port, parse_params(ptext, what))

    def __str__(self) -> str:
        port = f":{self.port}" if self.port is not None else ""
        return f"SIP/2.0/{self.transport} {format_host(self.host)}{port}{format_params(self.params)}"

    @property
    def branch(self) -> str | None:
        return self.params.get("branch")

    @property
    def received(self) -> str | None:
        return self.params.get("received")

    @property
    def rport(self) -> int | None:
        """The rport value a server filled in (None when absent or still empty)."""
        value = self.params.get("rport")
        return int(value) if value and is_digits(value) else None

    @property
    def sent_by(self) -> tuple[str, int | None]:
        return self.host, self.port
