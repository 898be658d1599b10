"""Ringing this source's phones for a call that another source owns (``ExtensionRinger``).

The serial AT source answers an analogue or GSM line, plays the notice and then wants the
office phones to ring, exactly as an inbound trunk call would.  It must not import SIP code
(dependencies point inward), so it finds this source in ``hub.sources`` as a
``core.components.ExtensionRinger`` and calls :func:`ring_for` through
``SipTrunkSource.ring_extensions``.

Here the phones' side is an ordinary forked ring (``CallPhases.ring``: INVITE to every
registration, the first 2xx wins, the others get CANCEL) on a :class:`B2BCall` that has no
outside SIP leg: the outside party's audio is PCM handed in by the other source
(:meth:`ExtensionBridge.send`), and the phone's audio goes back through a callback.  The
call record stays the other source's (it saves and records it); only the extension is added.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from salvesti.core.audio.codecs import resample
from salvesti.core.call import Call, Disposition
from salvesti.integrations.sip.call import B2BCall, Leg
from salvesti.integrations.sip.phases import CallOver

if TYPE_CHECKING:
    from salvesti.integrations.sip.media_leg import Header, MediaLeg
    from salvesti.integrations.sip.source import SipTrunkSource

_LOGGER = logging.getLogger(__name__)
PTIME_MS = 20


class ExtensionBridge:
    """One answered phone bridged to PCM audio (implements ``InsideConnection``)."""

    def __init__(
        self, src: SipTrunkSource, b2b: B2BCall, leg: Leg, on_audio: Callable[[bytes], None], rate: int
    ) -> None:
        assert leg.media is not None and leg.extension is not None
        self.src = src
        self.b2b = b2b
        self.leg = leg
        self.media: MediaLeg = leg.media
        self.extension: str = leg.extension
        self.on_audio = on_audio
        self.rate = rate
        self.ended = asyncio.Event()
        self._buf = b""
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self.media.handler = self._from_phone
        self._task = self.src.hub.create_task(self._watch(), f"{self.src.label} bridge {self.b2b.record.id}")

    # -- audio ----------------------------------------------------------------------------------
    def _from_phone(self, leg: MediaLeg, data: bytes, hdr: Header, now: float) -> None:
        if hdr[1] != leg.payload_type or leg.decoder is None:
            return  # telephone-event, comfort noise: nothing to play on a phone line
        pcm = leg.decoder.decode(data[hdr[5] : hdr[6]])
        if leg.decoder.sample_rate != self.rate:
            pcm = resample(pcm, leg.decoder.sample_rate, self.rate)
        try:
            self.on_audio(pcm)
        except Exception:  # the other source's trouble must not stop the RTP reader
            _LOGGER.exception("%s: bridge audio callback failed", self.src.label)

    def send(self, pcm: bytes) -> None:
        """The outside party's audio (s16le at ``rate``) to the phone, in 20 ms RTP frames.

        The device delivers audio at its real rate, so sending frames as they fill paces
        the stream; the leg keeps one continuous sequence/timestamp space.
        """
        leg = self.media
        enc = leg.encoder
        if enc is None or leg.payload_type is None or self.ended.is_set():
            return
        if enc.sample_rate != self.rate:
            pcm = resample(pcm, self.rate, enc.sample_rate)
        self._buf += pcm
        size = enc.samples_per_frame(PTIME_MS) * 2
        step = enc.timestamp_step(PTIME_MS)
        while len(self._buf) >= size:
            frame, self._buf = self._buf[:size], self._buf[size:]
            leg.send_frame(enc.encode(frame), leg.payload_type, step)

    # -- signalling -------------------------------------------------------------------------------
    async def _watch(self) -> None:
        """Consume the phone leg's SIP events until the phone or we hang up."""
        flows = self.src.flows
        try:
            while True:
                ev = await self.b2b.next()
                if ev is None:
                    continue
                try:
                    flows.common(self.b2b, ev)
                except CallOver as over:
                    self.b2b.record.meta.setdefault("sip", {})["hangup_side"] = over.side
                    return
        finally:
            await teardown(self.src, self.b2b)
            self.ended.set()

    async def hangup(self) -> None:
        """End the phone's side (BYE); returns when it is torn down. Idempotent."""
        if self._task is None or self._task.done():
            return
        self.b2b.post("hangup")
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(asyncio.shield(self._task), 5)


async def teardown(src: SipTrunkSource, b2b: B2BCall) -> None:
    """BYE / CANCEL every leg still up, give the RTP ports back, forget the call."""
    b2b.finished = True
    for leg in b2b.legs:
        try:
            src.signaller.bye(leg)
        except Exception:
            _LOGGER.exception("%s: could not end %r", src.label, leg)
    for media in b2b.allocated:
        media.handler = None
        src.relay.release(media)
    b2b.allocated.clear()
    src.b2bua.forget(b2b)
    await asyncio.sleep(0)


async def ring_for(
    src: SipTrunkSource,
    call: Call,
    users: list[str],
    *,
    on_audio: Callable[[bytes], None],
    ring_seconds: float,
    sample_rate: int = 8000,
) -> ExtensionBridge | str:
    """``SipTrunkSource.ring_extensions``: see ``core.components.ExtensionRinger``."""
    users = [u for u in users if u in src.extensions]
    if not users:
        return "not_registered"
    b2b = B2BCall(call, src.label)
    src.b2bua.calls.add(b2b)  # so the source's shutdown ends it like its own calls
    reason = "failed"
    try:
        async with asyncio.timeout(ring_seconds):
            leg = await src.flows.ring(
                b2b, users, caller=call.remote_number or "", prefer=None, ringback=False, remote=False
            )
            assert isinstance(leg, Leg)
    except TimeoutError:
        reason = "no_answer"
    except CallOver as over:
        if over.disposition == Disposition.BUSY:
            reason = "busy"
        elif over.cause == "no extension registered":
            reason = "not_registered"
        elif over.disposition == Disposition.NO_ANSWER:
            reason = "no_answer"
    except BaseException:
        await teardown(src, b2b)
        raise
    else:
        bridge = ExtensionBridge(src, b2b, leg, on_audio, sample_rate)
        call.add_extension(bridge.extension)
        if leg.codec is not None:
            call.meta.setdefault("sip", {})["inside_codec"] = leg.codec[1].name
        bridge.start()
        return bridge
    await teardown(src, b2b)
    return reason
