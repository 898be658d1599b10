"""Certificates for the TLS tests, made here with ``cryptography`` (independent of the code under
test, so a bug in ``salvesti.plugins.http.selfsigned`` cannot hide one in the checks), and
clients that trust exactly the certificate a test made."""

from __future__ import annotations

import asyncio
import hashlib
import ipaddress
import os
import ssl
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


@dataclass(frozen=True)
class Pair:
    certificate: Path
    key: Path
    sha256: str  # lower-case hex of the DER certificate

    def tls(self, **extra: object) -> dict[str, object]:
        return {"certificate": str(self.certificate), "key": str(self.key), **extra}

    def client_context(self) -> ssl.SSLContext:
        """Trusts this certificate only (and checks the name 127.0.0.1 against it)."""
        return ssl.create_default_context(cafile=str(self.certificate))


def write_pair(
    folder: Path,
    name: str = "server",
    *,
    days: float = 30 * 12,
    not_before: datetime | None = None,
    key_mode: int = 0o600,
) -> Pair:
    """A self-signed certificate for 127.0.0.1/localhost and its key, as PEM files."""
    folder.mkdir(parents=True, exist_ok=True)
    key = ec.generate_private_key(ec.SECP256R1())
    start = not_before or datetime.now(UTC) - timedelta(days=1)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "salvesti-test")])
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + timedelta(days=1) + timedelta(days=days))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / f"{name}.crt", folder / f"{name}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    os.chmod(key_path, key_mode)
    der = cert.public_bytes(serialization.Encoding.DER)
    return Pair(cert_path, key_path, hashlib.sha256(der).hexdigest())


async def handshake(port: int, context: ssl.SSLContext) -> tuple[str, str]:
    """A fresh TLS connection to 127.0.0.1:port: the sha256 (hex) of the certificate it was
    shown and the TLS version agreed."""
    _reader, writer = await asyncio.open_connection("127.0.0.1", port, ssl=context)
    try:
        ssl_object = writer.get_extra_info("ssl_object")
        der, version = ssl_object.getpeercert(binary_form=True), ssl_object.version()
    finally:
        writer.close()
        await writer.wait_closed()
    return hashlib.sha256(der).hexdigest(), version


async def served_certificate(port: int, context: ssl.SSLContext) -> str:
    """The sha256 (hex) of the certificate a fresh TLS connection is shown."""
    return (await handshake(port, context))[0]


def unverified_context() -> ssl.SSLContext:
    """Accepts any certificate: to see *which* one the server shows after a change."""
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx
