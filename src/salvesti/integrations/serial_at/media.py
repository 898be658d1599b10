"""The audio of one serial call: play the notice to the far party, record both directions.

Two transports, as the profile says:

- :class:`PortMedia`: PCM on a second serial port (SIMCom after ``AT+CPCMREG=1``, Quectel
  after ``AT+QPCMV=1,0``), full duplex: the far party is recorded from the moment the audio
  starts, while the notice plays.
- :class:`DleMedia`: V.253 voice data on the AT port, half duplex: ``AT+VTX`` plays the
  notice, then ``AT+VRX`` records the far party until a hang-up is detected.

Both place audio on the wall clock through :class:`~salvesti.core.recording.CallRecording`
(left = what the outside party said, right = what it heard).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from salvesti.core.protocols.at.pcm import bytes_per_sample, from_linear16, to_linear16
from salvesti.core.recording import HEARD, OUTSIDE, CallRecording

from .link import SerialLink

if TYPE_CHECKING:
    from .source import SerialAtSource

_LOGGER = logging.getLogger(__name__)
FRAME_S = 0.02
#: A gap this long in received audio re-anchors it to the clock (device stalled or dropped).
_RESYNC_S = 0.2


class _Receiver:
    """Turns a byte stream of device samples into recording chunks on the clock."""

    def __init__(
        self, recording: CallRecording | None, encoding: str, rate: int, channel: int = OUTSIDE
    ) -> None:
        self.recording = recording
        self.channel = channel
        #: While bridged to an extension: gets every chunk (s16le) as it arrives.
        self.tap: Callable[[bytes], None] | None = None
        self.encoding = encoding
        self.rate = rate
        self.width = bytes_per_sample(encoding)
        self._carry = b""
        self._next: float | None = None
        self.received = 0

    def feed(self, data: bytes) -> None:
        data = self._carry + data
        cut = len(data) - len(data) % self.width
        data, self._carry = data[:cut], data[cut:]
        if not data:
            return
        pcm = to_linear16(data, self.encoding)
        n = len(pcm) // 2
        self.received += n
        now = time.monotonic()
        arrived_start = now - n / self.rate
        if self._next is None or abs(arrived_start - self._next) > _RESYNC_S:
            self._next = arrived_start
        if self.recording is not None:
            self.recording.put(self.channel, pcm, self._next)
        self._next += n / self.rate
        if self.tap is not None:
            self.tap(pcm)


class _Media:
    def __init__(self, source: SerialAtSource, recording: CallRecording | None) -> None:
        self.source = source
        self.recording = recording
        audio = source.profile.audio
        self.rate = audio.sample_rate
        self.encoding = audio.encoding
        self.receiver = _Receiver(recording, self.encoding, self.rate)
        #: What the outside party hears from a bridged extension, placed on the clock.
        self.heard = _Receiver(recording, "s16le", self.rate, channel=HEARD)

    @property
    def full_duplex(self) -> bool:
        """Whether audio can flow both ways at once (needed to bridge an extension)."""
        return True

    def _write(self, data: bytes) -> None:
        raise NotImplementedError

    def send_pcm(self, pcm: bytes) -> None:
        """Bridged extension audio (s16le) to the line, and to the recording's right channel."""
        self._write(from_linear16(pcm, self.encoding))
        self.heard.feed(pcm)

    async def _paced(self, pcm: bytes, send, hangup: asyncio.Event) -> bool:
        """Send ``pcm`` in 20 ms frames timed from the start; False if the call ended."""
        step = int(self.rate * FRAME_S) * 2
        start = time.monotonic()
        for i, offset in enumerate(range(0, len(pcm), step)):
            due = start + i * FRAME_S
            delay = due - time.monotonic()
            if delay > 0:
                try:
                    await asyncio.wait_for(hangup.wait(), delay)
                except TimeoutError:
                    pass
            if hangup.is_set():
                return False
            frame = pcm[offset : offset + step]
            send(from_linear16(frame, self.encoding))
            if self.recording is not None:
                self.recording.put(HEARD, frame, due)
        return True


class PortMedia(_Media):
    """Full-duplex PCM on the profile's separate audio port."""

    def __init__(self, source: SerialAtSource, recording: CallRecording | None, device: str) -> None:
        super().__init__(source, recording)
        self.link = SerialLink(
            device,
            source.baudrate,
            self.receiver.feed,
            source.audio_lost,
            label=f"{source.label} audio",
        )

    async def start(self) -> None:
        self.link.open()
        for cmd in self.source.profile.audio.start:
            for attempt in range(2):  # SIMCom refuses AT+CPCMREG=1 until the call is fully up
                result = await self.source.command(cmd)
                if getattr(result, "ok", False):
                    break
                if attempt == 0:
                    await asyncio.sleep(0.5)
            else:
                _LOGGER.warning("%s: %s failed: audio may not flow", self.source.label, cmd.cmd)

    def _write(self, data: bytes) -> None:
        self.link.write(data)

    async def play(self, pcm: bytes, hangup: asyncio.Event) -> bool:
        return await self._paced(pcm, self.link.write, hangup)

    async def record_until(self, hangup: asyncio.Event) -> None:
        await hangup.wait()

    async def stop(self) -> None:
        if self.source.connected:
            for cmd in self.source.profile.audio.stop:
                await self.source.command(cmd)
        self.link.close()


class DleMedia(_Media):
    """V.253 voice data on the AT port: half duplex (``+VTX`` then ``+VRX``), or full
    duplex with ``+VTR`` when the source's ``full_duplex`` option asks for it and the modem
    accepts it (it falls back to half duplex on ERROR)."""

    duplex = False

    @property
    def full_duplex(self) -> bool:
        return self.duplex

    def _write(self, data: bytes) -> None:
        self.source.send_voice(data)

    def on_voice(self, data: bytes) -> None:
        self.receiver.feed(data)

    async def start(self) -> None:
        self.source.voice_sink = self.on_voice

    async def _enter(self, commands) -> bool:
        for cmd in commands:
            result = await self.source.command(cmd)
            if not getattr(result, "ok", False):
                _LOGGER.warning("%s: %s: %s", self.source.label, cmd.cmd, result)
                return False
        return True

    async def _full_duplex(self) -> bool:
        commands = self.source.profile.audio.full_duplex
        if not self.source.full_duplex or not commands:
            return False
        self.duplex = await self._enter(commands)
        return self.duplex

    async def play(self, pcm: bytes, hangup: asyncio.Event) -> bool:
        src = self.source
        if not self.duplex and not await self._full_duplex():
            if not await self._enter(src.profile.audio.transmit):
                return False
        done = await self._paced(pcm, src.send_voice, hangup)
        if not self.duplex:
            await src.end_voice()
        return done

    async def record_until(self, hangup: asyncio.Event) -> None:
        if not self.duplex and not hangup.is_set() and not await self._full_duplex():
            if not await self._enter(self.source.profile.audio.receive):
                return
        await hangup.wait()
        await self.source.end_voice()

    async def stop(self) -> None:
        self.source.voice_sink = None
