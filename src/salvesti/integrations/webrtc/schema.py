"""Config of a ``webrtc`` source: the browser phone (CONTRACT.md, "Browser phone")."""

from __future__ import annotations

import re
from typing import Any

import voluptuous as vol

from salvesti.core.config.extensions import owned_extensions, register_owner
from salvesti.core.numbers import normalize_number

_EXTENSION = re.compile(r"^[0-9A-Za-z_.-]{1,32}$")
_ICE_URL = re.compile(r"^(stun|stuns|turn|turns):[^\s]+$")


def extension(value: Any) -> str:
    text = str(value) if isinstance(value, int) else value
    if not isinstance(text, str) or not _EXTENSION.match(text):
        raise vol.Invalid("expected an extension such as '103' (letters, digits, . _ -)")
    return text


def ice_url(value: Any) -> str:
    if not isinstance(value, str) or not _ICE_URL.match(value):
        raise vol.Invalid(
            "expected a STUN or TURN URL such as 'stun:stun.example.ee:3478' or 'turn:host:3478'"
        )
    return value


def port_range(value: Any) -> str:
    """``min-max`` UDP ports for the browser calls' media (what the firewall opens)."""
    match = re.fullmatch(r"(\d{1,5})-(\d{1,5})", str(value))
    if match is None:
        raise vol.Invalid("expected a port range such as 20000-20199")
    low, high = int(match[1]), int(match[2])
    if not 1024 <= low <= high <= 65535:
        raise vol.Invalid(f"port range {value!r} must lie within 1024-65535, low to high")
    return f"{low}-{high}"


def _line(value: Any) -> str:
    number = normalize_number(str(value))
    if not number or not number.startswith("+"):
        raise vol.Invalid(f"{value!r} is not a phone number in E.164 form, e.g. '+3726000000'")
    return number


ICE_SERVER = vol.Schema(
    {
        vol.Required("urls"): vol.Any(ice_url, [ice_url]),
        vol.Optional("username"): str,
        vol.Optional("credential"): str,
    }
)


def _unique(values: list[str]) -> list[str]:
    for value in values:
        if values.count(value) > 1:
            raise vol.Invalid(f"extension {value!r} is listed twice")
    return values


ITEM = vol.Schema(
    {
        vol.Required("platform"): "webrtc",
        vol.Required("id"): vol.All(str, vol.Length(min=1)),
        # The extensions that may use the browser phone; a web user with one of them gets it.
        vol.Required("extensions"): vol.All([extension], vol.Length(min=1), _unique),
        vol.Optional("ice_servers", default=list): [ICE_SERVER],
        # UDP ports of the box's ICE candidates (one per call); a firewall opens this range.
        vol.Optional("rtc_ports", default="20000-20199"): port_range,
        # Addresses offered as host candidates; default: the address the page was loaded from.
        vol.Optional("ice_addresses", default=list): [str],
        # The line outside calls leave on (default: the first line of the trunk source).
        vol.Optional("line"): _line,
        # Seconds a tab may be silent before it is taken for dead and not rung.
        vol.Optional("heartbeat_timeout", default=30.0): vol.All(
            vol.Coerce(float), vol.Range(min=5, max=600)
        ),
        # Seconds ICE may take to connect before the call is given up as failed.
        vol.Optional("ice_timeout", default=15.0): vol.All(vol.Coerce(float), vol.Range(min=2, max=120)),
        # Outside calls an extension may start per minute (a stuck page or a stolen session).
        vol.Optional("max_calls_per_minute", default=10): vol.All(int, vol.Range(min=1, max=1000)),
    }
)

SCHEMA = ITEM


def check_config(conf: dict[str, Any], config: dict[str, Any]) -> list[tuple[list[Any], str]]:
    """An extension belongs to one source: a browser extension must not also be a desk
    phone's user (the two would ring as one and answer as two)."""
    owners = owned_extensions({"sources": [s for s in config.get("sources") or [] if s is not conf]})
    return [
        (["extensions", i], f"extension {ext!r} is also an extension of source {owners[ext]!r}")
        for i, ext in enumerate(conf.get("extensions") or [])
        if ext in owners and owners[ext] != conf.get("id")
    ]


register_owner("webrtc", lambda item: [str(e) for e in item.get("extensions") or []])
