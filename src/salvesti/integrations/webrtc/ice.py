"""Where the box's ICE candidates live: which addresses, and which UDP ports.

aiortc (through aioice) binds one UDP socket per host address on an ephemeral port, and
offers every interface address but loopback.  A box behind a firewall needs a fixed range
to open, and the contract wants the candidates on the address the page was loaded from,
loopback included (a page opened on 127.0.0.1 works on a machine whose only interface is
``lo``).  :class:`RangedConnection` is aioice's ``Connection`` with the host candidates
bound from :class:`PortRange` on the addresses :func:`offering` set for this peer
connection; server-reflexive (STUN) candidates are asked for those sockets and TURN
candidates are left to aioice.  :func:`install` makes aiortc create it.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import ipaddress
import logging
import socket
from collections.abc import Iterator
from contextvars import ContextVar

import aioice.ice
from aioice.candidate import Candidate, candidate_foundation, candidate_priority

_LOGGER = logging.getLogger(__name__)

_ADDRESSES: ContextVar[list[str] | None] = ContextVar("salvesti_ice_addresses", default=None)
_PORTS: PortRange | None = None


class PortRange:
    """UDP ports ``low``-``high`` handed out in turn; ports other programs hold are skipped."""

    def __init__(self, low: int, high: int) -> None:
        self.low, self.high = low, high
        self._next = low

    @classmethod
    def parse(cls, text: str) -> PortRange:
        low, high = (int(p) for p in text.split("-"))
        return cls(low, high)

    def bind(self, host: str) -> socket.socket:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        for _ in range(self.high - self.low + 1):
            port = self._next
            self._next = self.low if port >= self.high else port + 1
            sock = socket.socket(family, socket.SOCK_DGRAM)
            try:
                sock.bind((host, port))
            except OSError as err:
                sock.close()
                if err.errno in (errno.EADDRINUSE, errno.EACCES):
                    continue
                raise
            sock.setblocking(False)
            return sock
        raise OSError(errno.EADDRINUSE, f"no free UDP port in rtc_ports {self.low}-{self.high} on {host}")


def candidate_addresses(page_host: str, configured: list[str], client: str | None) -> list[str]:
    """``ice_addresses`` when configured; else the page's own address.  A page reached on
    loopback by a remote browser (a reverse proxy on the box) gets every interface address."""
    if configured:
        return list(configured)
    try:
        loop_page = ipaddress.ip_address(page_host).is_loopback
        loop_client = client is not None and ipaddress.ip_address(client.removeprefix("::ffff:")).is_loopback
    except ValueError:
        return [page_host]
    if loop_page and client is not None and not loop_client:
        return aioice.ice.get_host_addresses(use_ipv4=True, use_ipv6=False)
    return [page_host]


@contextlib.contextmanager
def offering(addresses: list[str]) -> Iterator[None]:
    """Peer connections gathering inside this block offer host candidates on ``addresses``."""
    token = _ADDRESSES.set(addresses)
    try:
        yield
    finally:
        _ADDRESSES.reset(token)


class RangedConnection(aioice.ice.Connection):
    """aioice's Connection, host candidates on our addresses and ports."""

    async def get_component_candidates(
        self,
        component: int,
        addresses: list[str],
        timeout: int = 5,  # noqa: ASYNC109  (aioice's signature)
    ) -> list[Candidate]:
        addresses = _ADDRESSES.get() or addresses
        ports = _PORTS
        if ports is None:
            return await super().get_component_candidates(component, addresses, timeout)
        loop = asyncio.get_running_loop()
        candidates: list[Candidate] = []
        protocols = []
        for address in addresses:
            try:
                sock = ports.bind(address)
            except OSError as err:
                _LOGGER.warning("webrtc: no ICE candidate on %s: %s", address, err)
                continue
            _, protocol = await loop.create_datagram_endpoint(
                lambda: aioice.ice.StunProtocol(self), sock=sock
            )
            host, port = sock.getsockname()[:2]
            protocol.local_candidate = Candidate(
                foundation=candidate_foundation("host", "udp", host),
                component=component,
                transport="udp",
                priority=candidate_priority(component, "host"),
                host=host,
                port=port,
                type="host",
            )
            candidates.append(protocol.local_candidate)
            protocols.append(protocol)
        self._protocols += protocols
        if self.stun_server:
            asks = [
                asyncio.wait_for(aioice.ice.server_reflexive_candidate(p, self.stun_server), timeout)
                for p in protocols
                if ipaddress.ip_address(p.local_candidate.host).version == 4
            ]
            for found in await asyncio.gather(*asks, return_exceptions=True):
                if not isinstance(found, BaseException):
                    candidates.append(found[0])
        # TURN: aioice's own gathering with no host addresses gives only the relayed one.
        if self.turn_server:
            candidates += await super().get_component_candidates(component, [], timeout)
        return candidates


def install(ports: PortRange) -> None:
    """Make aiortc's ICE use :class:`RangedConnection` with ``ports`` (once per process)."""
    global _PORTS
    import aiortc.rtcicetransport

    _PORTS = ports
    aiortc.rtcicetransport.Connection = RangedConnection  # type: ignore[misc]
