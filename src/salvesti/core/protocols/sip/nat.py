"""Staying reachable behind the office router's NAT, sans-IO.

Two things keep a carrier's INVITEs reaching a box behind NAT:

* the address the carrier sees us at, which it writes into the ``received`` and ``rport``
  parameters of our top Via (RFC 3261 §18.2.1, RFC 3581 §4) when it answers our REGISTER:
  that, not the private interface address, is the Contact it can send calls to;
* traffic often enough that the router keeps the UDP mapping open (many drop it after
  30-60 s of silence): a CRLF "ping" (RFC 5626 §3.5.1, the double CRLF) or an OPTIONS
  request, every 25-30 s.

Nothing here touches a socket: the adapter (``integrations/sip/keepalive.py``) sends what
these build, on its own clock.
"""

from __future__ import annotations

import ipaddress

from ..digits import is_digits
from .headers import Headers
from .message import SipRequest, SipResponse, make_via, new_call_id, new_tag

Addr = tuple[str, int]

#: RFC 5626 §3.5.1: the keep-alive "ping" is a double CRLF; the server may answer with a
#: single CRLF "pong", which the transport drops as a keep-alive.
CRLF_PING = b"\r\n\r\n"


def learned_address(response: SipResponse) -> Addr | None:
    """Where the far side saw our request come from: the top Via's ``received`` (else its
    sent-by host) and ``rport``.  None unless the answer carries a numeric ``rport`` (a
    peer that ignored RFC 3581 tells us nothing about the port the NAT chose) and a valid
    IP address."""
    via = response.via
    rport = via.params.get("rport")
    if rport is None or not is_digits(rport) or not 0 < int(rport) < 65536:
        return None
    host = via.params.get("received") or via.host
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return None
    return host, int(rport)


def options_ping(
    *, request_uri: str, from_uri: str, local: Addr, transport: str, max_forwards: int = 70
) -> SipRequest:
    """An out-of-dialog OPTIONS used as a keep-alive (the answer does not matter; that
    it travels through the NAT does).  ``local`` is our host and port for the Via."""
    h = Headers()
    h.add("Via", make_via(transport, local[0], local[1]))
    h.add("Max-Forwards", str(max_forwards))
    h.add("From", f"<{from_uri}>;tag={new_tag()}")
    h.add("To", f"<{request_uri}>")
    h.add("Call-ID", new_call_id(local[0]))
    h.add("CSeq", "1 OPTIONS")
    h.add("Accept", "application/sdp")
    return SipRequest("OPTIONS", request_uri, h)
