"""What happens on an established call: hold/resume (re-INVITE) and blind transfer (REFER).

Hold: the re-INVITE is answered with our own address, and the other leg gets a re-INVITE
of its own (``sendonly`` while held, ``sendrecv`` on resume) so both phones show the right
state; nothing but the direction changes, media keeps flowing through us.

Blind transfer (RFC 3515): the office phone REFERs the call to another extension.  We
answer 202, report progress in NOTIFY sipfrag, ring the target and, when it answers,
swap it in as the inside leg (``CallMedia.replace_inside``): the outside leg, the recording
and the call object continue, and the call lists both extensions.  The transferring phone
gets a BYE.  If the target does not answer, the transferring phone stays connected (or, if
it already hung up, the call ends).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

from salvesti.core.protocols.sip.errors import SipParseError
from salvesti.core.protocols.sip.events import RequestReceived, ResponseReceived
from salvesti.core.protocols.sip.session_timer import SessionIntervalTooSmall
from salvesti.core.protocols.sip.uri import Address
from salvesti.integrations.sip.call import B2BCall, CallEvent, Leg, NoCommonCodec
from salvesti.integrations.sip.routing import strip_user

_LOGGER = logging.getLogger(__name__)


@dataclass(eq=False)
class Transfer:
    #: The phone that sent REFER; None when the agent of another source (a browser) asked.
    referrer: Leg | None
    target: str
    legs: list[Leg] = field(default_factory=list)
    referrer_gone: bool = False
    from_extension: str | None = None


class MidCall:
    """Mixin for :class:`~salvesti.integrations.sip.flows.Flows`."""

    src: Any
    hub: Any
    label: str
    sig: Any

    # -- hold / resume -----------------------------------------------------------------------
    def reinvite(self, call: B2BCall, leg: Leg, ev: RequestReceived) -> None:
        req = ev.request
        if not req.body:
            self.sig.answer_request(ev.txn, req, 488)
            return
        try:
            answer, hold = leg.remote_update(req.body)
        except NoCommonCodec:
            self.sig.answer_request(ev.txn, req, 488)
            return
        try:
            timer_headers = self.src.session_timers.refresh_received(leg, req)
        except SessionIntervalTooSmall:
            self.sig.answer_request(ev.txn, req, 422, headers=self.src.session_timers.too_small_headers())
            return
        if leg.dialog is not None:
            leg.dialog.update_target(req)
        headers = [("Contact", self.sig.contact(leg)), ("Content-Type", "application/sdp"), *timer_headers]
        self.sig.answer_request(ev.txn, req, 200, headers=headers, body=answer)
        if hold == leg.held:
            return  # a session refresh: nothing to tell the other side
        leg.held = hold
        call.record.meta.setdefault("sip", {})["held"] = hold
        media = call.media
        for other in call.legs:
            if other is leg or other.state != "confirmed" or other.media is None or media is None:
                continue
            if other.media not in (media.outside, media.inside):
                continue
            other.offered = [other.codec] if other.codec else other.offered
            sdp = other.local_sdp(direction="sendonly" if hold else "sendrecv")
            self.sig.request(other, "INVITE", body=sdp, on_event=self._reinvite_answered(other))

    def _reinvite_answered(self, target: Leg) -> Any:
        def on_event(event: Any) -> None:
            if not isinstance(event, ResponseReceived) or not 200 <= event.response.status < 300:
                return
            if target.dialog is not None:
                ack = target.dialog.create_ack(event.response.cseq[0], via=self.sig.via(target))
                self.src.transport.send_stateless(ack, target.addr, target.transport)
            if event.response.body:
                try:
                    target.take_answer(event.response.body)
                except NoCommonCodec:
                    pass

        return on_event

    # -- blind transfer ------------------------------------------------------------------------
    def refer(self, call: B2BCall, leg: Leg, ev: RequestReceived) -> None:
        req = ev.request
        target = None
        try:
            target = strip_user(Address.parse(req.headers.get("Refer-To") or "").uri.user)
        except SipParseError:
            pass
        media = call.media
        if leg.role != "inside" or media is None or media.inside is not leg.media or call.transfer:
            self.sig.answer_request(ev.txn, req, 403, reason="Transfer Not Possible Now")
            return
        if target not in self.src.extensions:
            self.sig.answer_request(ev.txn, req, 403, reason="Transfer Only To Extensions")
            return
        bindings = self.src.registrar.bindings_for(target, time.monotonic())
        if not bindings:
            self.sig.answer_request(ev.txn, req, 480)
            return
        self.sig.answer_request(ev.txn, req, 202)
        self._notify(leg, "SIP/2.0 100 Trying", final=False)
        transfer = call.transfer = Transfer(leg, target)
        self.hub.create_task(self._ring_target(call, transfer, bindings), f"{self.label} transfer")

    def agent_transfer(self, call: B2BCall, target: str) -> str:
        """A blind transfer asked by the call's agent (a browser tab, ``agent.AgentPort``):
        the agent leaves at once and ``target``'s phones ring; "ok" or why not."""
        media, port = call.media, call.agent
        if port is None or media is None or media.inside is not port.inside or call.transfer is not None:
            return "not_now"
        if target not in self.src.extensions:
            return "not_an_extension"
        bindings = self.src.registrar.bindings_for(target, time.monotonic())
        if not bindings:
            return "not_registered"
        conn = port.conn
        transfer = call.transfer = Transfer(None, target, from_extension=conn.extension if conn else None)
        transfer.referrer_gone = True
        media.unbridge()
        self.hub.create_task(self._ring_target(call, transfer, bindings), f"{self.label} transfer")
        return "ok"

    async def _ring_target(self, call: B2BCall, transfer: Transfer, bindings: list[Any]) -> None:
        shared = await self.src.relay.allocate()
        call.allocated.append(shared)
        outside = call.outside
        caller = call.record.remote_number or "anonymous"
        for binding in bindings:
            leg = self.uac_leg(  # type: ignore[attr-defined]
                call, "inside", binding.addr, binding.transport, latch_any=True, extension=transfer.target
            )
            leg.media = shared
            self.sig.invite(
                leg,
                request_uri=binding.contact,
                from_=f'"{caller}" <sip:{caller}@{leg.local_host}>',
                to=f"<sip:{transfer.target}@{leg.local_host}>",
                sdp=leg.make_offer(self.src.codecs, prefer=outside.codec[1] if outside.codec else None),
                on_event=self.callback(call, leg),  # type: ignore[attr-defined]
            )
            transfer.legs.append(leg)

    def transfer_event(self, call: B2BCall, ev: CallEvent) -> bool:
        """Handle an event that belongs to a transfer in progress; True when consumed."""
        transfer = call.transfer
        if transfer is None:
            return False
        leg = ev.leg
        if ev.kind == "bye" and leg is transfer.referrer:
            transfer.referrer_gone = True  # a blind transfer: the phone leaves at once
            if call.media is not None:
                call.media.unbridge()
            return True
        if leg not in transfer.legs or ev.kind not in ("response", "timeout"):
            return False
        status = ev.data.status if ev.kind == "response" else 408
        if status < 200:
            return True  # progress: the referrer already has its "100 Trying"
        if status >= 300:
            leg.state = "ended"
            if all(f.state == "ended" for f in transfer.legs):
                self._failed(call, transfer, status)
            return True
        self.sig.ack(leg, ev.data)
        leg.state = "confirmed"
        try:
            leg.take_answer(ev.data.body)
        except NoCommonCodec:
            self.sig.bye(leg)
            if all(f.state == "ended" for f in transfer.legs):
                self._failed(call, transfer, 488)
            return True
        for other in transfer.legs:
            if other is not leg and other.state != "ended":
                self.sig.bye(other)
        self._complete(call, transfer, leg)
        return True

    def _complete(self, call: B2BCall, transfer: Transfer, leg: Leg) -> None:
        media = call.media
        assert media is not None and leg.media is not None
        media.replace_inside(leg.media)
        media.bridge()
        referrer = transfer.referrer
        if referrer is not None:
            if not transfer.referrer_gone:
                self._notify(referrer, "SIP/2.0 200 OK", final=True)
                self.sig.bye(referrer)
            referrer.state = "ended"
        call.transfer = None
        rec = call.record
        rec.add_extension(transfer.target)
        sip = rec.meta.setdefault("sip", {})
        source = referrer.extension if referrer is not None else transfer.from_extension
        sip.setdefault("transfers", []).append({"from": source, "to": transfer.target})
        sip["inside_call_id"] = leg.call_id
        _LOGGER.info("%s: call %s transferred %s → %s", self.label, rec.id, source, transfer.target)
        self.hub.create_task(self.hub.call_updated(rec), f"{self.label} call_updated")

    def _failed(self, call: B2BCall, transfer: Transfer, status: int) -> None:
        call.transfer = None
        if transfer.referrer_gone:
            from salvesti.integrations.sip.phases import CallOver

            raise CallOver(None, f"transfer target answered {status}", "inside")
        if transfer.referrer is not None:
            self._notify(transfer.referrer, f"SIP/2.0 {status} Transfer Failed", final=True)

    def _notify(self, leg: Leg, sipfrag: str, *, final: bool) -> None:
        state = "terminated;reason=noresource" if final else "active;expires=60"
        self.sig.request(
            leg,
            "NOTIFY",
            headers=[("Event", "refer"), ("Subscription-State", state)],
            body=(sipfrag + "\r\n").encode(),
        )
