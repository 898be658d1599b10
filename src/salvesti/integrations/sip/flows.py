"""The three kinds of call, each one coroutine read top to bottom (and the owner's test
call, in ``test_call.py``).

Outbound: phone (authenticated) → trunk; the phone gets its 200 when the far end answers,
the far end hears the whole notice while the phone hears silence, then the legs are
bridged.  Inbound (``notice_mode: answer``): answer the caller, play the notice, ring the
line's phones with a 425 Hz ringback to the caller, bridge the first to answer;
``early_media`` plays the notice in a 183 and answers when a phone does.  Internal:
phone → phone, relayed, recorded only with ``record_internal``.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from salvesti.core.call import Call, Direction, Disposition, new_call_id
from salvesti.core.components import AgentLink
from salvesti.core.protocols.sip.events import ProvisionalTimeout, RequestReceived
from salvesti.core.protocols.sip.message import new_tag
from salvesti.integrations.sip.agent import AgentPort
from salvesti.integrations.sip.call import B2BCall, Leg, NoCommonCodec, SrtpRefused
from salvesti.integrations.sip.media import CallMedia
from salvesti.integrations.sip.midcall import MidCall
from salvesti.integrations.sip.phases import CallOver, CallPhases, no_final_answer
from salvesti.integrations.sip.route import OutboundRoute
from salvesti.integrations.sip.signalling import SUPPORTED_TRUNK
from salvesti.integrations.sip.srtp import SUITE, SdesNegotiation
from salvesti.integrations.sip.test_call import TestCallFlows

_LOGGER = logging.getLogger(__name__)

#: Final answers from the trunk passed on to the phone as they are; others become 480/503.
_RELAYED = {404, 480, 484, 486, 487, 488, 600, 603, 408, 503, 403}


class Flows(MidCall, TestCallFlows, CallPhases):
    """Starts and runs calls for one ``sip_trunk`` source (the test call: ``test_call.py``)."""

    # -- starting ----------------------------------------------------------------------------------
    def _new_call(self, direction: Direction, line: str | None, remote: str | None) -> B2BCall:
        now = self.hub.now()
        record = Call(
            id=new_call_id(now),
            source=self.src.id,
            direction=direction,
            line=line,
            remote_number=remote,
            started_at=now,
        )
        call = B2BCall(record, self.label)
        self.src.b2bua.calls.add(call)
        return call

    def _uas_leg(self, call: B2BCall, ev: RequestReceived, role: str, **kw: Any) -> Leg:
        req = ev.request
        host = self.src.leg_address(ev.addr[0], outside=role == "outside")
        leg = Leg(role, True, ev.addr, ev.transport, req.call_id, new_tag(), host, **kw)
        leg.invite, leg.server_txn = req, ev.txn
        leg.session = self.src.session_timers.for_invite(req)  # too small was refused 422
        assert ev.txn is not None
        ev.txn.user_data = (call, leg)
        return self.src.b2bua.add_leg(call, leg)

    def _spawn(self, call: B2BCall, coro: Any) -> None:
        call.task = self.hub.create_task(self._run(call, coro), f"{self.label} call {call.record.id}")

    async def _run(self, call: B2BCall, coro: Any) -> None:
        over = CallOver(None, "ended")
        try:
            await coro
        except CallOver as err:
            over = err
        except asyncio.CancelledError:
            over = CallOver(Disposition.FAILED, "cancelled", status=503)
            await self.finish(call, over)
            raise
        except Exception as err:
            _LOGGER.exception("%s: call %s failed", self.label, call.record.id)
            over = CallOver(Disposition.FAILED, f"error: {type(err).__name__}", status=500)
        await self.finish(call, over)

    def start_outbound(
        self, ev: RequestReceived, user: str, target: str, line: str | None, route: OutboundRoute
    ) -> None:
        """A phone's call to ``target`` on ``line``, leaving through ``route``."""
        call = self._new_call(Direction.OUTBOUND, line, self.hub.normalize(target))
        call.record.add_extension(user)
        call.record.meta["route"] = route.describe()
        phone = self._uas_leg(call, ev, "inside", latch_any=True, extension=user, contact_user=user)
        self._spawn(call, self._outbound(call, phone, target, route))

    def start_inbound(
        self,
        ev: RequestReceived,
        line: str | None,
        remote: str | None,
        meta: dict[str, Any] | None = None,
        *,
        srtp: bool = False,
    ) -> None:
        """A call from the outside world (carrier or gateway) on ``line``; ``meta`` says
        which way it came in (``meta.route``, and a gateway's caller ID reading); ``srtp``:
        the carrier's media is SDES-keyed SRTP."""
        call = self._new_call(Direction.INBOUND, line, remote)
        call.record.meta.update(meta or {})
        caller = self._uas_leg(call, ev, "outside", sdes=SdesNegotiation() if srtp else None)
        self._spawn(call, self._inbound(call, caller))

    def start_internal(self, ev: RequestReceived, user: str, target: str) -> None:
        call = self._new_call(Direction.INTERNAL, None, target)
        call.record.add_extension(user)
        caller = self._uas_leg(call, ev, "outside", latch_any=True, extension=user, contact_user=user)
        self._spawn(call, self._internal(call, caller, target))

    # -- outbound ------------------------------------------------------------------------------
    async def _outbound(self, call: B2BCall, phone: Leg, target: str, route: OutboundRoute) -> None:
        src, rec = self.src, call.record
        assert phone.invite is not None
        await self.allocate(call, phone)
        try:
            phone_answer = phone.answer_offer(phone.invite.body, src.codecs)
        except NoCommonCodec:
            self.sig.respond(phone, 488)
            raise CallOver(Disposition.FAILED, "no common codec with the phone", "inside") from None
        out = await self._trunk_leg(call, route)
        await self.hub.call_started(rec)
        on_event = self._invite_trunk(call, out, target, route, phone.codec[1] if phone.codec else None)
        rec.meta["sip"] = {"inside_call_id": phone.call_id, "outside_call_id": out.call_id}
        early = await self._dial(call, phone, out, on_event, phone_answer, route)
        if early is not None:  # the far end's early media ends: the notice comes first
            early.unbridge()
            early.set_hold(out.media, False)  # type: ignore[arg-type]
        rec.answered_at = self.hub.now()
        self.start_recording(call, out)
        self.sig.respond(phone, 200, sdp=phone_answer)
        self._codecs(call, out, phone)
        await self.hub.call_answered(rec)
        await self.play_notice(call)
        assert call.media is not None and phone.media is not None
        call.media.attach_inside(phone.media)
        call.media.bridge()
        await self.talk(call)

    async def _dial(
        self, call: B2BCall, phone: Leg, out: Leg, on_event: Any, phone_answer: bytes, route: OutboundRoute
    ) -> CallMedia | None:
        """Wait for the far end's answer, relaying ringing and failures to the phone.

        A 183 with SDP (the carrier's ringback or an announcement such as "the number is
        not in use") is passed to the phone one way: the phone gets a 183 with our SDP and
        hears the far end, but nothing from the phone is sent out before the answer and
        the notice.  Returns that early-media relay, if any, for the caller to stop.
        """
        early: CallMedia | None = None
        while True:
            ev = await call.next(10.0 if call.cancelled else None)
            if ev is None:
                raise CallOver(Disposition.CANCELLED, "cancel", "inside")
            if ev.kind in ("cancel", "hangup") and ev.leg is not out:
                if not call.cancelled:
                    call.cancelled = True
                    self.sig.respond(phone, 487 if ev.kind == "cancel" else 503)
                    self.sig.cancel(out)
                continue
            if ev.kind == "timeout" and ev.leg is out:
                if self._try_elsewhere(call, out, route, on_event, ev.data):
                    continue
                raise no_final_answer(out, ev.data)
            if ev.kind != "response" or ev.leg is not out:
                self.common(call, ev)
                continue
            resp = ev.data
            status = resp.status
            if status < 200:
                if status == 183 and resp.body and early is None and not call.cancelled:
                    early = self._early_media(out, phone, resp.body)
                    if early is not None:
                        self.sig.respond(phone, 183, sdp=phone_answer)
                        continue
                if status in (180, 183) and phone.state == "new" and not call.cancelled:
                    self.sig.respond(phone, 180)
                continue
            if self._trunk_final(call, out, resp, route, on_event):
                continue
            return early

    # -- outbound for another source's agent (a browser phone) --------------------------------
    def start_agent_outbound(
        self, agent: AgentLink, target: str, line: str | None, route: OutboundRoute
    ) -> Call:
        """``SipTrunkSource.dial_for``: the agent is already connected (its media is up), so
        the trunk is called at once; see :meth:`_agent_outbound`."""
        call = self._new_call(Direction.OUTBOUND, line, self.hub.normalize(target))
        call.record.add_extension(agent.extension)
        call.record.meta["route"] = route.describe()
        call.agent_link = agent
        self._spawn(call, self._agent_outbound(call, agent, target, route))
        return call.record

    async def _agent_outbound(
        self, call: B2BCall, agent: AgentLink, target: str, route: OutboundRoute
    ) -> None:
        """Trunk first; on its answer the far end hears the whole notice while the agent
        hears silence, then the agent is bridged through a loop pair (``agent.py``)."""
        src, rec = self.src, call.record
        watch = asyncio.get_running_loop().create_task(_watch_agent(call, agent))
        try:
            out = await self._trunk_leg(call, route)
            await self.hub.call_started(rec)
            agent.progress("trying")
            on_event = self._invite_trunk(call, out, target, route, None)
            rec.meta["sip"] = {"outside_call_id": out.call_id}
            await self._dial_for_agent(call, agent.progress, out, on_event, route)
        finally:
            watch.cancel()
        rec.answered_at = self.hub.now()
        self.start_recording(call, out)
        port = await AgentPort.open(src, call, out.codec[1].name if out.codec else None)
        port.bind(agent, 8000)
        agent.listen(port.from_agent)
        call.agent = port
        sip = rec.meta.setdefault("sip", {})
        sip["inside_codec"] = port.codec_name
        if out.codec:
            sip["outside_codec"] = out.codec[1].name
        await self.hub.call_answered(rec)
        agent.progress("answered")
        await self.play_notice(call)
        assert call.media is not None
        call.media.attach_inside(port.inside)
        call.media.bridge()
        agent.progress("connected", port)
        await self.talk(call)

    async def _dial_for_agent(
        self,
        call: B2BCall,
        progress: Any,
        out: Leg,
        on_event: Any,
        route: OutboundRoute,
        gone: Any = lambda ev: ev.kind == "agent_gone",
    ) -> None:
        """Wait for the far end's answer, telling the inside party it rings (``progress``);
        the inside party leaving (``gone(event)``) cancels the INVITE.  No early media to the
        inside party: a browser plays its own ringback."""
        while True:
            ev = await call.next(10.0 if call.cancelled else None)
            if ev is None:
                raise CallOver(Disposition.CANCELLED, "cancel", "inside")
            if ev.kind == "hangup" or gone(ev):
                if not call.cancelled:
                    call.cancelled = True
                    self.sig.cancel(out)
                continue
            if ev.kind == "timeout" and ev.leg is out:
                if self._try_elsewhere(call, out, route, on_event, ev.data):
                    continue
                raise no_final_answer(out, ev.data)
            if ev.kind != "response" or ev.leg is not out:
                self.common(call, ev)
                continue
            resp = ev.data
            status = resp.status
            if status < 200:
                if status in (180, 183) and not call.cancelled:
                    progress("ringing")
                continue
            if self._trunk_final(call, out, resp, route, on_event):
                continue
            return

    # -- click-to-call: a desk phone first, then the outside number ------------------------------
    def start_click_to_call(
        self, number: str, extension: str, line: str | None, route: OutboundRoute
    ) -> Call:
        """``SipTrunkSource.dial``: ring ``extension``'s phones, then call ``number`` for it."""
        call = self._new_call(Direction.OUTBOUND, line, self.hub.normalize(number))
        call.record.add_extension(extension)
        call.record.meta["route"] = route.describe()
        call.record.meta["click_to_call"] = True
        self._spawn(call, self._click_to_call(call, number, extension, route))
        return call.record

    async def _click_to_call(self, call: B2BCall, number: str, extension: str, route: OutboundRoute) -> None:
        """The phone rings with the number it will call as caller ID; once picked up, the far
        end is called, hears the whole notice on its answer, and is bridged to the phone."""
        rec = call.record
        await self.hub.call_started(rec)
        phone = await self.ring(call, [extension], caller=number, prefer=None, ringback=False, remote=False)
        assert isinstance(phone, Leg) and phone.media is not None
        out = await self._trunk_leg(call, route)
        on_event = self._invite_trunk(call, out, number, route, phone.codec[1] if phone.codec else None)
        rec.meta["sip"] = {"inside_call_id": phone.call_id, "outside_call_id": out.call_id}
        await self._dial_for_agent(
            call,
            lambda state: None,
            out,
            on_event,
            route,
            gone=lambda ev: ev.kind == "bye" and ev.leg is phone,
        )
        rec.answered_at = self.hub.now()
        self.start_recording(call, out)
        self._codecs(call, out, phone)
        await self.hub.call_answered(rec)
        await self.play_notice(call)
        assert call.media is not None
        call.media.attach_inside(phone.media)
        call.media.bridge()
        await self.talk(call)

    # -- the trunk leg of an outbound call ------------------------------------------------------
    async def _trunk_leg(self, call: B2BCall, route: OutboundRoute) -> Leg:
        """The outside leg toward the route's next hop, with its RTP ports."""
        try:
            hop = await route.next_hop()
        except OSError as err:
            raise CallOver(Disposition.FAILED, f"no route out: {err}", "salvesti", status=503) from None
        sdes = SdesNegotiation() if route.srtp else None
        out = self.uac_leg(
            call, "outside", hop, route.sip_transport, contact_user=route.contact_user, sdes=sdes
        )
        await self.allocate(call, out)
        return out

    def _invite_trunk(self, call: B2BCall, out: Leg, target: str, route: OutboundRoute, prefer: Any) -> Any:
        """Send the INVITE for ``target`` (offering ``prefer`` first); returns its event callback."""
        on_event = self.callback(call, out)
        self.sig.invite(
            out,
            request_uri=route.request_uri(target),
            from_=route.from_header(call.record.line),
            to=route.to_header(target),
            sdp=out.make_offer(self.src.codecs, prefer=prefer),
            on_event=on_event,
            supported=SUPPORTED_TRUNK,
        )
        return on_event

    def _trunk_final(self, call: B2BCall, out: Leg, resp: Any, route: OutboundRoute, on_event: Any) -> bool:
        """The trunk's final answer to our INVITE: True when it was sent again with
        credentials (keep waiting); a refusal raises CallOver; a 2xx is ACKed and its SDP taken."""
        status = resp.status
        if status in (401, 407) and out.auth_tries == 0 and not call.cancelled:
            out.auth_tries += 1
            assert out.invite is not None
            if route.authorize(out.invite, resp):
                self.sig.resend_invite(out, on_event)
                return True
        if status == 503 and self._try_elsewhere(call, out, route, on_event, None):
            return True
        if status >= 300:
            raise _refused(call, out, status)
        self.sig.ack(out, resp)
        out.state = "confirmed"
        if call.cancelled:
            raise CallOver(Disposition.CANCELLED, "cancel", "inside")
        try:
            # RFC 3262 §5: the answer in a reliable 18x stands; its 2xx may repeat it or carry none.
            out.take_answer(resp.body or out.early_answer or b"")
        except NoCommonCodec as err:
            raise CallOver(Disposition.FAILED, _why(err), status=488) from None
        return False

    def _try_elsewhere(self, call: B2BCall, out: Leg, route: OutboundRoute, on_event: Any, why: Any) -> bool:
        """The carrier's server did not answer the INVITE (or could not be reached) or
        answered 503: send it to the route's next server, if it has one (RFC 3263 §4.3).
        Not after Timer C (that server did answer, it only never finished) or a CANCEL."""
        if call.cancelled or isinstance(why, ProvisionalTimeout):
            return False
        hop = route.fallback_hop(out.addr)
        if hop is None:
            return False
        _LOGGER.warning(
            "%s: call %s: %s:%s failed, trying %s:%s", self.label, call.record.id, *out.addr, *hop
        )
        out.addr = hop
        out.state = "early"
        self.sig.resend_invite(out, on_event)
        call.record.meta.setdefault("sip", {}).setdefault("failed_over", []).append(f"{hop[0]}:{hop[1]}")
        return True

    @staticmethod
    def _early_media(out: Leg, phone: Leg, body: bytes) -> CallMedia | None:
        """Relay the far end's early media to the phone only (the outside leg is held)."""
        try:
            out.take_answer(body)
        except NoCommonCodec:
            return None
        assert out.media is not None and phone.media is not None
        early = CallMedia(out.media, None)
        early.attach_inside(phone.media)
        early.set_hold(out.media, True)
        early.bridge()
        return early

    # -- inbound -------------------------------------------------------------------------------
    async def _inbound(self, call: B2BCall, caller: Leg) -> None:
        src, rec = self.src, call.record
        assert caller.invite is not None
        rec.meta["sip"] = {"outside_call_id": caller.call_id}
        await self.allocate(call, caller)
        await self.hub.call_started(rec)
        if not caller.invite.body:
            answer = await self._delayed_offer(call, caller)
            early = False
        else:
            try:
                answer = caller.answer_offer(caller.invite.body, src.codecs)
            except NoCommonCodec as err:
                self.sig.respond(caller, 488)
                raise CallOver(Disposition.FAILED, _why(err), "outside") from None
            early = src.notice_mode == "early_media"
            if early:
                self.sig.respond(caller, 183, sdp=answer)
            else:
                self.sig.respond(caller, 200, sdp=answer)
                rec.answered_at = self.hub.now()
        self.start_recording(call, caller)
        if not early:
            await self.hub.call_answered(rec)
        await self.play_notice(call)
        exts = src.inbound.get(rec.line or "") or list(src.extensions)
        phone = await self.ring(
            call,
            exts,
            caller=rec.remote_number or "",
            prefer=caller.codec[1] if caller.codec else None,
            ringback=True,
        )
        if early:
            self.sig.respond(caller, 200, sdp=answer)
            rec.answered_at = self.hub.now()
        self._connect(call, phone)
        if early:
            await self.hub.call_answered(rec)
        else:
            await self.hub.call_updated(rec)
        await self.talk(call)

    async def _delayed_offer(self, call: B2BCall, caller: Leg) -> bytes:
        """An INVITE without SDP: we offer in the 200 and the answer comes in the ACK.

        Early media needs an offer before the answer, so such calls always use the
        ``answer`` notice mode.
        """
        offer = caller.make_offer(self.src.codecs)
        self.sig.respond(caller, 200, sdp=offer)
        call.record.answered_at = self.hub.now()
        while True:
            ev = await call.next(32.0)
            if ev is None:
                raise CallOver(None, "no ACK with an SDP answer", "outside")
            if ev.kind == "ack" and ev.leg is caller:
                try:
                    caller.take_answer(ev.data.body)
                except NoCommonCodec as err:
                    raise CallOver(Disposition.FAILED, _why(err), "outside") from None
                return offer
            self.common(call, ev)

    def _connect(self, call: B2BCall, phone: Leg | AgentPort) -> None:
        if isinstance(phone, AgentPort):
            self._connect_agent(call, phone)
            return
        assert call.media is not None and phone.media is not None
        call.media.attach_inside(phone.media)
        call.media.bridge()
        if phone.extension:
            call.record.add_extension(phone.extension)
        call.record.meta.setdefault("sip", {})["inside_call_id"] = phone.call_id
        self._codecs(call, call.outside, phone)
        self._recheck_policy(call)

    def _connect_agent(self, call: B2BCall, port: AgentPort) -> None:
        """Bridge another source's agent (a browser tab) that answered, through its loop pair."""
        assert call.media is not None and port.conn is not None
        call.agent = port
        conn = port.conn
        if isinstance(conn, AgentLink):
            call.agent_link = conn
        call.media.attach_inside(port.inside)
        call.media.bridge()
        call.record.add_extension(conn.extension)
        self._recheck_policy(call)
        sip = call.record.meta.setdefault("sip", {})
        sip["inside_codec"] = port.codec_name
        if call.outside.codec:
            sip["outside_codec"] = call.outside.codec[1].name
        if isinstance(conn, AgentLink):
            conn.progress("connected", port)

    def _recheck_policy(self, call: B2BCall) -> None:
        """An inbound call's extension is known only now: when its employee has not been
        informed, nothing more is written (the hub deletes the start when the call ends)."""
        if call.recording is not None and call.media is not None and self.hub.recording_refusal(call.record):
            _LOGGER.info(
                "%s: call %s: recording stopped: %s",
                self.label,
                call.record.id,
                call.record.meta["not_recorded"]["detail"],
            )
            call.media.recording = None

    def _codecs(self, call: B2BCall, outside: Leg, inside: Leg) -> None:
        sip = call.record.meta.setdefault("sip", {})
        if outside.codec:
            sip["outside_codec"] = outside.codec[1].name
        if inside.codec:
            sip["inside_codec"] = inside.codec[1].name
        if outside.sdes is not None:
            sip["outside_srtp"] = SUITE

    # -- internal ------------------------------------------------------------------------------
    async def _internal(self, call: B2BCall, caller: Leg, target: str) -> None:
        rec = call.record
        assert caller.invite is not None
        rec.meta["sip"] = {"outside_call_id": caller.call_id}
        await self.allocate(call, caller)
        try:
            answer = caller.answer_offer(caller.invite.body, self.src.codecs)
        except NoCommonCodec:
            self.sig.respond(caller, 488)
            raise CallOver(Disposition.FAILED, "no common codec", "outside") from None
        await self.hub.call_started(rec)
        phone = await self.ring(
            call,
            [target],
            caller=caller.extension or "",
            prefer=caller.codec[1] if caller.codec else None,
            ringback=False,
            ringing_to=caller,
        )
        self.sig.respond(caller, 200, sdp=answer)
        rec.answered_at = self.hub.now()
        self.start_recording(call, caller, internal=True)
        self._connect(call, phone)
        await self.hub.call_answered(rec)
        await self.talk(call)


def _why(err: NoCommonCodec) -> str:
    """Why the carrier's SDP was refused: the SRTP fault when there is one."""
    return f"SRTP: {err}" if isinstance(err, SrtpRefused) else "no common codec with the trunk"


def _refused(call: B2BCall, out: Leg, status: int) -> CallOver:
    """The trunk's final refusal of our INVITE as the way the call ends."""
    out.state = "ended"
    if call.cancelled:
        return CallOver(Disposition.CANCELLED, "cancel", "inside")
    code = status if status in _RELAYED else (503 if status in (401, 407) else 480)
    disposition = Disposition.FAILED
    if status in (486, 600):
        disposition = Disposition.BUSY
    elif status in (408, 480, 487, 603):
        disposition = Disposition.NO_ANSWER
    call.record.meta.setdefault("sip", {})["trunk_status"] = status
    return CallOver(disposition, f"trunk answered {status}", "outside", status=code)


async def _watch_agent(call: B2BCall, agent: AgentLink) -> None:
    """Before the agent's loop pair exists: its leaving is an event of the call."""
    await agent.ended.wait()
    call.post("agent_gone")
