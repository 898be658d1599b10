"""The B2BUA's dispatcher: every SIP event of the source goes through ``handle_event``.

Out-of-dialog requests are sorted here (OPTIONS, REGISTER, a new INVITE from the trunk or
from a phone); in-dialog ones go to their call by (Call-ID, our tag); responses go to
whoever sent the request (``txn.user_data`` is a callback).  A new call becomes a
:class:`~salvesti.integrations.sip.call.B2BCall` driven by one coroutine from ``flows.py``.
Nothing from a phone reaches the trunk unless the phone authenticated.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any

from salvesti.core.protocols.sip.events import (
    AckTimeout,
    CancelReceived,
    ProvisionalTimeout,
    RequestReceived,
    ResponseReceived,
    TransactionTimeout,
)
from salvesti.core.protocols.sip.message import new_tag
from salvesti.core.protocols.sip.session_timer import SessionIntervalTooSmall
from salvesti.core.protocols.sip.transaction import ClientTransaction
from salvesti.integrations.sip import routing
from salvesti.integrations.sip.call import B2BCall, Leg
from salvesti.integrations.sip.carrier import InboundMatch
from salvesti.integrations.sip.gateways import Gateway
from salvesti.integrations.sip.signalling import ALLOW

if TYPE_CHECKING:
    from salvesti.integrations.sip.source import SipTrunkSource

_LOGGER = logging.getLogger(__name__)


class B2BUA:
    """Routes SIP events to registrar, calls and flows of one ``sip_trunk`` source."""

    def __init__(self, source: SipTrunkSource) -> None:
        self.src = source
        self.label = source.label
        self.calls: set[B2BCall] = set()
        self.dialogs: dict[tuple[str, str], tuple[B2BCall, Leg]] = {}
        self.accepting = True

    @property
    def sig(self) -> Any:
        return self.src.signaller

    # -- bookkeeping ----------------------------------------------------------------------------
    def add_leg(self, call: B2BCall, leg: Leg) -> Leg:
        call.legs.append(leg)
        self.dialogs[(leg.call_id, leg.local_tag)] = (call, leg)
        return leg

    def forget(self, call: B2BCall) -> None:
        self.calls.discard(call)
        for leg in call.legs:
            self.dialogs.pop((leg.call_id, leg.local_tag), None)

    # -- events ------------------------------------------------------------------------------------
    def handle_event(self, event: Any) -> None:
        if isinstance(event, ResponseReceived | TransactionTimeout | ProvisionalTimeout):
            if isinstance(event.txn, ClientTransaction) and callable(event.txn.user_data):
                event.txn.user_data(event)
        elif isinstance(event, CancelReceived):
            found = event.invite_txn.user_data
            if isinstance(found, tuple):
                call, leg = found
                call.post("cancel", leg)
            else:
                self.sig.answer_request(event.invite_txn, event.invite_txn.request, 487, to_tag=new_tag())
        elif isinstance(event, AckTimeout):
            for call, leg in list(self.dialogs.values()):
                if leg.call_id == event.call_id and leg.uas:
                    call.post("ack_timeout", leg)
                    break
        elif isinstance(event, RequestReceived):
            self._request(event)

    def _request(self, ev: RequestReceived) -> None:
        req = ev.request
        to_tag = req.to_addr.tag
        if req.method == "ACK":
            # The transaction layer stopped the 2xx retransmission already; an ACK only
            # matters when it carries the answer to the offer in our 2xx (delayed offer).
            found = self.dialogs.get((req.call_id, to_tag)) if to_tag else None
            if found is not None and req.body:
                found[0].post("ack", found[1], req)
            return
        if to_tag:
            found = self.dialogs.get((req.call_id, to_tag))
            if found is None:
                self.sig.answer_request(ev.txn, req, 481)
            else:
                self._in_dialog(found[0], found[1], ev)
            return
        method = req.method
        if method == "OPTIONS":
            self.sig.answer_request(
                ev.txn, req, 200, to_tag=new_tag(), headers=[("Allow", ALLOW), ("Accept", "application/sdp")]
            )
        elif method == "REGISTER":
            self._register(ev)
        elif method == "INVITE":
            self._invite(ev)
        elif method == "SUBSCRIBE":
            self.sig.answer_request(ev.txn, req, 489, to_tag=new_tag())
        elif method in ("BYE", "INFO", "UPDATE", "PRACK", "REFER"):
            self.sig.answer_request(ev.txn, req, 481)
        elif method == "NOTIFY":
            self.sig.answer_request(ev.txn, req, 200, to_tag=new_tag())
        else:
            self.sig.answer_request(ev.txn, req, 405, to_tag=new_tag(), headers=[("Allow", ALLOW)])

    def _register(self, ev: RequestReceived) -> None:
        src = self.src
        resp = src.registrar.handle(ev.request, ev.addr, ev.transport, time.monotonic(), time.time())
        if resp is not None and ev.txn is not None:
            src.transport.send_response(ev.txn, resp)

    # -- new calls -----------------------------------------------------------------------------
    def _invite(self, ev: RequestReceived) -> None:
        req, addr = ev.request, ev.addr
        src = self.src
        if not self.accepting:
            self.sig.answer_request(ev.txn, req, 503, to_tag=new_tag(), headers=[("Retry-After", "30")])
            return
        try:
            src.session_timers.for_invite(req)
        except SessionIntervalTooSmall:
            headers = src.session_timers.too_small_headers()
            self.sig.answer_request(ev.txn, req, 422, to_tag=new_tag(), headers=headers)
            return
        match = src.carrier.inbound(req, addr, src.carrier_lines, src.hub.normalize)
        if match is not None:
            self._from_carrier(ev, match)
            return
        now = time.monotonic()
        gateway = src.gateways.from_address(addr, now)
        if gateway is not None:
            self._from_gateway(ev, gateway)
            return
        outcome = src.auth.check(req, addr[0], now, time.time())
        if outcome.drop:
            return
        if outcome.user is None:
            self.sig.answer_request(ev.txn, req, outcome.status, to_tag=new_tag(), headers=outcome.headers)
            return
        gateway = src.gateways.by_user(outcome.user)
        if gateway is not None:
            if gateway.binding(now) is None:
                # It knows the password but has no registration (or its REGISTER failed).
                _LOGGER.warning(
                    "%s: gateway %s called from %s:%s before it registered: refused",
                    self.label,
                    gateway.id,
                    *addr,
                )
                self.sig.answer_request(ev.txn, req, 403, reason="Gateway Not Registered", to_tag=new_tag())
            else:
                self._from_gateway(ev, gateway)
            return
        target = routing.dialled(req)
        if target is None:
            self.sig.answer_request(ev.txn, req, 404, to_tag=new_tag())
        elif target in src.extensions:
            src.flows.start_internal(ev, outcome.user, target)
        else:
            self._outbound(ev, outcome.user, target)

    def _from_carrier(self, ev: RequestReceived, match: InboundMatch) -> None:
        src, req = self.src, ev.request
        if match.client is None:
            _LOGGER.warning(
                "%s: INVITE for %s from the carrier at %s:%s matches no account",
                self.label,
                req.uri,
                *ev.addr,
            )
            self.sig.answer_request(ev.txn, req, 404, to_tag=new_tag())
            return
        remote = routing.caller_number(req, src.hub.normalize)
        src.flows.start_inbound(
            ev, match.line, remote, {"route": match.client.describe()}, srtp=match.client.srtp
        )

    def _from_gateway(self, ev: RequestReceived, gateway: Gateway) -> None:
        """A gateway's INVITE: an inbound call on the gateway's line, whatever user the
        Request-URI names, from the caller its profile finds."""
        caller = gateway.caller(ev.request)
        if caller.flagged:
            _LOGGER.warning(
                "%s: gateway %s sent caller ID %r in no form we know; kept as it came",
                self.label,
                gateway.id,
                caller.raw,
            )
        self.src.flows.start_inbound(ev, gateway.line, caller.number, gateway.inbound_meta(caller))

    def _outbound(self, ev: RequestReceived, user: str, target: str) -> None:
        """An extension's call to the outside: on its line, through that line's route."""
        src = self.src
        line = src.extensions[user].get("line") or (src.lines[0] if src.lines else None)
        route = src.outbound_route(line)
        if route is None:
            _LOGGER.info("%s: %s dialled %s but line %s has no way out", self.label, user, target, line)
            self.sig.answer_request(ev.txn, ev.request, 404, reason="No Trunk Configured", to_tag=new_tag())
            return
        src.flows.start_outbound(ev, user, target, line, route)

    # -- in-dialog -----------------------------------------------------------------------------
    def _in_dialog(self, call: B2BCall, leg: Leg, ev: RequestReceived) -> None:
        req = ev.request
        if leg.dialog is not None and not leg.dialog.accept_remote_cseq(req):
            self.sig.answer_request(ev.txn, req, 500, reason="CSeq Out of Order")
            return
        method = req.method
        if method == "BYE":
            self.sig.answer_request(ev.txn, req, 200)
            if leg.state != "ended":
                leg.state = "ended"
                call.post("bye", leg)
        elif method == "INVITE":
            call.post("reinvite", leg, ev)
        elif method == "REFER":
            call.post("refer", leg, ev)
        elif method in ("INFO", "OPTIONS", "NOTIFY"):
            self.sig.answer_request(ev.txn, req, 200)
        elif method == "UPDATE":
            if req.body:
                self.sig.answer_request(ev.txn, req, 488)
                return
            timers = self.src.session_timers
            try:
                headers = timers.refresh_received(leg, req)
            except SessionIntervalTooSmall:
                self.sig.answer_request(ev.txn, req, 422, headers=timers.too_small_headers())
                return
            self.sig.answer_request(ev.txn, req, 200, headers=headers)
        else:
            self.sig.answer_request(ev.txn, req, 405, headers=[("Allow", ALLOW)])
