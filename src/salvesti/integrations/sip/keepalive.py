"""The NAT keep-alive toward one carrier registration: a CRLF or an OPTIONS every N seconds.

The router in front of the box forgets a UDP mapping after some silence, and then the
carrier's INVITEs no longer reach us until the next REGISTER.  So while the account is
registered (or, with ``register: false``, always) we send ``keepalive_method`` toward the
registration's next hop every ``keepalive`` seconds (25 by default, under the 30 s many
routers allow).  ``sleep`` is injected so the schedule is tested with a fake clock.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from salvesti.core.protocols.sip.nat import CRLF_PING, options_ping

_LOGGER = logging.getLogger(__name__)

Addr = tuple[str, int]
METHODS = ("crlf", "options")


class KeptAlive(Protocol):
    """What the keep-alive needs of a registration (``TrunkClient`` implements it)."""

    label: str
    name: str
    sip_transport: str
    transport: Any

    def keepalive_wanted(self) -> bool: ...

    async def next_hop(self) -> Addr: ...

    def keepalive_uris(self, hop: Addr) -> tuple[str, str, Addr]:
        """Request-URI, From URI and our (host, port) for an OPTIONS ping."""
        ...


class KeepAlive:
    """Runs as one task per registration, until cancelled."""

    def __init__(
        self,
        client: KeptAlive,
        interval: float,
        method: str = "crlf",
        *,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
    ) -> None:
        if method not in METHODS:
            raise ValueError(f"keepalive_method must be one of {METHODS}, not {method!r}")
        self.client = client
        self.interval = interval
        self.method = method
        self.sent = 0
        self._sleep = sleep

    async def run(self) -> None:
        while True:
            await self._sleep(self.interval)
            if not self.client.keepalive_wanted():
                continue
            try:
                hop = await self.client.next_hop()
            except OSError:
                continue  # the registration loop reports an unreachable carrier
            self.ping(hop)

    def ping(self, hop: Addr) -> None:
        client = self.client
        if self.method == "crlf":
            client.transport.send_raw(CRLF_PING, hop, client.sip_transport)
        else:
            request_uri, from_uri, local = client.keepalive_uris(hop)
            request = options_ping(
                request_uri=request_uri, from_uri=from_uri, local=local, transport=client.sip_transport
            )
            # The answer (or its absence) is not ours to act on: the REGISTER refresh
            # notices a dead carrier; user_data None means the B2BUA drops the events.
            client.transport.send_request(request, hop, client.sip_transport)
        self.sent += 1
        _LOGGER.debug("%s: %s keep-alive (%s) to %s:%s", client.label, client.name, self.method, *hop)
