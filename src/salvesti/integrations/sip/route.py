"""The way an outbound call leaves the box: a carrier account, the DDI trunk or a gateway.

The outbound flow needs the same few things from each of them (where to send the INVITE,
whose identity it carries, how to answer a challenge), so it is handed one of these and
never looks at which kind it got.  :class:`~salvesti.integrations.sip.trunk.TrunkClient`
and :class:`~salvesti.integrations.sip.gateways.Gateway` implement it.
"""

from __future__ import annotations

from typing import Any, Protocol

from salvesti.core.protocols.sip.message import SipRequest, SipResponse

Addr = tuple[str, int]


class OutboundRoute(Protocol):
    """What :meth:`Flows._outbound` asks of the far side of an outbound call."""

    sip_transport: str
    #: The outside leg's media is SDES-keyed SRTP (``srtp: sdes`` on a carrier account).
    srtp: bool

    @property
    def contact_user(self) -> str:
        """The user part of our Contact on the outside leg."""
        ...

    async def next_hop(self) -> Addr:
        """Where the INVITE is sent; raises OSError when there is nowhere to send it."""
        ...

    def fallback_hop(self, failed: Addr) -> Addr | None:
        """The next server to try when ``failed`` did not answer or answered 503 (RFC 3263
        §4.3: a carrier's further SRV targets), or None when there is none."""
        ...

    def request_uri(self, user: str) -> str: ...

    def from_header(self, line: str | None) -> str:
        """From (untagged) for a call on ``line``."""
        ...

    def to_header(self, target: str) -> str: ...

    def authorize(self, request: SipRequest, response: SipResponse) -> bool:
        """Add credentials answering a 401/407 to ``request``; False when there are none."""
        ...

    def describe(self) -> dict[str, Any]:
        """What the call record keeps about the route (``meta.route``)."""
        ...
