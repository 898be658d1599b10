"""The ``serial_at`` call source: an analogue or GSM line through a USB AT device.

This is the thin I/O adapter around :class:`~salvesti.core.protocols.at.ATCommander`: it
moves bytes between the serial link and the commander, arms the commander's one timer on
the loop, and turns its events into calls.  Inbound calls: RING (and caller ID) start a
call, the ``answer_after_rings``-th RING answers it, the notice plays to the caller, both
directions are recorded until a hang-up is detected (the profile says how), then the line
is hung up and the hub finalises the recording.

Unplugging the device ends a call in progress (the recording keeps what was heard) and the
source reconnects with backoff; a device absent at start is a ``NotReady`` for the hub.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

import serial

from salvesti.core import control
from salvesti.core.bus import SOURCE_STATUS
from salvesti.core.call import Call, Direction, Disposition, new_call_id
from salvesti.core.errors import NotReady, SalvestiError
from salvesti.core.protocols.at import (
    VOICE_END,
    ATCommander,
    CallerId,
    CommandDone,
    CommandHandle,
    CommandTimeout,
    Event,
    HangupDetected,
    ProtocolError,
    Ring,
    VoiceData,
)
from salvesti.core.recording import CallRecording
from salvesti.hardware import Command, load_profile

from .bridge import ring_and_bridge
from .garbage import GarbageLog
from .link import SerialLink
from .media import DleMedia, PortMedia
from .outbound import DialError, is_dial_answer, place_call
from .schema import notice_problem

_LOGGER = logging.getLogger(__name__)
_LOST = object()
RECONNECT_FIRST = 1.0
RECONNECT_MAX = 30.0
#: Seconds to wait for the modem's final result after a V.253 voice data state.
VOICE_END_WAIT = 5.0


class SerialAtSource:
    """Implements ``core.components.CallSource`` for one serial AT device."""

    def __init__(self, hub: Any, conf: dict[str, Any]) -> None:
        self.hub = hub
        self.conf = conf
        self.id: str = conf["id"]
        self.profile = load_profile(conf["profile"])
        self.device: str = conf["device"]
        self.audio_device: str | None = conf.get("audio_device")
        self.line: str = hub.normalize(conf["line"]) or conf["line"]
        self.answer_after: int = conf.get("answer_after_rings", 2)
        self.ring_timeout: float = conf.get("ring_timeout", 10.0)
        self.baudrate: int = conf.get("baudrate") or self.profile.baudrate
        self.sink_id: str | None = conf.get("sink")
        self.full_duplex: bool = conf.get("full_duplex", False)
        self.label = f"serial_at({self.id})"
        self.garbage = GarbageLog(_LOGGER, self.label, self.device)
        self._link: SerialLink | None = None
        self._cmdr = ATCommander()
        self._pending: dict[int, tuple[CommandHandle, asyncio.Future[Any]]] = {}
        self._voice_end: asyncio.Future[Any] | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._events: asyncio.Queue[Any] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._call_task: asyncio.Task[None] | None = None
        self._intake = True
        self.call: Call | None = None
        self._rings = 0
        self._last_cid: CallerId | None = None
        self.hangup_event = asyncio.Event()
        self.voice_sink: Callable[[bytes], None] | None = None
        #: Set while an outbound call waits for its answer URC (see ``outbound.py``).
        self.dial_answered: asyncio.Event | None = None

    @classmethod
    def from_config(cls, hub: Any, conf: dict[str, Any]) -> SerialAtSource:
        return cls(hub, conf)

    def __repr__(self) -> str:
        return self.label

    # -- component ----------------------------------------------------------------------
    async def async_setup(self) -> None:
        probe = Call("probe", self.id, Direction.INBOUND, self.line, None, self.hub.now())
        problem = notice_problem(self.conf, self.hub.notice_for(probe) is not None)
        if problem:
            raise SalvestiError(f"sources ({self.id}): {problem}")
        await self._connect()
        self._task = self.hub.create_task(self._run(), name=f"{self.label} events")
        await control.acquire(self.hub)

    async def async_unload(self) -> None:
        await control.release(self.hub)
        await self.hangup_all()
        if self._task is not None:
            self._task.cancel()
            await asyncio.wait([self._task])  # our own cancellation still propagates
            self._task = None
        self._disconnect()

    def stop_intake(self) -> None:
        self._intake = False

    async def dial(self, number: str, *, extension: str | None = None) -> Call:
        """``core.components.Dialer``: call ``number`` through the device (``outbound.py``)."""
        if not self._intake:
            raise DialError("shutting down")
        return await place_call(self, number, extension)

    def active_calls(self) -> int:
        return 0 if self.call is None else 1

    async def hangup_all(self) -> None:
        if self.call is None:
            return
        self.hangup_event.set()
        task = self._call_task
        if task is not None:
            await asyncio.shield(task)
        elif self.call is not None:
            await self._end(self.call, Disposition.CANCELLED, "shutdown")

    # -- the link and the commander ---------------------------------------------------------
    @property
    def connected(self) -> bool:
        return self._link is not None and self._link.is_open

    async def _connect(self) -> None:
        self._cmdr = ATCommander()
        link = SerialLink(self.device, self.baudrate, self._on_data, self._on_lost, label=self.label)
        try:
            link.open()
        except (OSError, serial.SerialException) as err:
            raise NotReady(f"{self.device}: cannot open: {err}") from err
        self._link = link
        for cmd in self.profile.init:
            result = await self.command(cmd)
            if isinstance(result, CommandTimeout):
                self._disconnect()
                raise NotReady(f"{self.device}: no answer to {cmd.cmd} (is it a {self.profile.title}?)")
            if not result.ok and not cmd.optional:
                self._disconnect()
                raise SalvestiError(f"{self.device}: {cmd.cmd} answered {result.final}")
        _LOGGER.info("%s: %s ready on %s", self.label, self.profile.name, self.device)

    def _disconnect(self) -> None:
        if self._link is not None:
            self._link.close()
            self._link = None
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        for handle, fut in self._pending.values():
            if not fut.done():
                fut.set_result(CommandTimeout(handle.cmd))
        self._pending.clear()
        if self._voice_end is not None and not self._voice_end.done():
            self._voice_end.set_result(CommandTimeout(VOICE_END))

    async def command(self, cmd: Command) -> CommandDone | CommandTimeout:
        """Send one AT command and wait for its final result (or timeout)."""
        if not self.connected:
            return CommandTimeout(cmd.cmd)
        loop = asyncio.get_running_loop()
        handle = self._cmdr.send(cmd.cmd, cmd.timeout, loop.time())
        fut: asyncio.Future[Any] = loop.create_future()
        self._pending[id(handle)] = (handle, fut)
        self._pump()
        return await fut

    def send_voice(self, data: bytes) -> None:
        if self._cmdr.voice_mode in ("tx", "duplex"):
            self._cmdr.send_voice(data)
            self._pump()

    async def end_voice(self) -> None:
        """Leave the V.253 voice data state and wait for the modem's final result."""
        if self._cmdr.voice_mode is None:
            return
        loop = asyncio.get_running_loop()
        self._voice_end = loop.create_future()
        self._cmdr.end_voice(loop.time())
        self._pump()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._voice_end, VOICE_END_WAIT)
        self._voice_end = None

    def _on_data(self, data: bytes) -> None:
        _LOGGER.debug("%s: < %r", self.label, data[:200])
        self._dispatch(self._cmdr.feed(data, asyncio.get_running_loop().time()))

    def _on_timer(self) -> None:
        self._timer = None
        self._dispatch(self._cmdr.handle_timer(asyncio.get_running_loop().time()))

    def _on_lost(self, reason: str) -> None:
        self._link = None
        self._disconnect()
        self._events.put_nowait(_LOST)

    def audio_lost(self, reason: str) -> None:
        """The audio port went away (unplugged with the AT port, usually): end the call."""
        if self.call is not None:
            self.call.meta.setdefault("hangup", "device lost")
            self.call.meta.setdefault("audio_error", reason)
        self.hangup_event.set()

    def _dispatch(self, events: list[Event]) -> None:
        for event in events:
            if isinstance(event, VoiceData):
                if self.voice_sink is not None:
                    self.voice_sink(event.data)
            elif isinstance(event, CommandDone | CommandTimeout):
                if event.cmd == VOICE_END:
                    if self._voice_end is not None and not self._voice_end.done():
                        self._voice_end.set_result(event)
                    continue
                for key, (handle, fut) in list(self._pending.items()):
                    if handle.result is event:
                        del self._pending[key]
                        if not fut.done():
                            fut.set_result(event)
            else:
                self._events.put_nowait(event)
        self._pump()

    def _pump(self) -> None:
        """Write what the commander has for the device and re-arm its timer."""
        if self._link is None:
            return
        out = self._cmdr.data_to_send()
        if out:
            if self._cmdr.voice_mode is None:
                _LOGGER.debug("%s: > %r", self.label, out[:200])
            self._link.write(out)
        when = self._cmdr.next_timer()
        if self._timer is not None and (when is None or self._timer.when() != when):
            self._timer.cancel()
            self._timer = None
        if when is not None and self._timer is None:
            self._timer = asyncio.get_running_loop().call_at(when, self._on_timer)

    # -- calls ------------------------------------------------------------------------------
    async def _run(self) -> None:
        while True:
            timeout = self.ring_timeout if self.call is not None and self._call_task is None else None
            try:
                event = await asyncio.wait_for(self._events.get(), timeout)
            except TimeoutError:
                if self.call is not None and self._call_task is None:
                    await self._end(self.call, Disposition.CANCELLED, "rings stopped")
                continue
            try:
                await self._handle(event)
            except asyncio.CancelledError:
                raise
            except Exception:  # one bad event must not stop the line from answering
                _LOGGER.exception("%s: handling %s failed", self.label, event)

    async def _handle(self, event: Any) -> None:
        if event is _LOST:
            await self._reconnect()
        elif isinstance(event, Ring):
            await self._on_ring()
        elif isinstance(event, CallerId):
            self._on_caller_id(event)
        elif isinstance(event, HangupDetected):
            await self._on_hangup(event.reason)
        elif self.dial_answered is not None and is_dial_answer(event):
            self.dial_answered.set()
        elif isinstance(event, ProtocolError):
            self.garbage.add(event, asyncio.get_running_loop().time())
        else:
            _LOGGER.debug("%s: %s", self.label, event)

    async def _on_ring(self) -> None:
        if self.call is None:
            if not self._intake:
                return
            now = self.hub.now()
            self.call = Call(
                id=new_call_id(now),
                source=self.id,
                direction=Direction.INBOUND,
                line=self.line,
                remote_number=None,
                started_at=now,
            )
            self.call.meta["profile"] = self.profile.name
            self._rings = 0
            self.hangup_event = asyncio.Event()
            if self._last_cid is not None:
                self._on_caller_id(self._last_cid)
            await self.hub.call_started(self.call)
        self._rings += 1
        if self._rings >= self.answer_after and self._call_task is None:
            self._call_task = self.hub.create_task(self._answer(self.call), name=f"{self.label} call")

    def _on_caller_id(self, cid: CallerId) -> None:
        self._last_cid = cid
        if self.call is None:
            return
        self.call.remote_number = self.hub.normalize(cid.number) if cid.number else None
        self.call.meta["caller_id"] = cid.validity
        if cid.name:
            self.call.meta["caller_name"] = cid.name

    async def _on_hangup(self, reason: str) -> None:
        call = self.call
        if call is None:
            return
        call.meta.setdefault("hangup", reason)
        if self._call_task is None:
            await self._end(call, Disposition.CANCELLED, reason)
        else:
            self.hangup_event.set()

    async def _answer(self, call: Call) -> None:
        for cmd in self.profile.answer:
            result = await self.command(cmd)
            if not getattr(result, "ok", False):
                call.meta["answer_failed"] = getattr(result, "final", "timeout")
                await self._end(call, Disposition.FAILED, f"{cmd.cmd} failed", hangup=True)
                return
        await self.converse(call, None)

    async def converse(self, call: Call, users: list[str] | None) -> None:
        """The answered call (either direction) until it ends: the recording starts, the
        notice plays, ``users`` (default: the ``extensions:``) ring and one is bridged,
        then both directions are recorded until a hang-up; then the call ends."""
        recording = None
        media: PortMedia | DleMedia | None = None
        try:
            call.answered_at = self.hub.now()
            await self.hub.call_answered(call)
            recording = self._recording(call)
            if recording is not None:
                recording.start(self.hub.monotonic())
            if self.profile.audio.transport == "separate_port":
                media = PortMedia(self, recording, self.audio_device or "")
            else:
                media = DleMedia(self, recording)
            await media.start()
            await self._notice(call, media)
            await ring_and_bridge(self, call, media, users)
            await media.record_until(self.hangup_event)
        except (OSError, serial.SerialException) as err:
            _LOGGER.warning("%s: call %s: audio failed: %s", self.label, call.id, err)
            call.meta["audio_error"] = str(err)
        finally:
            if media is not None:
                await media.stop()
            if self.call is call:
                await self._end(call, Disposition.ANSWERED, None, hangup=True, recording=recording)

    async def _notice(self, call: Call, media: PortMedia | DleMedia) -> None:
        if self.conf.get("no_notice"):
            call.notice.waived_reason = self.conf["no_notice"]
        notice = self.hub.notice_for(call)
        if notice is None:
            if not call.notice.waived_reason and not call.meta.get("not_recorded"):
                _LOGGER.warning("%s: call %s: no notice matches line %s", self.label, call.id, call.line)
            return
        pcm = notice.pcm(self.profile.audio.sample_rate)
        call.notice.name = getattr(notice, "name", notice.id)
        call.notice.played_at = self.hub.now()
        call.notice.played = True
        call.notice.complete = await media.play(pcm, self.hangup_event)
        await self.hub.notice_played(call)

    def _recording(self, call: Call) -> CallRecording | None:
        if not self.hub.should_record(call):
            return None
        sink = self.hub.sinks.get(self.sink_id) if self.sink_id else self.hub.default_sink()
        if sink is None:
            _LOGGER.warning("%s: no sink configured: call %s is not recorded", self.label, call.id)
            return None
        return CallRecording(self.hub, call, sink, sample_rate=self.profile.audio.sample_rate)

    async def _end(
        self,
        call: Call,
        disposition: Disposition,
        reason: str | None,
        *,
        hangup: bool = False,
        recording: CallRecording | None = None,
    ) -> None:
        if self.call is not call:
            return
        if hangup and self.connected:
            for cmd in self.profile.hangup:
                await self.command(cmd)
        call.ended_at = self.hub.now()
        call.disposition = disposition
        if reason:
            call.meta.setdefault("hangup", reason)
        self.call = None
        self._call_task = None
        self._last_cid = None
        self._rings = 0
        _LOGGER.info("%s: call %s ended (%s)", self.label, call.id, call.meta.get("hangup", disposition))
        await self.hub.call_ended(call, recording)

    def _status(self, state: str, reason: str | None = None) -> None:
        """Tell integrations (MQTT, the UI) that the device left or came back; the hub's
        own entry state stays ``loaded`` because the source keeps running meanwhile."""
        data = {"kind": "source", "id": self.id, "platform": "serial_at", "state": state, "reason": reason}
        self.hub.bus.publish(SOURCE_STATUS, data)

    async def _reconnect(self) -> None:
        """The device went away: end the call, then reopen with backoff until it is back."""
        _LOGGER.warning("%s: %s is gone; reconnecting", self.label, self.device)
        self._status("disconnected", f"{self.device} is gone")
        if self.call is not None:
            self.call.meta.setdefault("hangup", "device lost")
            self.hangup_event.set()
            if self._call_task is not None:
                await asyncio.shield(self._call_task)
            elif self.call is not None:
                await self._end(self.call, Disposition.CANCELLED, "device lost")
        delay = RECONNECT_FIRST
        while True:
            await asyncio.sleep(delay)
            try:
                await self._connect()
                self._status("loaded")
                return
            except SalvestiError as err:
                _LOGGER.info("%s: still not back: %s", self.label, err)
                delay = min(delay * 2, RECONNECT_MAX)
