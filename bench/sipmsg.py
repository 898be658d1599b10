"""SIP text for the benchmark's endpoints: parse a datagram, build responses, SDP and digest.

Only what bench/sipua.py needs, on loopback; not a general SIP parser.
"""

from __future__ import annotations

import hashlib
import random
import re
from dataclasses import dataclass

_COMPACT = {
    "v": "via",
    "f": "from",
    "t": "to",
    "i": "call-id",
    "m": "contact",
    "l": "content-length",
    "c": "content-type",
}


@dataclass
class Msg:
    first: str
    headers: list[tuple[str, str]]
    body: bytes

    @classmethod
    def parse(cls, data: bytes) -> Msg | None:
        head, sep, body = data.lstrip(b"\r\n").partition(b"\r\n\r\n")
        if not sep or not head.split():  # a CRLF keep-alive (RFC 5626) or a fragment
            return None
        lines = head.decode(errors="replace").split("\r\n")
        headers = []
        for line in lines[1:]:
            name, colon, value = line.partition(":")
            if colon:
                key = name.strip().lower()
                headers.append((_COMPACT.get(key, key), value.strip()))
        return cls(lines[0], headers, body)

    def get(self, name: str) -> str:
        for key, value in self.headers:
            if key == name:
                return value
        return ""

    def all(self, name: str) -> list[str]:
        return [v for k, v in self.headers if k == name]

    @property
    def is_response(self) -> bool:
        return self.first.startswith("SIP/2.0 ")

    @property
    def status(self) -> int:
        return int(self.first.split()[1]) if self.is_response else 0

    @property
    def method(self) -> str:
        return self.first.split()[0] if not self.is_response else self.get("cseq").split()[-1]

    @property
    def cseq(self) -> int:
        return int(self.get("cseq").split()[0] or 0)


def sdp(port: int, session: int) -> bytes:
    return (
        f"v=0\r\no=bench {session} 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
        f"m=audio {port} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=ptime:20\r\na=sendrecv\r\n"
    ).encode()


def sdp_media(body: bytes) -> tuple[str, int] | None:
    text = body.decode(errors="replace")
    c = re.search(r"^c=IN IP4 (\S+)", text, re.M)
    m = re.search(r"^m=audio (\d+)", text, re.M)
    return (c.group(1), int(m.group(1))) if c and m else None


def response(
    req: Msg, status: str, *, to_tag: str | None = None, extra: list[str] = (), body: bytes = b""
) -> bytes:
    to = req.get("to")
    if to_tag and ";tag=" not in to:
        to += f";tag={to_tag}"
    lines = [
        f"SIP/2.0 {status}",
        *(f"Via: {v}" for v in req.all("via")),
        f"From: {req.get('from')}",
        f"To: {to}",
        f"Call-ID: {req.get('call-id')}",
        f"CSeq: {req.get('cseq')}",
        *extra,
    ]
    if body:
        lines.append("Content-Type: application/sdp")
    lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def digest_header(challenge: str, *, method: str, uri: str, user: str, password: str) -> str:
    """Authorization value for an MD5 challenge (qop=auth when offered)."""
    params = dict(re.findall(r'(\w+)="?([^",]*)"?', challenge))
    realm, nonce = params.get("realm", ""), params.get("nonce", "")

    def h(text: str) -> str:
        return hashlib.md5(text.encode()).hexdigest()

    ha1, ha2 = h(f"{user}:{realm}:{password}"), h(f"{method}:{uri}")
    parts = [f'username="{user}"', f'realm="{realm}"', f'nonce="{nonce}"', f'uri="{uri}"', "algorithm=MD5"]
    if "auth" in params.get("qop", "").split(","):
        cnonce = f"{random.getrandbits(64):016x}"
        resp = h(f"{ha1}:{nonce}:00000001:{cnonce}:auth:{ha2}")
        parts += ["qop=auth", "nc=00000001", f'cnonce="{cnonce}"']
    else:
        resp = h(f"{ha1}:{nonce}:{ha2}")
    parts.append(f'response="{resp}"')
    if "opaque" in params:
        parts.append(f'opaque="{params["opaque"]}"')
    return "Digest " + ", ".join(parts)


def md5_challenge(values: list[str]) -> str:
    for v in values:
        if "MD5" in v.upper() and "SHA" not in v.upper().split("ALGORITHM=")[-1][:4]:
            return v
    return values[0]
