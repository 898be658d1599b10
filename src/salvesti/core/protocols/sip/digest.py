"""HTTP Digest authentication for SIP (RFC 2617, RFC 7616, RFC 8760), both sides.

Server side is stateless: the nonce carries its own timestamp and an HMAC over it, so
a restart or many phones cost no memory, and a forged or expired nonce is detected
without a lookup table. Unknown users are checked against a dummy password so they
get the same answer, after the same work, as a wrong password.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass

from .errors import SipParseError
from .uri import parse_uri

HASHES: dict[str, Callable[[bytes], str]] = {
    "MD5": lambda b: hashlib.md5(b).hexdigest(),
    "SHA-256": lambda b: hashlib.sha256(b).hexdigest(),
    "SHA-512-256": lambda b: hashlib.new("sha512_256", b).hexdigest(),
}
_TS_HEX = 16  # nonce = 16 hex digits of milliseconds + 16 random hex + 32 hex HMAC


def _base_algorithm(algorithm: str) -> tuple[str, bool]:
    """'SHA-256-sess' -> ('SHA-256', True)."""
    alg = algorithm.strip().upper()
    sess = alg.endswith("-SESS")
    return (alg[:-5] if sess else alg), sess


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def parse_auth_header(value: str) -> dict[str, str]:
    """Parse ``Digest k=v, k="v", ...`` into lowercased keys and unquoted values.

    Tolerant on purpose: spaces around ``=`` and commas, missing commas, a value cut
    short. The scheme (``Digest``) is returned under the key ``scheme``.
    """
    text = value.strip()
    out: dict[str, str] = {}
    first, _, rest = text.partition(" ")
    if "=" not in first:
        out["scheme"] = first
        text = rest
    i, n = 0, len(text)
    while i < n:
        while i < n and text[i] in " \t\r\n,":
            i += 1
        start = i
        while i < n and text[i] not in "= \t,":
            i += 1
        key = text[start:i].lower()
        while i < n and text[i] in " \t":
            i += 1
        if i >= n or text[i] != "=":
            if key:
                out[key] = ""
            continue
        i += 1
        while i < n and text[i] in " \t":
            i += 1
        if i < n and text[i] == '"':
            i += 1
            buf: list[str] = []
            while i < n and text[i] != '"':
                if text[i] == "\\" and i + 1 < n:
                    i += 1
                buf.append(text[i])
                i += 1
            i += 1
            val = "".join(buf)
        else:
            start = i
            while i < n and text[i] not in ", \t":
                i += 1
            val = text[start:i]
        if key:
            out[key] = val
    return out


def digest_response(
    *,
    algorithm: str,
    username: str,
    realm: str,
    password: str,
    method: str,
    uri: str,
    nonce: str,
    qop: str | None = None,
    nc: str | None = None,
    cnonce: str | None = None,
    body: bytes = b"",
) -> str:
    """The request-digest of RFC 7616 §3.4.1 (RFC 2069 form when ``qop`` is None)."""
    base, sess = _base_algorithm(algorithm)
    h = HASHES.get(base)
    if h is None:
        raise ValueError(f"unsupported digest algorithm {algorithm!r}")
    ha1 = h(f"{username}:{realm}:{password}".encode())
    if sess:
        ha1 = h(f"{ha1}:{nonce}:{cnonce or ''}".encode())
    ha2_input = f"{method}:{uri}"
    if qop == "auth-int":
        ha2_input += ":" + h(body)
    ha2 = h(ha2_input.encode())
    if qop:
        return h(f"{ha1}:{nonce}:{nc}:{cnonce}:{qop}:{ha2}".encode())
    return h(f"{ha1}:{nonce}:{ha2}".encode())


@dataclass(frozen=True)
class DigestResult:
    ok: bool
    username: str | None = None
    stale: bool = False


class DigestServer:
    """Challenges and checks credentials for one realm (a Salvesti source)."""

    def __init__(
        self,
        realm: str,
        algorithms: list[str] | None = None,
        secret: bytes | None = None,
        nonce_ttl: float = 300,
        *,
        check_nonce_count: bool = False,
    ) -> None:
        self.realm = realm
        self.algorithms = [a.upper() for a in (algorithms or ["MD5", "SHA-256"])]
        for alg in self.algorithms:
            if _base_algorithm(alg)[0] not in HASHES:
                raise ValueError(f"unsupported digest algorithm {alg!r}")
        self._secret = secret if secret is not None else secrets.token_bytes(32)
        self.nonce_ttl = nonce_ttl
        # Off by default: many cheap phones reuse nc=00000001 with a cached nonce, and
        # the nonce's own age limit already bounds how long a capture can be replayed.
        self.check_nonce_count = check_nonce_count
        self._last_nc: dict[str, tuple[float, int]] = {}

    def _mac(self, stamp: str) -> str:
        return hmac.new(self._secret, stamp.encode(), hashlib.sha256).hexdigest()[:32]

    def make_nonce(self, now: float) -> str:
        stamp = f"{int(now * 1000) & (2**64 - 1):016x}{secrets.token_hex(8)}"
        return stamp + self._mac(stamp)

    def _nonce_age(self, nonce: str, now: float) -> float | None:
        """Seconds since the nonce was made, or None when it is not one of ours."""
        if len(nonce) != 2 * _TS_HEX + 32:
            return None
        stamp, mac = nonce[: 2 * _TS_HEX], nonce[2 * _TS_HEX :]
        if not hmac.compare_digest(self._mac(stamp), mac):
            return None
        try:
            return now - int(stamp[:_TS_HEX], 16) / 1000
        except ValueError:
            return None

    def challenge_headers(
        self, now: float, stale: bool = False, algorithms: list[str] | None = None
    ) -> list[str]:
        """One WWW-Authenticate / Proxy-Authenticate value per configured algorithm, in
        order (many phones read only the first, so order matters).

        ``algorithms`` narrows the offer for one peer: baresip 1.0 (libre) fails the
        whole authentication with ENOSYS when ANY challenge names an algorithm it
        lacks, even if an MD5 one comes first, so such peers must be offered MD5 alone.
        """
        nonce = self.make_nonce(now)
        tail = ", stale=TRUE" if stale else ""
        offer = [a.upper() for a in algorithms] if algorithms is not None else self.algorithms
        return [
            f'Digest realm={_quote(self.realm)}, nonce="{nonce}", algorithm={alg}, qop="auth"{tail}'
            for alg in offer
            if alg in self.algorithms
        ]

    def verify(
        self,
        method: str,
        authorization: str,
        password_for: Callable[[str], str | None],
        now: float,
        *,
        request_uri: str | None = None,
    ) -> DigestResult:
        """Check an Authorization / Proxy-Authorization value.

        ``stale`` is set when the credentials were right but the nonce had expired, so
        the caller re-challenges with ``stale=True`` and the phone retries silently.
        With ``request_uri``, the digest ``uri`` must name the same target, so sniffed
        credentials for one callee cannot be replayed towards another.
        """
        p = parse_auth_header(authorization)
        if p.get("scheme", "").lower() != "digest":
            return DigestResult(False)
        username, nonce, uri, response = (p.get(k) for k in ("username", "nonce", "uri", "response"))
        if not username or not nonce or uri is None or not response:
            return DigestResult(False)
        if request_uri is not None and not _same_target(uri, request_uri):
            return DigestResult(False)
        if p.get("realm") != self.realm:
            return DigestResult(False)
        algorithm = p.get("algorithm", "MD5").upper()
        if algorithm not in self.algorithms:
            return DigestResult(False)
        qop = p.get("qop")
        if qop is not None and qop != "auth":
            return DigestResult(False)
        nc, cnonce = p.get("nc"), p.get("cnonce")
        if (qop or _base_algorithm(algorithm)[1]) and (not nc or not cnonce):
            return DigestResult(False)
        age = self._nonce_age(nonce, now)
        if age is None:
            return DigestResult(False)
        password = password_for(username)
        known = password is not None
        expected = digest_response(
            algorithm=algorithm,
            username=username,
            realm=self.realm,
            password=password if password is not None else secrets.token_hex(16),
            method=method,
            uri=uri,
            nonce=nonce,
            qop=qop,
            nc=nc,
            cnonce=cnonce,
        )
        match = hmac.compare_digest(expected.encode(), response.lower().encode())
        if not (match and known):
            return DigestResult(False)
        if age > self.nonce_ttl or age < -60:
            return DigestResult(False, username, stale=True)
        if self.check_nonce_count and not self._fresh_nc(nonce, nc, now):
            return DigestResult(False)
        return DigestResult(True, username)

    def _fresh_nc(self, nonce: str, nc: str | None, now: float) -> bool:
        """RFC 7616 §3.4: each use of a nonce must carry a higher nonce-count."""
        try:
            count = int(nc or "0", 16)
        except ValueError:
            return False
        for old, (seen_at, _) in list(self._last_nc.items()):
            if now - seen_at > self.nonce_ttl:
                del self._last_nc[old]
        last = self._last_nc.get(nonce)
        if last is not None and count <= last[1]:
            return False
        self._last_nc[nonce] = (now, count)
        return True


def _same_target(digest_uri: str, request_uri: str) -> bool:
    """Compare scheme, user, host and port; phones differ in parameters and case."""
    try:
        a, b = parse_uri(digest_uri), parse_uri(request_uri)
    except SipParseError:
        return digest_uri.strip() == request_uri.strip()
    return (a.scheme, a.user, a.host.lower(), a.port) == (b.scheme, b.user, b.host.lower(), b.port)


def authorization_for(
    challenge: str,
    *,
    method: str,
    uri: str,
    username: str,
    password: str,
    body: bytes = b"",
    cnonce: str | None = None,
    nc: int = 1,
) -> str:
    """Answer a WWW-Authenticate / Proxy-Authenticate challenge (client side, e.g. the
    trunk registration). Uses qop=auth when offered, auth-int only if that is all."""
    c = parse_auth_header(challenge)
    algorithm = c.get("algorithm", "MD5")
    offered = [q.strip() for q in c.get("qop", "").split(",") if q.strip()]
    qop = "auth" if "auth" in offered else ("auth-int" if "auth-int" in offered else None)
    sess = _base_algorithm(algorithm)[1]
    if qop or sess:
        cnonce = cnonce or secrets.token_hex(8)
    nc_text = f"{nc:08x}"
    realm, nonce = c.get("realm", ""), c.get("nonce", "")
    response = digest_response(
        algorithm=algorithm,
        username=username,
        realm=realm,
        password=password,
        method=method,
        uri=uri,
        nonce=nonce,
        qop=qop,
        nc=nc_text if qop else None,
        cnonce=cnonce,
        body=body,
    )
    parts = [
        f"username={_quote(username)}",
        f"realm={_quote(realm)}",
        f"nonce={_quote(nonce)}",
        f"uri={_quote(uri)}",
        f'response="{response}"',
        f"algorithm={algorithm}",
    ]
    if cnonce and (qop or sess):
        parts.append(f"cnonce={_quote(cnonce)}")
    if qop:
        parts += [f"qop={qop}", f"nc={nc_text}"]
    if "opaque" in c:
        parts.append(f"opaque={_quote(c['opaque'])}")
    return "Digest " + ", ".join(parts)


_PREFERENCE = ["SHA-256", "SHA-256-SESS", "SHA-512-256", "SHA-512-256-SESS", "MD5", "MD5-SESS"]


def pick_challenge(values: list[str]) -> str:
    """Choose the strongest challenge we can answer (SHA-256 over MD5, RFC 8760 §2.4)."""
    if not values:
        raise ValueError("no challenge to pick from")
    ranked = []
    for value in values:
        alg = parse_auth_header(value).get("algorithm", "MD5").upper()
        if alg in _PREFERENCE:
            ranked.append((_PREFERENCE.index(alg), value))
    return min(ranked, key=lambda r: r[0])[1] if ranked else values[0]
