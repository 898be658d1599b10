"""SRTP with SDES keys (RFC 4568) on the carrier leg: the ``a=crypto`` line and the cipher.

Only ``AES_CM_128_HMAC_SHA1_80`` is offered and accepted: every carrier that does SDES
supports it, it is RFC 4568's mandatory suite, and one suite means one code path to get
right.  A key arrives in the SDP of the signalling, so it is only as secret as that
signalling: the schema refuses SDES over plain UDP/TCP unless told otherwise.

Encryption happens in Python (pylibsrtp, libsrtp underneath): a call with SRTP stays on
the Python media path, the native core relays plain RTP only.  The recording is fed from
the decrypted packets, so it holds the clear audio like any other call.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
from dataclasses import dataclass

import pylibsrtp

from salvesti.core.protocols.sdp.session import MediaDescription

#: The SDP transport profile of SRTP over UDP (RFC 3711 §12).
PROFILE = "RTP/SAVP"
SUITE = "AES_CM_128_HMAC_SHA1_80"
#: 128-bit master key plus 112-bit master salt (RFC 3711 §8.2).
KEY_LENGTH = 30
_CRYPTO = re.compile(r"^\s*(\d{1,9})\s+(\S+)\s+inline:([A-Za-z0-9+/=]+)(\|[^\s]*)?(?:\s+(.*))?$")


class SdesError(ValueError):
    """An ``a=crypto`` line we cannot use; the message says what is wrong with it."""


@dataclass(frozen=True)
class CryptoAttribute:
    """One ``a=crypto:<tag> <suite> inline:<key||salt>`` line (lifetime/MKI not used)."""

    tag: int
    suite: str
    key: bytes

    @classmethod
    def parse(cls, value: str) -> CryptoAttribute:
        """The value after ``a=crypto:``; :class:`SdesError` naming the fault otherwise."""
        m = _CRYPTO.match(value)
        if not m:
            raise SdesError(f"not an SDES crypto attribute: {value[:80]!r}")
        tag, suite, b64, extra, params = m.groups()
        if extra and any(":" in part for part in extra.split("|")[1:]):
            # An MKI (RFC 4568 §6.1: "|<mki>:<length>") changes the packet layout; we do not use one.
            raise SdesError("crypto attributes with an MKI are not supported")
        if params:
            raise SdesError(f"SDES session parameters are not supported: {params[:40]!r}")
        try:
            key = base64.b64decode(b64, validate=True)
        except binascii.Error:
            raise SdesError("the SDES key is not valid base64") from None
        return cls(int(tag), suite.upper(), key)

    def __str__(self) -> str:
        return f"{self.tag} {self.suite} inline:{base64.b64encode(self.key).decode('ascii')}"


def new_key() -> bytes:
    """A fresh master key and salt from the operating system's CSPRNG."""
    return os.urandom(KEY_LENGTH)


def pick(values: list[str]) -> CryptoAttribute:
    """The offered attribute we can use: the first with our suite and a key of its length.

    Unparseable lines of other suites are skipped (an offer may list suites we do not
    know); if none fits, :class:`SdesError` says what was offered.
    """
    seen: list[str] = []
    for value in values:
        try:
            attr = CryptoAttribute.parse(value)
        except SdesError as err:
            seen.append(str(err))
            continue
        if attr.suite == SUITE and len(attr.key) == KEY_LENGTH:
            return attr
        seen.append(attr.suite if attr.suite != SUITE else f"{SUITE} with a {len(attr.key)}-byte key")
    offered = "; ".join(seen) or "no a=crypto line"
    raise SdesError(f"no usable SDES crypto attribute ({SUITE} needed): {offered}")


class SrtpSession:
    """Both directions of one leg: protect what we send with our key, check and decrypt
    what arrives with the peer's.  libsrtp keeps the replay window and the rollover
    counter, so a replayed or forged packet fails :meth:`unprotect`."""

    def __init__(self, local_key: bytes, remote_key: bytes) -> None:
        self._out = pylibsrtp.Session(_policy(local_key, pylibsrtp.Policy.SSRC_ANY_OUTBOUND))
        self._in = pylibsrtp.Session(_policy(remote_key, pylibsrtp.Policy.SSRC_ANY_INBOUND))

    def protect(self, packet: bytes) -> bytes:
        return self._out.protect(packet)

    def unprotect(self, packet: bytes) -> bytes | None:
        """The clear RTP packet, or None when it fails authentication (or is a replay)."""
        try:
            return self._in.unprotect(packet)
        except pylibsrtp.Error:
            return None


def _policy(key: bytes, ssrc_type: int) -> pylibsrtp.Policy:
    if len(key) != KEY_LENGTH:
        raise SdesError(f"an {SUITE} key is {KEY_LENGTH} bytes, got {len(key)}")
    profile = pylibsrtp.Policy.SRTP_PROFILE_AES128_CM_SHA1_80
    policy = pylibsrtp.Policy(key=key, ssrc_type=ssrc_type, srtp_profile=profile)
    policy.allow_repeat_tx = True  # a retransmitted notice frame must not abort the call
    return policy


class SdesNegotiation:
    """One leg's SDES offer/answer (RFC 4568 §5): our key, fixed for the call, and the
    peer's, which a re-INVITE may change (then :meth:`session` is built anew)."""

    def __init__(self) -> None:
        self.local = new_key()
        self.tag = 1
        self.remote: bytes | None = None
        self._session: SrtpSession | None = None
        self._session_remote: bytes | None = None

    def describe(self, m: MediaDescription) -> None:
        """Make our m-line RTP/SAVP with our key under the tag in use."""
        m.proto = PROFILE
        m.attributes.append(("crypto", str(CryptoAttribute(self.tag, SUITE, self.local))))

    def take_offer(self, m: MediaDescription) -> None:
        """The peer's offer: it must be RTP/SAVP with a usable key; we answer under its tag."""
        _require_profile(m)
        attr = pick(_crypto_values(m))
        self.tag, self.remote = attr.tag, attr.key

    def take_answer(self, m: MediaDescription) -> None:
        """The peer's answer to our offer: RTP/SAVP and a key under the tag we offered."""
        _require_profile(m)
        values = [v for v in _crypto_values(m) if v.split(None, 1)[0] == str(self.tag)]
        if not values:
            raise SdesError(f"the answer has no a=crypto line for our tag {self.tag}")
        self.remote = pick(values).key

    def session(self) -> SrtpSession:
        """The cipher for the keys now agreed (the same object while they stay the same)."""
        if self.remote is None:
            raise SdesError("no SDES key from the peer yet")
        if self._session is None or self._session_remote != self.remote:
            self._session = SrtpSession(self.local, self.remote)
            self._session_remote = self.remote
        return self._session


def _crypto_values(m: MediaDescription) -> list[str]:
    return [value for name, value in m.attributes if name == "crypto" and value]


def _require_profile(m: MediaDescription) -> None:
    if m.proto.upper() != PROFILE:
        raise SdesError(f"the carrier leg needs SRTP ({PROFILE}) but the peer sent {m.proto}")
