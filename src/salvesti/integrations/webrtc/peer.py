"""One browser call's media: an aiortc peer connection and the audio both ways.

:class:`BrowserCall` is what the SIP source sees of the tab (``core.components.AgentLink``):
``send`` takes the outside party's audio (8 kHz mono s16le), ``listen`` says where the
agent's goes, ``progress`` reports how the call goes, ``ended`` is set when the tab's
side ends.  The page offers (Opus first, PCMU/PCMA too, as the browser does); aiortc
answers and does DTLS-SRTP.  aiortc decodes Opus in its own thread; the 48 kHz audio is
brought to 8 kHz by libav's resampler (C) before it leaves for the call.  Towards the
browser :class:`OutsideTrack` is paced by its own clock and plays silence when nothing
came, so a late packet from the trunk is a gap, not a stall.
"""

from __future__ import annotations

import asyncio
import contextlib
import fractions
import logging
import time
from collections.abc import Callable
from typing import Any

import av
from aiortc import MediaStreamTrack, RTCConfiguration, RTCIceServer, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError
from aiortc.sdp import candidate_from_sdp

from salvesti.core.components import CallControl
from salvesti.integrations.webrtc.ice import offering

_LOGGER = logging.getLogger(__name__)

RATE = 8000
FRAME_S = 0.02
FRAME_SAMPLES = int(RATE * FRAME_S)
#: Outside audio buffered towards the browser beyond this is dropped (latency stays low).
MAX_BUFFER = RATE * 2 // 5  # 200 ms of s16


class OutsideTrack(MediaStreamTrack):
    """The outside party's audio as the track the browser hears, 20 ms frames on time."""

    kind = "audio"

    def __init__(self) -> None:
        super().__init__()
        self._buf = bytearray()
        self._start: float | None = None
        self._count = 0
        self.muted = False

    def feed(self, pcm: bytes) -> None:
        buf = self._buf
        buf += pcm
        if len(buf) > MAX_BUFFER:
            del buf[: len(buf) - MAX_BUFFER]

    async def recv(self) -> av.AudioFrame:
        if self.readyState != "live":
            raise MediaStreamError
        now = time.monotonic()
        if self._start is None:
            self._start = now
        due = self._start + self._count * FRAME_S
        if due > now:
            await asyncio.sleep(due - now)
        elif now - due > 0.2:  # the loop stalled: start the clock again rather than burst
            self._start, self._count = now, 0
        size = FRAME_SAMPLES * 2
        if len(self._buf) >= size and not self.muted:
            chunk = bytes(self._buf[:size])
            del self._buf[:size]
        else:
            chunk = bytes(size)
            if self.muted:
                self._buf.clear()
        frame = av.AudioFrame(format="s16", layout="mono", samples=FRAME_SAMPLES)
        frame.planes[0].update(chunk)
        frame.sample_rate = RATE
        frame.pts = self._count * FRAME_SAMPLES
        frame.time_base = fractions.Fraction(1, RATE)
        self._count += 1
        return frame


class BrowserCall:
    """A tab's side of one call (implements ``core.components.AgentLink``)."""

    def __init__(
        self,
        extension: str,
        *,
        ice_servers: list[dict[str, Any]],
        addresses: list[str],
        tell: Callable[[dict[str, Any]], None],
        call_id: str | None = None,
    ) -> None:
        self.extension = extension
        self.call_id = call_id
        self.ended = asyncio.Event()
        self.connected = asyncio.Event()
        self.failed: str | None = None
        self.control: CallControl | None = None
        self._tell = tell
        self._addresses = addresses
        self._on_audio: Callable[[bytes], None] | None = None
        self._outside = OutsideTrack()
        self._reader: asyncio.Task[None] | None = None
        self._resampler = av.AudioResampler(format="s16", layout="mono", rate=RATE)
        self._held = False
        self._remote_set = False
        self._early: list[tuple[str, str | None, int | None]] = []
        self.stats = {"frames_in": 0, "frames_out_dropped": 0}
        servers = [
            RTCIceServer(urls=s["urls"], username=s.get("username"), credential=s.get("credential"))
            for s in ice_servers
        ]
        self.pc = RTCPeerConnection(RTCConfiguration(iceServers=servers))
        self.pc.on("iceconnectionstatechange", self._ice_changed)
        self.pc.on("track", self._track)

    # -- offer/answer ------------------------------------------------------------------------
    async def answer(self, offer_sdp: str) -> str:
        """Take the page's offer; return our answer (all our candidates in it: no trickle
        from the box, so one message carries everything the page needs)."""
        pc = self.pc
        await pc.setRemoteDescription(RTCSessionDescription(sdp=offer_sdp, type="offer"))
        self._remote_set = True
        for early in self._early:
            await self.add_candidate(*early)
        self._early.clear()
        for transceiver in pc.getTransceivers():
            if transceiver.kind == "audio":
                transceiver.direction = "sendrecv"
                transceiver.sender.replaceTrack(self._outside)
        with offering(self._addresses):
            await pc.setLocalDescription(await pc.createAnswer())
        return str(pc.localDescription.sdp)

    async def add_candidate(self, text: str, sdp_mid: str | None, index: int | None) -> None:
        """The page's trickled candidate; an empty one ends its candidates.  Candidates
        that come before the offer is applied wait for it."""
        if not self._remote_set:
            if len(self._early) < 50:
                self._early.append((text, sdp_mid, index))
            return
        line = text[len("candidate:") :] if text.startswith("candidate:") else text
        if not line.strip():
            await self.pc.addIceCandidate(None)  # type: ignore[arg-type]
            return
        cand = candidate_from_sdp(line)
        cand.sdpMid = sdp_mid
        cand.sdpMLineIndex = index
        await self.pc.addIceCandidate(cand)

    async def wait_connected(self, within: float) -> bool:
        """True once ICE connects; False when it fails or ``within`` seconds pass (``failed`` says)."""
        try:
            async with asyncio.timeout(within):
                done = asyncio.ensure_future(self.connected.wait())
                gone = asyncio.ensure_future(self.ended.wait())
                try:
                    await asyncio.wait({done, gone}, return_when=asyncio.FIRST_COMPLETED)
                finally:
                    done.cancel()
                    gone.cancel()
        except TimeoutError:
            self.failed = self.failed or "ice_timeout"
            return False
        if not self.connected.is_set():
            self.failed = self.failed or "ice_failed"
        return self.connected.is_set()

    def _ice_changed(self) -> None:
        state = self.pc.iceConnectionState
        if state in ("connected", "completed"):
            self.connected.set()
        elif state in ("failed", "closed") and not self.ended.is_set():
            self.failed = self.failed or ("ice_failed" if state == "failed" else None)
            self.ended.set()

    def _track(self, track: MediaStreamTrack) -> None:
        if track.kind == "audio" and self._reader is None:
            self._reader = asyncio.get_running_loop().create_task(self._read(track))

    async def _read(self, track: MediaStreamTrack) -> None:
        """The agent's audio: decoded by aiortc, resampled to 8 kHz mono, handed on."""
        with contextlib.suppress(MediaStreamError, asyncio.CancelledError):
            while True:
                frame = await track.recv()
                self.stats["frames_in"] += 1
                target = self._on_audio
                if target is None:
                    continue
                for out in self._resampler.resample(frame):
                    pcm = bytes(out.planes[0])[: out.samples * 2]
                    if self._held:
                        pcm = bytes(len(pcm))
                    try:
                        target(pcm)
                    except Exception:
                        _LOGGER.exception("webrtc: agent audio callback failed")

    # -- AgentLink ------------------------------------------------------------------------------
    def send(self, pcm: bytes) -> None:
        self._outside.feed(pcm)

    def listen(self, on_audio: Callable[[bytes], None]) -> None:
        self._on_audio = on_audio

    def progress(self, state: str, control: CallControl | None = None, reason: str | None = None) -> None:
        if control is not None:
            self.control = control
        msg: dict[str, Any] = {"type": "state", "state": state, "call": self.call_id}
        if state == "ended" and self.failed:
            reason = self.failed  # the page should say why the media failed, not just "bye"
        if reason:
            msg["reason"] = reason
        self._tell(msg)

    def hold(self, on: bool) -> None:
        """Hold from the page: the outside party hears silence and the agent hears nothing."""
        self._held = on
        self._outside.muted = on
        if self.control is not None:
            self.control.hold(on)

    async def hangup(self) -> None:
        """End the tab's side (idempotent): the peer connection closes."""
        if not self.ended.is_set():
            self.ended.set()
        if self._reader is not None:
            self._reader.cancel()
        self._outside.stop()
        with contextlib.suppress(Exception):
            await self.pc.close()
