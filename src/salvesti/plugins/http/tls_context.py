"""The listening ``ssl.SSLContext``, which follows its certificate files without a restart.

certbot, acme.sh or ``salvesti certs self-signed`` replace the files while the server runs.
Rather than a timer or a signal, every TLS handshake looks at the two files' stat (a few
microseconds beside the handshake's own cost): when either changed, a new context is built
from them and the handshake, and every one after it, uses that one (``SSLObject.context``
is switched in the SNI callback, which OpenSSL calls on every ClientHello, SNI or not).
Connections already open keep the old certificate.  Files caught half-written (a new
certificate beside the old key) are logged and the old context stays until the next change.
"""

from __future__ import annotations

import logging
import os
import ssl
from datetime import UTC, datetime
from pathlib import Path

from salvesti.core.errors import SalvestiError
from salvesti.plugins.http.tls import EXPIRY_WARNING_DAYS, CertificateInfo, describe

_LOGGER = logging.getLogger(__name__)

Signature = tuple[tuple[int, int, int], ...]


class TlsFilesError(SalvestiError):
    """The certificate or key cannot be loaded; the message names the files."""


def _signature(paths: tuple[Path, ...]) -> Signature:
    out = []
    for path in paths:
        try:
            st = os.stat(path)
        except OSError:
            out.append((0, 0, 0))
        else:
            out.append((st.st_ino, st.st_size, st.st_mtime_ns))
    return tuple(out)


def build_context(certificate: Path, key: Path) -> tuple[ssl.SSLContext, CertificateInfo]:
    """A server context of TLS 1.2 and newer with this certificate chain and key."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        ctx.load_cert_chain(str(certificate), str(key))
        from cryptography import x509

        info = describe(x509.load_pem_x509_certificates(certificate.read_bytes())[0])
    except (OSError, ssl.SSLError, ValueError) as err:
        detail = getattr(err, "strerror", None) or getattr(err, "reason", None) or str(err)
        raise TlsFilesError(
            f"cannot use certificate {str(certificate)!r} with key {str(key)!r}: {detail}"
        ) from None
    return ctx, info


class ReloadingContext:
    """Owns the context given to the listening socket and the one handshakes currently use."""

    def __init__(self, certificate: Path, key: Path, label: str = "http") -> None:
        self.certificate = certificate
        self.key = key
        self.label = label
        self._paths = (certificate, key)
        self._seen = _signature(self._paths)
        self.context, self.info = build_context(certificate, key)
        self.context.sni_callback = self._on_client_hello
        self._current = self.context
        self.reloads = 0
        self._log_loaded()

    def _log_loaded(self) -> None:
        info = self.info
        days = info.days_left(datetime.now(UTC))
        log = _LOGGER.warning if days < EXPIRY_WARNING_DAYS else _LOGGER.info
        log(
            "%s: %s TLS certificate %s, valid until %s (%d days), SHA-256 %s",
            self.label,
            "serving the renewed" if self.reloads else "serving",
            info.subject,
            info.not_after.date().isoformat(),
            days,
            info.fingerprint,
        )

    def _on_client_hello(
        self, conn: ssl.SSLObject | ssl.SSLSocket, _name: str | None, _ctx: ssl.SSLContext
    ) -> None:
        self.reload_if_changed()
        if self._current is not self.context:
            conn.context = self._current

    def reload_if_changed(self) -> bool:
        """Load the files again when their stat changed; True when a new certificate is in use."""
        seen = _signature(self._paths)
        if seen == self._seen:
            return False
        self._seen = seen
        try:
            self._current, self.info = build_context(self.certificate, self.key)
        except TlsFilesError as err:
            _LOGGER.error("%s: %s; still serving the previous certificate", self.label, err)
            return False
        self.reloads += 1
        self._log_loaded()
        return True
