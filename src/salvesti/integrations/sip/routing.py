"""Who is calling whom: trunk or phone, which line, which extension, which number.

Inbound INVITEs are accepted only from the trunk's addresses (the registrar's resolved
addresses and ``trunk.inbound_from``); everything else must be an authenticated extension.
The line of an inbound call is read from To, else the Request-URI, else the provider's
header (``trunk.line_header``, e.g. P-Called-Party-ID), else it is the source's only line.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Callable, Iterable

from salvesti.core.protocols.sip.errors import SipParseError
from salvesti.core.protocols.sip.message import SipRequest
from salvesti.core.protocols.sip.uri import Address, parse_uri

_LOGGER = logging.getLogger(__name__)

Normalize = Callable[[str | None], str | None]


class TrunkAddresses:
    """The set of peers whose INVITEs are taken as calls from the outside world."""

    def __init__(self, inbound_from: Iterable[str] = ()) -> None:
        self._networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []
        self._names: list[str] = []
        #: Exact ``(ip, port)`` peers: the registrar's and proxy's resolved addresses and
        #: ``inbound_from`` items given as ``host:port``.
        self.exact: set[tuple[str, int]] = set()
        #: ``(name, port or None)`` items to resolve into ``exact`` / ``resolved``.
        self.resolved: set[str] = set()
        for item in inbound_from:
            try:
                self._networks.append(ipaddress.ip_network(item, strict=False))
            except ValueError:
                self._names.append(item)

    @property
    def names(self) -> list[str]:
        """Host names in ``inbound_from`` (resolved by the source into ``resolved``)."""
        return list(self._names)

    def contains(self, ip: str, port: int) -> bool:
        """True for the trunk's exact addresses and for ``inbound_from`` IPs and networks.

        The registrar matches by address AND port, so a phone on the same host as the
        trunk (every loopback test, a PBX in front of Salvesti) is still a phone.
        """
        if (ip, port) in self.exact or ip in self.resolved:
            return True
        try:
            addr = ipaddress.ip_address(ip)
        except ValueError:
            return False
        return any(addr in net for net in self._networks)


def uri_user(value: str | None) -> str | None:
    """The user part of a URI or name-addr (``<sip:+372600@host>`` → ``+372600``)."""
    if not value:
        return None
    try:
        if "<" in value or ";" in value.split(":", 1)[-1].split("@")[0]:
            return Address.parse(value).uri.user
        return parse_uri(value).user
    except SipParseError:
        try:
            return Address.parse(value).uri.user
        except SipParseError:
            return None


def strip_user(user: str | None) -> str | None:
    """Drop visual separators and ``;phone-context`` from a user part."""
    if user is None:
        return None
    user = user.split(";", 1)[0]
    return "".join(ch for ch in user if ch not in " -.()") or None


def inbound_line(
    request: SipRequest, lines: list[str], line_header: str | None, normalize: Normalize
) -> str | None:
    """The configured line an inbound INVITE is for, or None when none matches."""
    candidates = [request.headers.get("To"), request.uri]
    if line_header:
        candidates.append(request.headers.get(line_header))
    for value in candidates:
        number = normalize(strip_user(uri_user(value)))
        if number and number in lines:
            return number
    if len(lines) == 1:
        return lines[0]
    return None


def caller_number(request: SipRequest, normalize: Normalize) -> str | None:
    """The calling party: P-Asserted-Identity (set by the carrier), else From."""
    for name in ("P-Asserted-Identity", "From"):
        user = strip_user(uri_user(request.headers.get(name)))
        if user and user.lower() not in ("anonymous", "unknown", "restricted"):
            return normalize(user)
    return None


def dialled(request: SipRequest) -> str | None:
    """What a phone dialled: the Request-URI user part (as dialled, separators removed)."""
    return strip_user(uri_user(request.uri))
