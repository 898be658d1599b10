"""Sending SIP for a leg: answers on the legs we received, requests on the legs we created.

Every in-dialog request goes to the address the leg's traffic came from or went to (the
phone's real source address, the trunk's next hop) rather than to a Contact that may be a
private address behind NAT; that is what keeps phones behind routers reachable.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from salvesti.core.protocols.sip.dialog import Dialog
from salvesti.core.protocols.sip.events import ResponseReceived, TransactionEvent
from salvesti.core.protocols.sip.headers import Headers
from salvesti.core.protocols.sip.message import (
    SipRequest,
    SipResponse,
    build_response,
    make_via,
    new_branch,
)
from salvesti.integrations.sip.call import Leg

_LOGGER = logging.getLogger(__name__)

ALLOW = "INVITE, ACK, CANCEL, BYE, OPTIONS, REFER, NOTIFY, INFO, UPDATE"
USER_AGENT = "Salvesti"
#: Option tags we understand: RFC 4028 session timers.
SUPPORTED = "timer"
#: Toward a carrier also RFC 3262 reliable provisional responses (we PRACK them); not toward
#: phones, whose 18x we never need reliably.
SUPPORTED_TRUNK = "timer, 100rel"


class Signaller:
    """Builds and sends the SIP of the B2BUA's legs through one :class:`SipTransport`."""

    def __init__(self, transport: Any) -> None:
        self.transport = transport
        #: The source's ``SessionTimers`` (set once both exist): our 2xx carry the leg's
        #: session timer and confirmed legs start it.
        self.timers: Any = None

    @property
    def port(self) -> int:
        return self.transport.port

    def contact(self, leg: Leg) -> str:
        tp = f";transport={leg.transport}" if leg.transport in ("tcp", "tls") else ""
        return f"<sip:{leg.contact_user}@{leg.local_host}:{self.port}{tp}>"

    def via(self, leg: Leg) -> str:
        return make_via(leg.transport, leg.local_host, self.port, new_branch())

    # -- the legs we answer --------------------------------------------------------------------
    def respond(
        self,
        leg: Leg,
        status: int,
        *,
        sdp: bytes = b"",
        headers: list[tuple[str, str]] | None = None,
        reason: str | None = None,
    ) -> None:
        """Answer the leg's INVITE; 101-299 create (early) dialogs, 2xx confirm it."""
        assert leg.invite is not None and leg.server_txn is not None
        extra = list(headers or [])
        if 100 < status < 300:
            extra += [("Contact", self.contact(leg)), ("Allow", ALLOW), ("Supported", SUPPORTED)]
        if 200 <= status < 300 and leg.session is not None:
            extra += leg.session.answer_headers()
        if sdp:
            extra.append(("Content-Type", "application/sdp"))
        extra.append(("Server", USER_AGENT))
        resp = build_response(leg.invite, status, reason, to_tag=leg.local_tag, headers=extra, body=sdp)
        if 100 < status < 300 and leg.dialog is None:
            leg.dialog = Dialog.from_uas(leg.invite, leg.local_tag)
        if 200 <= status < 300:
            leg.state = "confirmed"
            if self.timers is not None:
                self.timers.arm(leg)
        elif status > 100 and status < 200:
            leg.state = "early"
        elif status >= 300:
            leg.state = "ended"
        if status >= 200:
            leg.final_status = status
        self.transport.send_response(leg.server_txn, resp)

    def answer_request(
        self,
        txn: Any,
        request: SipRequest,
        status: int,
        *,
        headers: list[tuple[str, str]] | None = None,
        body: bytes = b"",
        to_tag: str | None = None,
        reason: str | None = None,
    ) -> None:
        """Answer any request in its own transaction (BYE, OPTIONS, REFER...)."""
        resp = build_response(request, status, reason, to_tag=to_tag, headers=headers, body=body)
        if txn is not None:
            self.transport.send_response(txn, resp)

    # -- the legs we create --------------------------------------------------------------------
    def invite(
        self,
        leg: Leg,
        *,
        request_uri: str,
        from_: str,
        to: str,
        sdp: bytes,
        on_event: Callable[[Any], None],
        headers: list[tuple[str, str]] | None = None,
        supported: str = SUPPORTED,
    ) -> SipRequest:
        """Send the INVITE that opens a leg (``from_``/``to`` are header values, From untagged)."""
        h = Headers()
        h.add("Via", self.via(leg))
        h.add("Max-Forwards", "70")
        h.add("From", f"{from_};tag={leg.local_tag}")
        h.add("To", to)
        h.add("Call-ID", leg.call_id)
        h.add("CSeq", "1 INVITE")
        h.add("Contact", self.contact(leg))
        h.add("Allow", ALLOW)
        h.add("Supported", supported)
        h.add("User-Agent", USER_AGENT)
        for name, value in headers or []:
            h.add(name, value)
        h.add("Content-Type", "application/sdp")
        request = SipRequest("INVITE", request_uri, h, sdp)
        leg.invite = request
        leg.client_txn = self.transport.send_request(request, leg.addr, leg.transport)
        leg.client_txn.user_data = on_event
        leg.state = "early"
        return request

    def resend_invite(self, leg: Leg, on_event: Callable[[Any], None]) -> None:
        """Send the leg's INVITE again after ``authorize`` added credentials: CSeq+1, new branch."""
        request = leg.invite
        assert request is not None
        number, _ = request.cseq
        request.headers.set("CSeq", f"{number + 1} INVITE")
        request.headers.remove_first("Via")
        request.headers.add("Via", self.via(leg), first=True)
        leg.client_txn = self.transport.send_request(request, leg.addr, leg.transport)
        leg.client_txn.user_data = on_event

    def ack(self, leg: Leg, response: SipResponse) -> None:
        """ACK a 2xx to our INVITE (and remember it to answer retransmitted 2xx)."""
        assert leg.invite is not None
        if leg.dialog is None:
            leg.dialog = Dialog.from_uac(leg.invite, response)
        else:  # the early dialog of a PRACKed 18x: the 2xx confirms it (maybe from another fork)
            leg.dialog.update_remote_tag(response)
            leg.dialog.update_target(response)
        leg.ack = leg.dialog.create_ack(leg.invite.cseq[0], via=self.via(leg))
        self.transport.send_stateless(leg.ack, leg.addr, leg.transport)
        if self.timers is not None:
            self.timers.answered(leg, response)

    def prack(self, leg: Leg, response: SipResponse, rack: str) -> None:
        """PRACK a reliable 18x (RFC 3262 §7.2) in its early dialog; the non-INVITE client
        transaction retransmits it until the carrier answers."""
        assert leg.invite is not None
        tag = response.to_addr.tag
        if leg.dialog is None or leg.dialog.remote_tag != tag:
            leg.dialog = Dialog.from_uac(leg.invite, response)
        else:
            leg.dialog.update_target(response)
        call_id = leg.call_id

        def answered(event: TransactionEvent) -> None:
            if isinstance(event, ResponseReceived) and event.response.status < 300:
                return
            why = f"{event.response.status}" if isinstance(event, ResponseReceived) else "no answer"
            _LOGGER.warning("PRACK on %s failed: %s", call_id, why)

        self.request(leg, "PRACK", headers=[("RAck", rack)], on_event=answered)

    def reack(self, leg: Leg) -> None:
        if leg.ack is not None:
            self.transport.send_stateless(leg.ack, leg.addr, leg.transport)

    def cancel(self, leg: Leg) -> None:
        if leg.client_txn is not None and leg.state in ("new", "early"):
            self.transport.cancel(leg.client_txn)

    def request(
        self,
        leg: Leg,
        method: str,
        *,
        headers: list[tuple[str, str]] | None = None,
        body: bytes = b"",
        on_event: Callable[[Any], None] | None = None,
    ) -> SipRequest | None:
        """An in-dialog request (BYE, re-INVITE, NOTIFY) on an established leg."""
        if leg.dialog is None:
            return None
        extra = list(headers or [])
        if method == "INVITE":
            extra += [("Contact", self.contact(leg)), ("Allow", ALLOW)]
        if body:
            extra.append(("Content-Type", "application/sdp" if method == "INVITE" else "message/sipfrag"))
        request = leg.dialog.create_request(method, extra, body, via=self.via(leg))
        txn = self.transport.send_request(request, leg.addr, leg.transport)
        txn.user_data = on_event
        return request

    def bye(self, leg: Leg) -> None:
        """End a confirmed leg; cancel one still ringing; refuse one not yet answered."""
        if leg.state == "ended":
            return
        if self.timers is not None:
            self.timers.disarm(leg)
        if leg.state == "confirmed":
            self.request(leg, "BYE")
        elif not leg.uas:
            self.cancel(leg)
        elif leg.server_txn is not None:
            self.respond(leg, 487)
        leg.state = "ended"
