"""Which of our addresses a SIP peer can reach us at (Via, Contact, SDP).

It is asked on the event loop for every leg and every REGISTER, so it must never block:
the peer is always an IP address here (where the peer's traffic came from, or the next
hop we resolved with ``loop.getaddrinfo``), and the kernel's route to it is read with a
connected UDP socket, which sends nothing and looks up no name.  A peer given by name is
not resolved here; the default route answers for it.  A route that cannot be read
(no network yet) gives ``127.0.0.1`` for this one question and is asked again next time:
a failure is never cached, so the box that booted before its network came up recovers.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable

#: Stands for "somewhere outside" when the peer has no address of its own (TEST-NET-1,
#: RFC 5737: routed by the default route, never answered).
DEFAULT_PEER = "192.0.2.1"
FALLBACK = "127.0.0.1"


def kernel_route(ip: str) -> str:
    """Our source address toward ``ip`` as the kernel would pick it; OSError if none."""
    family = socket.AF_INET6 if ":" in ip else socket.AF_INET
    with socket.socket(family, socket.SOCK_DGRAM) as probe:
        probe.connect((ip, 9))  # UDP connect: a route lookup, no packet is sent
        return str(probe.getsockname()[0])


def is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


class LocalAddresses:
    """``advertise`` (or ``external_address`` toward the outside), else the listening
    address, else the interface the kernel routes to the peer through (cached per peer)."""

    def __init__(
        self,
        listen_host: str,
        *,
        advertise: str | None = None,
        external: str | None = None,
        route: Callable[[str], str] = kernel_route,
    ) -> None:
        self.listen_host = listen_host
        self.advertise = advertise
        self.external = external
        self._route = route
        self._cache: dict[str, str] = {}

    def for_peer(self, peer: str, *, outside: bool = False) -> str:
        if outside and self.external:
            return self.external
        if self.advertise:
            return self.advertise
        if self.listen_host not in ("0.0.0.0", "::", ""):
            return self.listen_host
        target = peer if peer and is_ip(peer) else DEFAULT_PEER
        cached = self._cache.get(target)
        if cached:
            return cached
        try:
            address = self._route(target)
        except OSError:
            return FALLBACK  # not cached: the network may come up
        self._cache[target] = address
        return address

    def for_leg(self, peer: str, *, outside: bool, public: str | None) -> str:
        """A call leg's address (Contact, SDP): as :meth:`for_peer`, except that behind NAT a
        leg to a peer on the internet gets ``public``, the address the carrier saw our
        REGISTER come from, when nothing is configured.  Salvesti sends its RTP first (the
        notice), which opens the NAT's mapping; the far end answering to the public address
        then reaches us where a private address in the SDP would reach nobody."""
        local = self.for_peer(peer, outside=outside)
        if not outside or public is None or self.external or self.advertise:
            return local
        if _is_global(peer) and not _is_global(local):
            return public
        return local


def _is_global(ip: str) -> bool:
    try:
        return ipaddress.ip_address(ip).is_global
    except ValueError:
        return False
