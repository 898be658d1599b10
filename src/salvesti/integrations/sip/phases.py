"""The phases every bridged call goes through: notice, ringing the phones, talk, the end.

Each phase consumes the call's event queue until its job is done; anything that ends the
call (a BYE, a CANCEL, shutdown, no answer) raises :class:`CallOver`, and
:meth:`CallPhases.finish` then tears down whatever is still up, closes the media and hands
the call and its recording to the hub.  So every way a call can end goes through one place.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import TYPE_CHECKING, Any

import numpy as np

from salvesti.core.call import Call, Disposition
from salvesti.core.components import AgentLink, ExtensionRinger
from salvesti.core.health import RtpCounts
from salvesti.core.protocols.sip.events import (
    ProvisionalTimeout,
    ResponseReceived,
    TransactionTimeout,
    TransportFailed,
)
from salvesti.core.protocols.sip.message import SipResponse, new_call_id, new_tag
from salvesti.core.protocols.sip.reliable import Reliability
from salvesti.core.recording import CallRecording
from salvesti.integrations.sip.agent import AgentPort
from salvesti.integrations.sip.call import B2BCall, CallEvent, Leg, NoCommonCodec
from salvesti.integrations.sip.media import CallMedia

if TYPE_CHECKING:
    from salvesti.integrations.sip.source import SipTrunkSource

_LOGGER = logging.getLogger(__name__)

Addr = tuple[str, int]
RATE = 8000


def rtp_counts(media: CallMedia | None) -> dict[str, RtpCounts] | None:
    """Each recorded channel's packets received and lost, from the legs that fed it: the
    outside party's leg (what they said) and the inside one (what they heard)."""
    if media is None:
        return None
    counts = {}
    for channel, leg in (("outside", media.outside), ("heard", media.inside)):
        if leg is not None:
            st = leg.stats  # RTP from the accepted source: not garbage, not a stranger's
            counts[channel] = RtpCounts(received=st.packets_in - st.invalid - st.wrong_source, lost=st.lost)
    return counts


class CallOver(Exception):
    """The call ends now. ``status`` answers a caller not yet answered (487 by default)."""

    def __init__(
        self, disposition: Disposition | None, cause: str, side: str = "salvesti", status: int = 487
    ) -> None:
        super().__init__(cause)
        self.disposition = disposition
        self.cause = cause
        self.side = side
        self.status = status


def no_final_answer(leg: Leg, data: Any) -> CallOver:
    """A trunk INVITE that timed out: no answer at all (Timer B, 408), never sent (a TCP
    connect failed, 503), or Timer C (it rang for over 3 minutes without a final answer and
    was CANCELled)."""
    leg.state = "ended"
    if isinstance(data, ProvisionalTimeout):
        return CallOver(Disposition.NO_ANSWER, "trunk rang without a final answer (Timer C)", "outside", 408)
    if isinstance(data, TransportFailed):  # RFC 3261 §8.1.3.1: as a 503
        return CallOver(Disposition.FAILED, "trunk unreachable", "outside", status=503)
    return CallOver(Disposition.FAILED, "trunk did not answer", "outside", status=408)


def ringback_tone() -> bytes:
    """One cadence of the European ringback tone: 425 Hz for 1 s, then 4 s of silence."""
    t = np.arange(RATE) / RATE
    tone = (0.25 * 32767 * np.sin(2 * np.pi * 425 * t)).astype("<i2")
    return tone.tobytes() + bytes(2 * 4 * RATE)


class CallPhases:
    """Shared phases; ``flows.Flows`` builds the inbound, outbound and internal calls on them."""

    def __init__(self, source: SipTrunkSource) -> None:
        self.src = source
        self.hub = source.hub
        self.label = source.label
        self._ringback = ringback_tone()

    @property
    def sig(self) -> Any:
        return self.src.signaller

    # -- legs ------------------------------------------------------------------------------------
    def callback(self, call: B2BCall, leg: Leg) -> Any:
        """The ``user_data`` of a leg's INVITE transaction: queue what happens to it."""

        def on_event(event: Any) -> None:
            if isinstance(event, ResponseReceived):
                resp = event.response
                if 200 <= resp.status < 300 and leg.ack is not None:
                    self.sig.reack(leg)  # a retransmitted 2xx: our ACK was lost
                    return
                if 200 <= resp.status < 300 and call.finished:
                    self.sig.ack(leg, resp)  # a phone that answered after the call ended
                    leg.state = "confirmed"
                    self.sig.bye(leg)
                    return
                if 100 < resp.status < 200 and not self.reliable_provisional(leg, resp):
                    return
                call.post("response", leg, resp)
            elif isinstance(event, TransactionTimeout):
                call.post("timeout", leg, event)
            elif isinstance(event, ProvisionalTimeout):
                # Timer C: the layer has CANCELled it; the leg is over (``no_final_answer``).
                leg.state = "ended"
                call.post("timeout", leg, event)

        return on_event

    def reliable_provisional(self, leg: Leg, resp: SipResponse) -> bool:
        """RFC 3262: PRACK a reliable 18x and keep its SDP as the leg's early answer; False
        for a repeat (or one out of order), which the call must not see again."""
        verdict = leg.provisionals.classify(resp)
        if verdict.kind is Reliability.MALFORMED:
            _LOGGER.warning("%s: %s: %s; taken without PRACK", self.label, leg.call_id, verdict.problem)
        if not verdict.take:
            return False
        if verdict.rack is not None and leg.invite is not None:
            self.sig.prack(leg, resp, verdict.rack)
            if resp.body and leg.early_answer is None:
                leg.early_answer = resp.body
        return True

    def uac_leg(self, call: B2BCall, role: str, addr: Addr, transport: str, **kw: Any) -> Leg:
        host = self.src.leg_address(addr[0], outside=role == "outside")
        leg = Leg(role, False, addr, transport, new_call_id(host), new_tag(), host, **kw)
        return self.src.b2bua.add_leg(call, leg)

    async def allocate(self, call: B2BCall, leg: Leg) -> None:
        leg.media = await self.src.relay.allocate()
        call.allocated.append(leg.media)

    def start_recording(
        self, call: B2BCall, outside: Leg, *, internal: bool = False, always: bool = False
    ) -> None:
        """The outside party's audio path opened: recording starts now, media set up.

        ``always``: record whatever ``should_record`` says (a test call exists to be recorded).
        """
        rec = call.record
        recording = None
        sink = self.hub.default_sink()
        wanted = always or self.hub.should_record(rec, record_internal=self.src.record_internal)
        if sink is not None and wanted:
            recording = CallRecording(self.hub, rec, sink, sample_rate=RATE)
            recording.start(time.monotonic())
        elif not internal:
            _LOGGER.info("%s: call %s is not recorded", self.label, rec.id)
        call.recording = recording
        assert outside.media is not None
        call.media = CallMedia(outside.media, recording)
        code = getattr(self.hub, "pause_code", None)
        if code and recording is not None:
            call.media.watch_keypad(code, lambda: self._keypad_pause(call))

    def _keypad_pause(self, call: B2BCall) -> None:
        """The pause code from the phone: pause the recording, or resume it if paused."""
        rec = call.recording
        if rec is None:
            return
        done = rec.resume("keypad") if rec.paused else rec.pause("keypad")
        if done:
            _LOGGER.info(
                "%s: call %s recording %s from the keypad",
                self.label,
                call.record.id,
                "paused" if rec.paused else "resumed",
            )
            self.hub.create_task(self.hub.call_updated(call.record), f"{self.label} keypad pause")

    # -- notice ---------------------------------------------------------------------------------
    async def play_notice(self, call: B2BCall, *, like: Call | None = None) -> None:
        """Play the whole notice to the outside party; the agent is not heard meanwhile.

        ``like``: choose the notice (and ``no_notice``) as for that call's line and direction
        instead of this call's own (a test call plays the notice of the line it tests).
        """
        rec = call.record
        probe = like or rec
        waived = self.src.no_notice.get(probe.line or "")
        if waived:
            rec.notice.waived_reason = waived
        notice = self.hub.notice_for(probe)
        if notice is None or call.media is None:
            if not waived and not rec.meta.get("not_recorded"):
                _LOGGER.warning("%s: call %s: no notice matches line %s", self.label, rec.id, probe.line)
            return
        pcm = notice.pcm(RATE)
        rec.notice.played = True
        rec.notice.name = getattr(notice, "name", None) or notice.id
        rec.notice.played_at = self.hub.now()
        media = call.media
        task = asyncio.get_running_loop().create_task(media.play(pcm, RATE), name=f"{self.label} notice")
        task.add_done_callback(lambda t: call.post("notice_done", None, t))
        try:
            while True:
                ev = await call.next()
                if ev is None:
                    continue
                if ev.kind == "notice_done":
                    complete = not ev.data.cancelled() and ev.data.exception() is None and ev.data.result()
                    rec.notice.complete = bool(complete)
                    await self.hub.notice_played(rec)
                    return
                self.common(call, ev)
        except BaseException:
            media.stop_playback()
            await asyncio.gather(task, return_exceptions=True)
            rec.notice.complete = False
            raise

    # -- ringing phones -------------------------------------------------------------------------
    async def ring(
        self,
        call: B2BCall,
        extensions: list[str],
        *,
        caller: str,
        prefer: Any,
        ringback: bool,
        ringing_to: Leg | None = None,
        remote: bool = True,
        display: str | None = None,
        ring_seconds: float | None = None,
    ) -> Leg | AgentPort:
        """Fork INVITEs to every registration of ``extensions`` and, with ``remote``, ring
        the extensions other sources own (browser phones, ``ExtensionRinger``) at the same
        time; the first to answer wins and the others are cancelled.

        The phones see ``caller`` as the From user and ``display`` (default: ``caller``) as
        its name; they ring for ``ring_seconds`` (default: the source's
        ``no_answer_timeout``)."""
        registrar, now = self.src.registrar, time.monotonic()
        targets = [(ext, b) for ext in extensions for b in registrar.bindings_for(ext, now)]
        ringers = remote_ringers(self.src, extensions) if remote else []
        call.ring_users = list(extensions)
        if not targets and not ringers:
            raise CallOver(Disposition.NO_ANSWER, "no extension registered", status=480)
        forks: list[Leg] = []
        shared = None
        if targets:
            shared = await self.src.relay.allocate()
            call.allocated.append(shared)
        port: AgentPort | None = None
        pending: list[asyncio.Task[Any]] = []
        if ringers:
            port = await AgentPort.open(self.src, call, prefer.name if prefer is not None else None)
            limit = self.src.no_answer_timeout if ring_seconds is None else ring_seconds
            pending = self._ring_remote(call, port, ringers, limit)
        for ext, binding in targets:
            leg = self.uac_leg(call, "inside", binding.addr, binding.transport, latch_any=True, extension=ext)
            leg.media = shared
            host = leg.local_host
            shown = (display or caller).replace("\\", "").replace('"', "")
            name = f'"{shown}" ' if shown else ""
            self.sig.invite(
                leg,
                request_uri=binding.contact,
                from_=f"{name}<sip:{caller or 'anonymous'}@{host}>",
                to=f"<sip:{ext}@{host}>",
                sdp=leg.make_offer(self.src.codecs, prefer=prefer),
                on_event=self.callback(call, leg),
            )
            forks.append(leg)
        tone = None
        if ringback and call.media is not None:
            tone = asyncio.get_running_loop().create_task(self._ringback_loop(call.media))
        loop = asyncio.get_running_loop()
        deadline = loop.time() + (self.src.no_answer_timeout if ring_seconds is None else ring_seconds)
        busy = 0
        chosen: Any = None
        try:
            while True:
                ev = await call.next(max(deadline - loop.time(), 0))
                if ev is None:
                    raise CallOver(Disposition.NO_ANSWER, "no answer", status=480)
                if ev.kind == "bye" and ev.leg is not None and ev.leg.role == "outside":
                    raise CallOver(Disposition.CANCELLED, "bye while ringing", "outside")
                if ev.kind == "agent_answer" and ev.data in pending:
                    assert port is not None
                    pending.remove(ev.data)
                    conn = _ring_result(ev.data)
                    if isinstance(conn, str):
                        busy += conn == "busy"
                        if not pending and all(f.state == "ended" for f in forks):
                            raise CallOver(*_nobody(busy, len(forks) + len(ringers), conn))
                        continue
                    chosen = conn
                    for other in forks:
                        if other.state != "ended":
                            self.sig.bye(other)
                    port.bind(conn, 8000)
                    return port
                if ev.leg not in forks or ev.kind not in ("response", "timeout"):
                    self.common(call, ev)
                    continue
                leg = ev.leg
                status = ev.data.status if ev.kind == "response" else 408
                if status < 200:
                    if status in (180, 183) and ringing_to is not None and ringing_to.state == "new":
                        self.sig.respond(ringing_to, 180)
                    continue
                if status < 300:
                    self.sig.ack(leg, ev.data)
                    leg.state = "confirmed"
                    try:
                        leg.take_answer(ev.data.body)
                    except NoCommonCodec:
                        self.sig.bye(leg)
                        status = 488
                    else:
                        for other in forks:
                            if other is not leg and other.state != "ended":
                                self.sig.bye(other)
                        return leg
                leg.state = "ended"
                leg.final_status = status
                busy += status in (486, 600)
                if all(f.state == "ended" for f in forks) and not pending:
                    raise CallOver(*_nobody(busy, len(forks) + len(ringers), f"answered {status}"))
        finally:
            if tone is not None and call.media is not None:
                call.media.stop_playback()
                await asyncio.gather(tone, return_exceptions=True)
            await _cancel_remote(pending, chosen)

    def _ring_remote(
        self, call: B2BCall, port: AgentPort, ringers: list[ExtensionRinger], seconds: float
    ) -> list[Any]:
        """One task per other source ringing its extensions; each posts ``agent_answer``."""
        record, users = call.record, call.ring_users
        tasks = []
        for ringer in ringers:
            mine = [u for u in users if ringer.has_extensions([u])]
            task = asyncio.get_running_loop().create_task(
                ringer.ring_extensions(
                    record,
                    mine,
                    on_audio=port.from_agent,
                    ring_seconds=seconds,
                    sample_rate=8000,
                ),
                name=f"{self.label} ring {ringer.id}",
            )
            task.add_done_callback(lambda t: call.post("agent_answer", None, t))
            tasks.append(task)
        return tasks

    async def _ringback_loop(self, media: CallMedia) -> None:
        for _ in range(1000):
            if not await media.play(self._ringback, RATE):
                return

    # -- talk ------------------------------------------------------------------------------------
    async def talk(self, call: B2BCall) -> None:
        while True:
            ev = await call.next()
            if ev is not None:
                self.common(call, ev)

    def common(self, call: B2BCall, ev: CallEvent) -> None:
        """Events every phase treats alike; raises CallOver when the call ends."""
        leg = ev.leg
        if self.transfer_event(call, ev):
            return
        if ev.kind == "bye" and leg is not None:
            answered = call.record.answered_at is not None
            raise CallOver(None if answered else Disposition.CANCELLED, "bye", leg.role)
        if ev.kind == "cancel":
            raise CallOver(
                Disposition.CANCELLED, "cancel", "outside" if leg and leg.role == "outside" else "inside"
            )
        if ev.kind == "hangup":
            raise CallOver(None, "shutdown", "salvesti", status=503)
        if ev.kind == "agent_gone":
            answered = call.record.answered_at is not None
            raise CallOver(None if answered else Disposition.CANCELLED, "bye", "inside")
        if ev.kind == "ack_timeout":
            raise CallOver(None, "no ACK", leg.role if leg else "salvesti")
        if ev.kind == "session_timer" and leg is not None and self.src.session_timers.due(call, leg):
            raise CallOver(None, "session expired", leg.role)
        if ev.kind == "session_lost" and leg is not None:
            raise CallOver(None, "session refresh failed", leg.role)
        if ev.kind == "reinvite" and leg is not None:
            self.reinvite(call, leg, ev.data)
        elif ev.kind == "refer" and leg is not None:
            self.refer(call, leg, ev.data)
        elif ev.kind == "response" and leg is not None:
            resp = ev.data
            if 200 <= resp.status < 300 and leg.ack is None and leg.invite is not None:
                self.sig.ack(leg, resp)  # a fork that answered after we chose another
                leg.state = "confirmed"
                self.sig.bye(leg)

    # -- mid-call (implemented in midcall.MidCall) --------------------------------------------
    def transfer_event(self, call: B2BCall, ev: CallEvent) -> bool:
        return False

    def reinvite(self, call: B2BCall, leg: Leg, ev: Any) -> None:
        self.sig.answer_request(ev.txn, ev.request, 488)

    def refer(self, call: B2BCall, leg: Leg, ev: Any) -> None:
        self.sig.answer_request(ev.txn, ev.request, 501)

    # -- the end -------------------------------------------------------------------------------
    async def finish(self, call: B2BCall, over: CallOver) -> None:
        """Tear down every leg still up, release the media and hand the call to the hub.

        Each step is guarded: whatever fails here, the recording is still finalised and the
        call still saved, because a lost call record is worse than a noisy log line.
        """
        rec = call.record
        call.finished = True
        for leg in call.legs:
            if leg.state == "ended":
                continue
            try:
                if leg.uas and leg.state in ("new", "early"):
                    self.sig.respond(leg, over.status)
                else:
                    self.sig.bye(leg)
            except Exception:
                _LOGGER.exception("%s: call %s: could not end %r", self.label, rec.id, leg)
        rec.ended_at = self.hub.now()
        if over.disposition is not None:
            rec.disposition = over.disposition
        elif rec.answered_at is not None:
            rec.disposition = Disposition.ANSWERED
        rec.meta.setdefault("sip", {}).update({"hangup_cause": over.cause, "hangup_side": over.side})
        await end_agent(call, over.cause)
        try:
            if call.media is not None:
                call.media.stop_playback()
                await call.media.close()
            for media in call.allocated:
                self.src.relay.release(media)
        except Exception:
            _LOGGER.exception("%s: call %s: could not release its media", self.label, rec.id)
        self.src.b2bua.forget(call)
        _LOGGER.info(
            "%s: call %s ended (%s, %s by %s)", self.label, rec.id, rec.disposition, over.cause, over.side
        )
        await self.hub.call_ended(rec, call.recording, rtp=rtp_counts(call.media))


def remote_ringers(src: SipTrunkSource, extensions: list[str]) -> list[ExtensionRinger]:
    """Other sources that own some of ``extensions`` (browser phones of a ``webrtc`` source)."""
    found = []
    for other in src.hub.sources.values():
        if other is src or not isinstance(other, ExtensionRinger):
            continue
        if other.has_extensions([e for e in extensions if e not in src.extensions]):
            found.append(other)
    return found


def _ring_result(task: asyncio.Task[Any]) -> Any:
    """A ringer's answer: the connection, or why there is none (a failure is ``failed``)."""
    if task.cancelled():
        return "failed"
    err = task.exception()
    if err is not None:
        _LOGGER.warning("ringing %s failed: %s", task.get_name(), err)
        return "failed"
    return task.result()


def _nobody(busy: int, rung: int, why: str) -> tuple[Disposition, str, str, int]:
    """Every phone and ringer has answered no: busy when all were busy."""
    disposition = Disposition.BUSY if busy == rung else Disposition.NO_ANSWER
    return disposition, f"extensions {why}", "salvesti", 486 if busy else 480


async def _cancel_remote(pending: list[asyncio.Task[Any]], chosen: Any) -> None:
    """Stop the ringers still ringing; one that answered too late is hung up."""
    for task in pending:
        task.cancel()
    for task in pending:
        try:
            conn = await task
        except BaseException:  # cancelled, or it failed: nothing to hang up
            continue
        if conn is not chosen and not isinstance(conn, str):
            await conn.hangup()


async def end_agent(call: B2BCall, cause: str) -> None:
    """Tell an agent inside party (a browser tab) the call ended, and end its side."""
    port, link = call.agent, call.agent_link
    if port is not None and port.left:
        return  # it left already (transferred) and was told then
    if link is not None and isinstance(link, AgentLink):
        try:
            link.progress("ended", reason=cause)
        except Exception:
            _LOGGER.exception("%s: agent progress failed", call.label)
    if port is not None:
        await port.close()
    elif link is not None:
        try:
            await link.hangup()
        except Exception:
            _LOGGER.exception("%s: agent hangup failed", call.label)
