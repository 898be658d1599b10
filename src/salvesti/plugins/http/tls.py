"""The ``http.tls`` block and what ``check-config`` says about its files.

Browsers give the microphone (the ``/phone`` softphone) only to secure pages, so the web UI
can serve HTTPS itself.  The schema checks only the block's shape: it runs again when the
server is built, where relative paths mean nothing yet.  The files are judged by
:func:`check_config`, the platform's cross-check, which knows the config's folder and so
reports ``config.yaml:LINE: http.tls.key: ...`` like every other problem: a missing or
unreadable file, a key that is not the certificate's, an expired certificate.  Soon-expiring
certificates and keys that others may read are warnings (:class:`ConfigWarning`).
"""

from __future__ import annotations

import hashlib
import os
import stat
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import voluptuous as vol
from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization

from salvesti.core.config.problems import ConfigWarning

#: A certificate this close to its end is a warning at check time and at every (re)load.
EXPIRY_WARNING_DAYS = 30
#: One year: browsers remember "HTTPS only" this long (0 sends no header).
DEFAULT_HSTS_MAX_AGE = 31_536_000


def _path_text(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise vol.Invalid("expected a path to a PEM file")
    return value


def _port(value: Any) -> int:
    """A port number; YAML's ``yes`` is a bool, which Python would take for 1."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 65535:
        raise vol.Invalid("expected a port number 1-65535")
    return value


def _hsts_seconds(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 2 * DEFAULT_HSTS_MAX_AGE:
        raise vol.Invalid("expected seconds 0-63072000, e.g. 31536000 (a year)")
    return value


SCHEMA = vol.Schema(
    {
        #: PEM: the server's certificate first, then any intermediates (fullchain.pem).
        vol.Required("certificate"): _path_text,
        #: PEM, unencrypted (the server starts unattended); mode 0600.
        vol.Required("key"): _path_text,
        #: Also listen for plain HTTP on this port (same host) and redirect it to HTTPS
        #: (0 picks a free port: for tests).
        vol.Optional("redirect_http"): _port,
        #: Seconds browsers keep to HTTPS for this host after a visit; 0 sends no HSTS header.
        vol.Optional("hsts_max_age", default=DEFAULT_HSTS_MAX_AGE): _hsts_seconds,
    }
)


@dataclass(frozen=True)
class Finding:
    """Something wrong with one of the two files: ``key`` is ``certificate`` or ``key``."""

    key: str
    message: str
    warning: bool = False


@dataclass(frozen=True)
class CertificateInfo:
    """What a person compares: who the certificate names, until when, and its fingerprint."""

    subject: str
    not_before: datetime
    not_after: datetime
    fingerprint: str

    def days_left(self, now: datetime) -> int:
        return (self.not_after - now).days


def fingerprint(cert: x509.Certificate) -> str:
    """SHA-256 of the DER certificate as browsers show it: ``AB:CD:...``."""
    digest = hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest().upper()
    return ":".join(digest[i : i + 2] for i in range(0, len(digest), 2))


def describe(cert: x509.Certificate) -> CertificateInfo:
    return CertificateInfo(
        subject=cert.subject.rfc4514_string() or "(no subject)",
        not_before=cert.not_valid_before_utc,
        not_after=cert.not_valid_after_utc,
        fingerprint=fingerprint(cert),
    )


def _read(path: Path, key: str, what: str) -> tuple[bytes | None, Finding | None]:
    try:
        return path.read_bytes(), None
    except FileNotFoundError:
        return None, Finding(key, f"no {what} file {str(path)!r}")
    except IsADirectoryError:
        return None, Finding(key, f"{str(path)!r} is a folder, not a {what} file")
    except OSError as err:
        return None, Finding(key, f"cannot read {str(path)!r}: {err.strerror or err}")


def _public(key: Any) -> bytes:
    return bytes(
        key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    )


def inspect(
    certificate: Path, key: Path, now: datetime | None = None
) -> tuple[list[Finding], CertificateInfo | None]:
    """Everything wrong with a certificate and key pair, and the certificate's details.

    Never raises for a bad file: each problem is a :class:`Finding` (errors first is not
    promised; callers show them all).  ``now`` is injected so tests need no old certificates.
    """
    now = now or datetime.now(UTC)
    findings: list[Finding] = []
    info: CertificateInfo | None = None
    leaf: x509.Certificate | None = None
    cert_data, problem = _read(certificate, "certificate", "certificate")
    if problem:
        findings.append(problem)
    elif cert_data is not None:
        try:
            leaf = x509.load_pem_x509_certificates(cert_data)[0]
        except ValueError:
            findings.append(
                Finding(
                    "certificate",
                    f"{str(certificate)!r} holds no PEM certificate (-----BEGIN CERTIFICATE-----)",
                )
            )
    if leaf is not None:
        info = describe(leaf)
        day = info.not_after.date().isoformat()
        if info.not_after <= now:
            findings.append(Finding("certificate", f"{str(certificate)!r} expired on {day} ({info.subject})"))
        elif info.days_left(now) < EXPIRY_WARNING_DAYS:
            findings.append(
                Finding(
                    "certificate",
                    f"{str(certificate)!r} expires on {day}, in {info.days_left(now)} days: renew it",
                    warning=True,
                )
            )
        if info.not_before > now:
            findings.append(
                Finding(
                    "certificate",
                    f"{str(certificate)!r} is not valid before {info.not_before.isoformat()}: "
                    "is this machine's clock right?",
                    warning=True,
                )
            )
    key_data, problem = _read(key, "key", "key")
    if problem:
        findings.append(problem)
        return findings, info
    assert key_data is not None
    try:
        private = serialization.load_pem_private_key(key_data, password=None)
    except TypeError:
        findings.append(
            Finding(
                "key", f"{str(key)!r} is protected by a passphrase; Salvesti needs it unencrypted (mode 0600)"
            )
        )
        return findings, info
    except (ValueError, UnsupportedAlgorithm):
        findings.append(
            Finding("key", f"{str(key)!r} holds no PEM private key (-----BEGIN PRIVATE KEY-----)")
        )
        return findings, info
    if leaf is not None and _public(private.public_key()) != _public(leaf.public_key()):
        findings.append(
            Finding("key", f"{str(key)!r} is not the key of the certificate {str(certificate)!r}")
        )
    mode = stat.S_IMODE(os.stat(key).st_mode)
    if mode & 0o044:
        findings.append(
            Finding(
                "key",
                f"{str(key)!r} may be read by other users (mode {mode:04o}); chmod 600 it",
                warning=True,
            )
        )
    return findings, info


def check_config(item: dict[str, Any], config: dict[str, Any]) -> list[tuple[list[Any], str]]:
    """The ``http`` platform's cross-check: the ``tls`` files, paths taken from the config's folder."""
    tls = item.get("tls")
    if not tls:
        return []
    base = Path(config.get("_config_dir") or ".")

    def resolve(value: str) -> Path:
        path = Path(value).expanduser()
        return path if path.is_absolute() else base / path

    findings, _info = inspect(resolve(tls["certificate"]), resolve(tls["key"]))
    problems: list[tuple[list[Any], str]] = []
    redirect = tls.get("redirect_http")
    if redirect and str(item.get("listen", "")).rpartition(":")[2] == str(redirect):
        problems.append(
            (["tls", "redirect_http"], f"{redirect} is the HTTPS port (listen); pick another, e.g. 8080")
        )
    return problems + [
        (["tls", f.key], ConfigWarning(f.message) if f.warning else f.message) for f in findings
    ]
