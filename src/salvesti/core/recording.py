"""One call's recording: places both channels on the wall clock and streams them to a sink.

The media path hands over mono chunks with the monotonic time of their first sample
(derived from RTP timestamps, so a reordered packet knows where it belongs).  Each channel
is a silent buffer covering the next few seconds; a chunk is copied straight to its place
(one slice assignment), so whatever never arrived (lost packets, silence suppression, a muted
leg) stays silence, both channels stay aligned with each other and with the clock, and the
file's length is the time from :meth:`CallRecording.start` to :meth:`CallRecording.close`.

About once a second everything older than the reorder window is interleaved to stereo and
written, and the writer fixes the WAV header up, which bounds what a crash can lose to about
a second.  That write is one ``write`` of ~32 KB into the page cache plus two 4-byte
``pwrite``: cheaper on the event loop than a thread hop per second per call, which under load
costs more in GIL hand-offs than the write itself (measured with bench/rtp_path.py); the slow
parts (fsync, conversion, hashing) run in a worker thread at the end.  A failing sink (disk
full, folder removed) is reported once through ``hub.recording_failed`` and the recording
then discards audio; nothing here ever raises into the media path.

Pause (card data, PCI DSS 3.3.1) is done here, by time, so it works for every source: a
pause is a span of sample indices, and whatever falls inside it is zeroed in both channels
when it is rendered, so the file keeps its wall-clock length and nothing said during the
pause is ever written (the render lags the clock by the reorder window, so the span is
always still ahead of what was written).  The live call is not touched.  A pause longer than
``salvesti.pause_max_s`` ends by itself at exactly that length (checked each flush).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from salvesti.core import bus as events
from salvesti.core.call import Call, Pause, RecordingInfo
from salvesti.core.health import ChannelAudio

if TYPE_CHECKING:
    from salvesti.core.components import RecordingSink, RecordingWriter

_LOGGER = logging.getLogger(__name__)

#: Channel numbers: 0 = left = what the outside party said, 1 = right = what it heard.
OUTSIDE = 0
HEARD = 1

#: A chunk further than this ahead of the written position is dropped (a clock gone wild).
_MAX_AHEAD_S = 30.0


class _Channel:
    """Silent s16le buffer for samples ``base`` .. ``base + len(buf) // 2``."""

    __slots__ = ("buf", "chunks", "late", "next", "peak", "shift")

    def __init__(self, samples: int) -> None:
        self.buf = bytearray(2 * samples)
        self.shift = 0  # jitter correction (samples) applied to this channel's chunks
        self.next = 0  # sample index just after the latest chunk placed
        self.late = 0  # chunks (partly) dropped because their place was already written
        self.chunks = 0  # chunks handed over (for the health check: a channel that got none)
        self.peak = 0  # loudest absolute sample written (for the health check: only silence)


class CallRecording:
    """Stereo recording of one call, aligned to the monotonic clock.

    Not thread-safe: call ``start``/``put``/``close`` from the event loop's thread (a source
    that reads audio in a thread hands chunks over with ``loop.call_soon_threadsafe``).

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
        # room for one flush interval plus the window; grown on demand, so a long interval
        # (a test, a slow sink) does not reserve its whole span for every call up front
        span = int((min(flush_interval, 2.0) + reorder_window + 1.0) * sample_rate)
        self._channels = (_Channel(span), _Channel(span))
        self._written = 0  # frames rendered so far; also the sample index buffers start at
        self._max_ahead = int(_MAX_AHEAD_S * sample_rate)
        self._timer: asyncio.TimerHandle | None = None
        self._writer: RecordingWriter | None = None
        self._failed: BaseException | None = None
        self._closed = False
        #: Called before each render: a media path that keeps audio elsewhere (the native RTP
        #: core) hands it over here, once a flush instead of once a packet.
        self._feeders: list[Callable[[], None]] = []
        #: Paused spans as [start, end) sample indices; the last one's end is None while paused.
        self._spans: list[list[int | None]] = []
        max_s = getattr(hub, "pause_max_s", None)
        self._pause_max = int(max_s * sample_rate) if max_s else None

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

    def audio_seen(self) -> tuple[ChannelAudio, ...]:
        """Per channel (outside, heard): chunks handed over and the loudest sample written."""
        return tuple(ChannelAudio(ch.chunks, ch.peak) for ch in self._channels)

    @property
    def paused(self) -> bool:
        return bool(self._spans) and self._spans[-1][1] is None

    @property
    def buffered_bytes(self) -> int:
        """Bytes the channel buffers hold: a closed recording holds none (see ``_release``)."""
        return sum(len(ch.buf) for ch in self._channels)

    @property
    def late_chunks(self) -> int:
        """Chunks (partly) dropped: they arrived after the reorder window (for stats and tests)."""
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
        register = getattr(self.hub, "recording_started", None)
        if register is not None:
            register(self)
        self._schedule()

    def put(self, channel: int, pcm: bytes, at: float) -> None:
        """Place mono s16le ``pcm`` (at the recording's rate) whose first sample is at ``at``."""
        t0 = self._t0
        if t0 is None or self._closed:
            return
        ch = self._channels[channel]
        ch.chunks += 1
        idx = round((at - t0) * self.sample_rate) + ch.shift
        nxt = ch.next
        d = idx - nxt
        if d and -self._jitter <= d <= self._jitter:
            # snap onto the previous chunk, and keep the correction for the chunks that
            # follow (also reordered ones) so they stay contiguous with it
            shift = ch.shift - d
            ch.shift = shift if -self._jitter <= shift <= self._jitter else 0
            idx = nxt
        n = len(pcm) >> 1
        end = idx + n
        if end > nxt:
            ch.next = end
        offset = idx - self._written
        if offset < 0:
            ch.late += 1
            if offset + n <= 0:
                return
            pcm = pcm[-2 * offset :]
            offset = 0
        buf = ch.buf
        stop = 2 * (offset + n)
        if stop > len(buf):
            if offset > self._max_ahead:
                ch.late += 1
                return
            buf.extend(bytes(stop - len(buf)))
        buf[2 * offset : stop] = pcm

    def add_feeder(self, feeder: Callable[[], None]) -> None:
        """Have ``feeder`` called before every render; it ``put``s what it holds."""
        self._feeders.append(feeder)

    def remove_feeder(self, feeder: Callable[[], None]) -> None:
        if feeder in self._feeders:
            self._feeders.remove(feeder)

    def _feed(self) -> None:
        for feeder in list(self._feeders):
            try:
                feeder()
            except Exception:
                _LOGGER.exception("call %s: a recording feeder failed", self.call.id)

    def position(self, at: float) -> int:
        """Sample index of monotonic time ``at`` in this recording."""
        t0 = self._t0
        return 0 if t0 is None else round((at - t0) * self.sample_rate)

    # -- pause ------------------------------------------------------------------------------
    def pause(self, by: str, at: float | None = None) -> bool:
        """Blank both channels from ``at`` (default: now) on; False if not recording or paused."""
        if self._t0 is None or self._closed or self.paused:
            return False
        start = max(self.position(self._clock() if at is None else at), self._written)
        self._spans.append([start, None])
        self.call.pauses.append(Pause(round(start / self.sample_rate, 3), by=by))
        self._publish(events.RECORDING_PAUSED, by=by)
        return True

    def resume(self, by: str, at: float | None = None) -> bool:
        """End the pause at ``at`` (default: now); False if not paused."""
        if self._closed or not self.paused:
            return False
        self._end_pause(self.position(self._clock() if at is None else at), by)
        return True

    def _end_pause(self, end: int, by: str) -> None:
        span = self._spans[-1]
        start = span[0]
        assert start is not None
        end = max(end, start, self._written)
        span[1] = end
        entry = self.call.pauses[-1]
        entry.end_s = round(end / self.sample_rate, 3)
        entry.resumed_by = by
        self._publish(events.RECORDING_RESUMED, by=by, pause=entry.to_json())

    def _auto_resume(self, now: int) -> None:
        if self._pause_max is None or not self.paused:
            return
        start = self._spans[-1][0]
        assert start is not None
        if now - start >= self._pause_max:
            self._end_pause(start + self._pause_max, "auto")
            saved = getattr(self.hub, "call_updated", None)
            create = getattr(self.hub, "create_task", None)
            if saved is not None and create is not None:
                create(saved(self.call), name=f"call {self.call.id} auto-resume save")

    def _publish(self, name: str, **data: Any) -> None:
        bus = getattr(self.hub, "bus", None)
        if bus is not None:
            pauses = [p.to_json() for p in self.call.pauses]
            bus.publish(name, {"call_id": self.call.id, **data, "pauses": pauses})

    def _blank(self, stereo: np.ndarray, first: int, end: int) -> None:
        """Zero the frames of ``first`` .. ``end`` that lie in a paused span."""
        for start, stop in self._spans:
            assert start is not None
            a = max(start, first)
            b = end if stop is None else min(stop, end)
            if a < b:
                stereo[2 * (a - first) : 2 * (b - first)] = 0

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
        self._feed()
        now = self._clock()
        self._auto_resume(self.position(now))
        self._render(self.position(now - self.reorder_window))
        self._schedule()

    def _render(self, end: int) -> None:
        """Write frames up to sample index ``end`` and slide the channel buffers forward."""
        n = end - self._written
        if n <= 0:
            return
        left, right = (self._take(ch, n) for ch in self._channels)
        first, self._written = self._written, end
        if self._failed is not None or self._writer is None:
            return
        stereo = np.empty(2 * n, dtype="<i2")
        stereo[0::2] = np.frombuffer(left, dtype="<i2")
        stereo[1::2] = np.frombuffer(right, dtype="<i2")
        if self._spans:
            self._blank(stereo, first, end)
        for i, ch in enumerate(self._channels):
            if ch.peak < 32767:  # two passes over a second of audio, once a second
                samples = stereo[i::2]
                ch.peak = max(ch.peak, int(samples.max()), -int(samples.min()))
        try:
            self._writer.write_frames(stereo.tobytes())
            self._writer.flush()
        except Exception as err:
            self._fail(err)

    @staticmethod
    def _take(ch: _Channel, n: int) -> bytes:
        buf = ch.buf
        size = len(buf)
        if 2 * n > size:
            buf.extend(bytes(2 * n - size))
        out = bytes(buf[: 2 * n])
        del buf[: 2 * n]
        buf.extend(bytes(max(size - len(buf), 0)))
        return out

    def _release(self) -> None:
        """Drop the channel buffers once everything is written: nothing reads them again.

        A finished call's objects form reference cycles (call, legs, transactions, tasks) that
        only Python's full collection frees, and that runs about once every few hundred calls.
        Until then each finished recording kept its two buffers (about 2 × 36 KB, more after
        a long flush) alive: 80 % of the heap a soak saw grow between collections (heaptrack,
        docs/performance.md "Soak").  Released here, a finished call waiting for the
        collector costs a few kB instead."""
        for ch in self._channels:
            ch.buf = bytearray()

    def _fail(self, err: BaseException) -> None:
        if self._failed is not None:
            return
        self._failed = err  # logged by the hub's recording_failed
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
        self._feed()  # before closing: put() ignores audio once closed
        self._feeders.clear()
        self._closed = True
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._t0 is None:
            self._release()
            return None
        end = max(self.position(self._clock()), self._written)
        self._auto_resume(end)
        if self.paused:
            self._end_pause(end, "call_end")
        self._render(end)
        self._release()
        unregister = getattr(self.hub, "recording_closed", None)
        if unregister is not None:
            unregister(self)
        if self._writer is None:
            return self.call.recording
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
