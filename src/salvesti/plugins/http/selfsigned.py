"""A self-signed certificate for a box on a LAN that has no name a public CA would sign.

Pure: builds the certificate and key as PEM bytes; :mod:`cli_certs` writes them.  The
certificate is an end-entity one (``CA:FALSE``, ``serverAuth``) on an ECDSA P-256 key: what
browsers expect of a server certificate, and cheap to handshake on a Raspberry Pi.  It
names the box's host names and addresses in subjectAltName (browsers ignore the CN).
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from salvesti.plugins.http.tls import fingerprint

#: Apple devices refuse server certificates valid for more than 825 days, even ones the
#: user trusts by hand; the same limit serves every other browser.
DEFAULT_DAYS = 825


@dataclass(frozen=True)
class SelfSigned:
    certificate_pem: bytes
    key_pem: bytes
    fingerprint: str
    names: list[str]
    not_after: datetime


def default_names(hostname: str | None = None) -> list[str]:
    """The machine's host name (and ``NAME.local`` for mDNS), ``localhost`` and 127.0.0.1."""
    host = (hostname or socket.gethostname()).strip().rstrip(".")
    names = [host]
    if host and "." not in host:
        names.append(f"{host}.local")
    return [*names, "localhost", "127.0.0.1"]


def _general_name(name: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(name.strip("[]")))
    except ValueError:
        pass
    try:
        ascii_name = name.encode("idna").decode("ascii")
    except UnicodeError:
        raise ValueError(f"{name!r} is neither an IP address nor a host name") from None
    if not ascii_name or any(c in ascii_name for c in " /:@"):
        raise ValueError(f"{name!r} is neither an IP address nor a host name")
    return x509.DNSName(ascii_name.lower())


def unique(names: list[str]) -> list[str]:
    """Names in order, each once (host names compare without case)."""
    seen: dict[str, str] = {}
    for name in names:
        if name:
            seen.setdefault(name.lower(), name)
    return list(seen.values())


def make(names: list[str], days: int = DEFAULT_DAYS, now: datetime | None = None) -> SelfSigned:
    """A certificate for ``names`` (host names and IP addresses; the first is the CN)."""
    if not names:
        raise ValueError("a certificate needs at least one name")
    if days < 1:
        raise ValueError("--days must be at least 1")
    names = unique(names)
    san = [_general_name(n) for n in names]
    now = now or datetime.now(UTC)
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, names[0][:64]),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Salvesti (self-signed)"),
        ]
    )
    not_after = now + timedelta(days=days)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        # An hour back: a phone whose clock is a little behind still accepts it.
        .not_valid_before(now - timedelta(hours=1))
        .not_valid_after(not_after)
        .add_extension(x509.SubjectAlternativeName(san), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return SelfSigned(
        certificate_pem=cert.public_bytes(serialization.Encoding.PEM),
        key_pem=key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ),
        fingerprint=fingerprint(cert),
        names=names,
        not_after=cert.not_valid_after_utc,
    )
