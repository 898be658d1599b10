"""The ``http:`` block: where the web UI and API listen and how strict the login is.

The hub builds the block as ``{"platform": "http", **http_block}``, so the schema accepts
(and requires) ``platform: http``; ``id`` is optional because there is only one server.
"""

from __future__ import annotations

import ipaddress
from typing import Any

import voluptuous as vol

from salvesti.plugins.http import tls

LANGUAGES = ("et", "en")
DEFAULT_LISTEN = "127.0.0.1:8080"


def listen_address(value: Any) -> str:
    """``host:port`` (IPv6 in brackets); the port must be a number 1-65535."""
    if not isinstance(value, str | int):
        raise vol.Invalid("expected host:port, e.g. 127.0.0.1:8080")
    text = str(value)
    if text.isdigit():
        text = f"127.0.0.1:{text}"
    _host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise vol.Invalid("expected host:port, e.g. 127.0.0.1:8080")
    return text


def split_listen(value: str) -> tuple[str, int]:
    host, _, port = value.rpartition(":")
    return host.strip("[]") or "0.0.0.0", int(port)


def ip_network(value: Any) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    """An address or network: ``127.0.0.1``, ``10.0.0.0/8``, ``::1``."""
    try:
        return ipaddress.ip_network(str(value).strip(), strict=False)
    except ValueError:
        raise vol.Invalid(f"expected an IP address or network such as 10.0.0.0/8, got {value!r}") from None


SCHEMA = vol.Schema(
    {
        vol.Required("platform"): "http",
        vol.Optional("id", default="http"): str,
        vol.Optional("listen", default=DEFAULT_LISTEN): listen_address,
        vol.Optional("language", default="et"): vol.In(LANGUAGES),
        #: Failed logins allowed per client address and per user name inside ``login_window_s``.
        vol.Optional("login_attempts", default=5): vol.All(int, vol.Range(min=1, max=1000)),
        vol.Optional("login_window_s", default=300): vol.All(int, vol.Range(min=1, max=86400)),
        vol.Optional("session_hours", default=12): vol.All(vol.Coerce(float), vol.Range(min=0.1, max=720)),
        #: Mark cookies ``Secure``; turn on behind an HTTPS reverse proxy.
        vol.Optional("secure_cookies", default=False): bool,
        #: Extra origins allowed to make state-changing requests (e.g. the proxy's public URL).
        vol.Optional("allowed_origins", default=list): [str],
        #: Playback requests for the same call by the same user within this many seconds are
        #: one audit entry (a player fetches audio in many Range requests).
        vol.Optional("audit_playback_window_s", default=300): vol.All(int, vol.Range(min=0, max=86400)),
        #: Addresses that may read ``GET /metrics`` without a token (a Prometheus scraper);
        #: anyone else needs an admin's Bearer token.
        vol.Optional("metrics_from", default=list): [ip_network],
        #: Serve HTTPS itself: ``{certificate: PEM, key: PEM}`` (salvesti.plugins.http.tls).
        vol.Optional("tls"): tls.SCHEMA,
    }
)
