"""SIP over TLS toward the carrier: who we may connect to, how the certificate is checked.

We only ever *open* TLS connections (to a carrier's registrar or outbound proxy) and
reuse them for the carrier's requests to us; there is no TLS listener, so no server
certificate to manage on the box.  Each address a TLS account resolves to is registered
here with the name its certificate must carry (the registrar's host name, or
``tls_server_name``) and the CA bundle to check it against (``tls_ca_file``, else the
system's).  Verification cannot be switched off: a carrier leg that anyone on the path can
impersonate would hand them the SRTP keys of every call.

An address nobody registered gets no TLS connection at all, and a failed handshake is
kept per address in words a person can act on ("certificate for the wrong name", "signed
by an unknown CA") for the account's status.
"""

from __future__ import annotations

import asyncio
import ssl
from dataclasses import dataclass

Addr = tuple[str, int]

#: OpenSSL's verify results that mean "no trusted CA signed this chain" (X509_V_ERR_*).
_UNTRUSTED = {2: "unable to get issuer", 18: "self-signed", 19: "self-signed CA", 20: "unknown issuer"}

DEFAULT_TLS_PORT = 5061
CONNECT_TIMEOUT = 5.0


@dataclass(frozen=True)
class TlsPeer:
    """What a TLS connection to one carrier address is checked against."""

    server_name: str
    context: ssl.SSLContext


def client_context(ca_file: str | None) -> ssl.SSLContext:
    """A client context that verifies the chain and the host name (TLS 1.2 or newer).

    ``ca_file``: PEM bundle of the CAs to trust instead of the system's (a carrier with a
    private CA, or a lab).  A missing or unreadable file raises OSError/ssl.SSLError.
    """
    context = ssl.create_default_context(cafile=ca_file)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.check_hostname = True
    context.verify_mode = ssl.CERT_REQUIRED
    return context


def describe_failure(err: BaseException, peer: TlsPeer) -> str:
    """A handshake error in words: which name was expected, which check failed."""
    if isinstance(err, ssl.SSLCertVerificationError):
        detail = err.verify_message or str(err)
        if "Hostname mismatch" in detail or "IP address mismatch" in detail:
            return f"TLS: the carrier's certificate is not for {peer.server_name} ({detail})"
        if err.verify_code in _UNTRUSTED:
            return (
                f"TLS: the carrier's certificate for {peer.server_name} is not signed by a trusted CA "
                f"({detail}): give its CA in tls_ca_file"
            )
        return f"TLS: the carrier's certificate for {peer.server_name} was refused: {detail}"
    if isinstance(err, ssl.SSLError):
        return f"TLS handshake with {peer.server_name} failed: {err.reason or err}"
    if isinstance(err, TimeoutError):
        return f"TLS: no connection to {peer.server_name} within {CONNECT_TIMEOUT:.0f} s"
    return f"TLS: cannot connect to {peer.server_name}: {err}"


class TlsPeers:
    """The TLS destinations of one SIP transport and the last failure toward each."""

    def __init__(self) -> None:
        self._peers: dict[Addr, TlsPeer] = {}
        self._failures: dict[Addr, str] = {}

    def expect(self, addr: Addr, peer: TlsPeer) -> None:
        """Allow TLS connections to ``addr``, checked against ``peer``."""
        self._peers[addr] = peer

    def failure(self, addr: Addr) -> str | None:
        """Why the last connection attempt to ``addr`` failed (None: it did not)."""
        return self._failures.get(addr)

    async def open(self, addr: Addr) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        """A verified TLS connection to ``addr``; OSError with the reason otherwise."""
        peer = self._peers.get(addr)
        if peer is None:
            reason = f"TLS: {addr[0]}:{addr[1]} is no configured TLS carrier address"
            self._failures[addr] = reason
            raise OSError(reason)
        try:
            streams = await asyncio.wait_for(
                asyncio.open_connection(addr[0], addr[1], ssl=peer.context, server_hostname=peer.server_name),
                CONNECT_TIMEOUT,
            )
        except (OSError, TimeoutError) as err:  # ssl.SSLError is an OSError
            reason = describe_failure(err, peer)
            self._failures[addr] = reason
            raise OSError(reason) from err
        self._failures.pop(addr, None)
        return streams
