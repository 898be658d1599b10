"""The per-extension secret in a softphone's provisioning URL, and the QR code that carries it.

The token is an HMAC of the extension's SIP password over the source and user: it needs no
storage, it cannot be turned back into the password, and changing the password revokes it
(the old URL stops working).  Anyone holding the URL gets the password, so the URL is only
shown to admins (the API) and sent over HTTPS where the phone is outside the LAN.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import io

import segno

from salvesti.core.provisioning import PhoneAccount

TOKEN_BYTES = 18  # 144 bits: 24 URL-safe characters


def extension_token(source: str, account: PhoneAccount) -> str:
    mac = hmac.new(
        account.password.encode("utf-8"),
        f"salvesti-provisioning\x00{source}\x00{account.user}".encode(),
        hashlib.sha256,
    ).digest()
    return base64.urlsafe_b64encode(mac[:TOKEN_BYTES]).decode("ascii")


def qr_svg(text: str) -> str:
    """An SVG QR code of ``text`` (error correction M: survives a smudged screen or print)."""
    buffer = io.BytesIO()
    segno.make(text, error="m", micro=False).save(
        buffer, kind="svg", scale=4, border=4, xmldecl=False, svgns=True, title="Provisioning URL"
    )
    return buffer.getvalue().decode("utf-8")
