"""One call's recording: places both channels on the wall clock and streams them to a sink.

The media path hands over mono chunks with the monotonic time of their first sample
(derived from RTP timestamps, so a reordered packet knows where it belongs).  Chunks wait
here for a short reorder window, then are laid into a silent timeline: whatever never
arrived (lost packets, silence suppression, a muted leg) stays silence, so both channels
stay aligned with each other and with the clock, and the file's length is the time from
:meth:`CallRecording.start` to :meth:`CallRecording.close`.

Writing is batched: about once a second the rendered frames go to the sink's writer in a
worker thread (one job in flight per recording, so order is kept) and the writer fixes the
WAV header up, which bounds what a crash can lose to about a second.  A failing sink
(disk full, folder removed) is reported once through ``hub.recording_failed`` and the
recording then discards audio; nothing here ever raises into the media path.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

import numpy as np

from salvesti.core.call import Call, RecordingInfo

if TYPE_CHECKING:
    from salvesti.core.components import RecordingSink, RecordingWriter

_LOGGER = logging.getLogger(__name__)

#: Channel numbers: 0 = left = what the outside party said, 1 = right = what it heard.
OUTSIDE = 0
HEARD = 1


class _Channel:
    __slots__ = ("late", "next", "pending")

    def __init__(self) -> None:
        self.pending: list[tuple[int, bytes]] = []
        self.next = 0  # sample index just after the latest chunk placed
        self.late = 0  # chunks that arrived after their place was written


class CallRecording:
    """Stereo recording of one call, aligned to the monotonic clock.

    ``reorder_window``: how long a chunk may arrive after its time and still be placed.
    ``jitter``: a chunk this close to the end of the previous one on its channel is
    snapped to it, so timer jitter in a source does not leave one-sample gaps.
    """

    def __init__(
        self,
        hub: Any,
        call: Call,
        sink: RecordingSink,
        *,
        sample_rate: int = 8000,
        reorder_window: float = 0.25,
        flush_interval: float = 1.0,
        jitter: float = 0.008,
    ) -> None:
        self.hub = hub
        self.call = call
        self.sink = sink
        self.sample_rate = sample_rate
        self.reorder_window = reorder_window
        self.flush_interval = flush_interval
        self._jitter = int(jitter * sample_rate)
        self._clock = hub.monotonic
        self._t0: float | None = None
        self._channels = (_Channel(), _Channel())
        self._written = 0  # frames rendered so far (handed to the writer or queued)
        self._queued: list[bytes] = []
        self._io: asyncio.Future[None] | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._writer: RecordingWriter | None = None
        self._failed: BaseException | None = None
        self._closed = False

    # -- state ------------------------------------------------------------------------------
    @property
    def started(self) -> bool:
        return self._t0 is not None

    @property
    def failed(self) -> bool:
        return self._failed is not None

    @property
    def frames_rendered(self) -> int:
        return self._written

    @property
    def late_chunks(self) -> int:
        """Chunks dropped because they arrived after the reorder window (for stats and tests)."""
        return sum(ch.late for ch in self._channels)

    # -- the media side ---------------------------------------------------------------------
    def start(self, at: float) -> None:
        """Open the file; ``at`` is the monotonic time of the first sample (the audio path opened)."""
        if self._t0 is not None:
            return
        self._t0 = at
        try:
            self._writer = self.sink.open(self.call, self.sample_rate)
        except Exception as err:
            self._fail(err)
        else:
            self.call.recording = RecordingInfo(
                path=str(self._writer.path),
                format=getattr(self.sink, "format", "wav"),
                sample_rate=self.sample_rate,
                channels=2,
                status="recording",
            )
            self.call.meta["sink"] = getattr(self.sink, "id", None)
        self._schedule()

    def put(self, channel: int, pcm: bytes, at: float) -> None:
        """Place mono s16le ``pcm`` (at the recording's rate) whose first sample is at ``at``."""
        t0 = self._t0
        if t0 is None or self._closed:
            return
        ch = self._channels[channel]
        idx = round((at - t0) * self.sample_rate)
        nxt = ch.next
        if -self._jitter <= idx - nxt <= self._jitter:
            idx = nxt
        ch.pending.append((idx, pcm))
        end = idx + (len(pcm) >> 1)
        if end > nxt:
            ch.next = end

    def position(self, at: float) -> int:
        """Sample index of monotonic time ``at`` in this recording."""
        return round((at - (self._t0 or at)) * self.sample_rate)

    # -- rendering and writing --------------------------------------------------------------
    def _schedule(self) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        self._timer = loop.call_later(self.flush_interval, self._tick)

    def _tick(self) -> None:
        self._timer = None
        if self._closed:
            return
        self._render(self.position(self._clock() - self.reorder_window))
        self._submit()
        self._schedule()

    def _render(self, end: int) -> None:
        n = end - self._written
        if n <= 0:
            return
        bufs = []
        for ch in self._channels:
            buf = bytearray(2 * n)
            rest = []
            base = self._written
            for idx, pcm in ch.pending:
                s = idx - base
                e = s + (len(pcm) >> 1)
                if e <= 0:
                    ch.late += 1
                    continue
                if s >= n:
                    rest.append((idx, pcm))
                    continue
                a = s if s > 0 else 0
                b = e if e < n else n
                buf[2 * a : 2 * b] = pcm[2 * (a - s) : 2 * (b - s)]
                if e > n:
                    rest.append((base + n, pcm[2 * (n - s) :]))
            ch.pending = rest
            bufs.append(buf)
        self._written = end
        if self._failed is not None or self._writer is None:
            return
        stereo = np.empty(2 * n, dtype="<i2")
        stereo[0::2] = np.frombuffer(bufs[0], dtype="<i2")
        stereo[1::2] = np.frombuffer(bufs[1], dtype="<i2")
        self._queued.append(stereo.tobytes())

    def _submit(self) -> None:
        if self._io is not None or not self._queued or self._writer is None or self._failed:
            return
        data = b"".join(self._queued)
        self._queued.clear()
        loop = asyncio.get_running_loop()
        self._io = loop.run_in_executor(None, _write_and_flush, self._writer, data)
        self._io.add_done_callback(self._io_done)

    def _io_done(self, fut: asyncio.Future[None]) -> None:
        self._io = None
        if fut.cancelled():
            return
        err = fut.exception()
        if err is not None:
            self._fail(err)
        elif not self._closed:
            self._submit()

    def _fail(self, err: BaseException) -> None:
        if self._failed is not None:
            return
        self._failed = err
        self._queued.clear()
        _LOGGER.error("call %s: recording failed: %s", self.call.id, err)
        if self.call.recording is None:
            self.call.recording = RecordingInfo(path="", sample_rate=self.sample_rate, status="failed")
        try:
            self.hub.recording_failed(self.call, err)
        except Exception:
            _LOGGER.exception("call %s: recording_failed handler raised", self.call.id)

    # -- the end ------------------------------------------------------------------------------
    async def close(self) -> RecordingInfo | None:
        """Write what is left up to now, then let the sink finalise (header, fsync, sha256).

        Returns the finished :class:`RecordingInfo` (status ``failed`` with a note when the
        sink failed mid-call; the file then holds the audio up to the failure), or None when
        the recording never started.  Idempotent.
        """
        if self._closed:
            return self.call.recording
        self._closed = True
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._t0 is None:
            return None
        end = max(self.position(self._clock()), self._written)
        self._render(end)
        while self._io is not None:
            try:
                await asyncio.shield(self._io)
            except Exception:  # _io_done reported it
                pass
        if self._writer is None:
            return self.call.recording
        if self._queued and self._failed is None:
            data = b"".join(self._queued)
            self._queued.clear()
            try:
                await asyncio.to_thread(_write_and_flush, self._writer, data)
            except Exception as err:
                self._fail(err)
        try:
            info = await self.sink.finalize(self.call, self._writer)
        except Exception as err:
            self._fail(err)
            return self.call.recording
        if self._failed is not None:
            info.status = "failed"
            info.note = f"sink failed mid-call, audio after the failure is missing: {self._failed}"
        self.call.recording = info
        return info


def _write_and_flush(writer: RecordingWriter, data: bytes) -> None:
    writer.write_frames(data)
    writer.flush()
