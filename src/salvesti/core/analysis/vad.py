"""Who speaks when, per channel, on a 10 ms grid: an energy gate AND webrtcvad, smoothed.

Research B.3 measured this on espeak calls with 5 % bleed: ML voice detectors are level-blind
and mark the other party's -26 dB crosstalk as speech, which makes overlap and interruption
counts nonsense; an energy gate relative to the channel's own levels does not.  The AND of
both keeps webrtcvad's rejection of non-speech noise and the energy gate's rejection of bleed.

The energy gate alone cannot tell bleed from speech on a channel whose party never speaks (its
loudest frames *are* the bleed).  When the other channel is given (``other=``), a frame also
has to be within :data:`CROSS_CHANNEL_DB` of what the other party said in the last quarter
second, which removes that case too.

Everything is vectorised except the webrtcvad call per frame (a C function): 60 s of 8 kHz
audio takes a few milliseconds.
"""

from __future__ import annotations

import numpy as np

FRAME_S = 0.01
FRAMES_PER_S = 100
Segment = tuple[float, float]

#: Speech must be this far above the channel's noise floor (dB) ...
FLOOR_MARGIN_DB = 15.0
#: ... where the floor is this percentile of the frame levels ...
FLOOR_PERCENTILE = 10.0
#: ... but never above this (dBFS): a party who talks without pauses must not raise the bar.
FLOOR_MAX_DBFS = -45.0
#: Speech is never below this level (dBFS): digital silence and line hiss are not speech.
ABSOLUTE_MIN_DBFS = -50.0
#: Frames within this many dB of the channel's loud frames count (bleed sits ~26 dB below).
PEAK_WINDOW_DB = 22.0
#: With ``other=``: a frame more than this far below the other channel is that party's bleed.
CROSS_CHANNEL_DB = 15.0
#: How far back (and ahead) the other channel is looked at: echo arrives late.
CROSS_BACK_FRAMES, CROSS_AHEAD_FRAMES = 25, 5
WEBRTC_RATES = (8000, 16000, 32000, 48000)


def frame_count(n_samples: int, rate: int) -> int:
    """Whole 10 ms frames in ``n_samples`` (a partial frame at the end is dropped)."""
    return n_samples * FRAMES_PER_S // rate if rate > 0 else 0


def _frame_edges(n_frames: int, rate: int) -> np.ndarray:
    """Sample index where each frame starts (exact for rates that are not a multiple of 100)."""
    return np.arange(n_frames, dtype=np.int64) * rate // FRAMES_PER_S


def frame_dbfs(pcm: np.ndarray, rate: int) -> np.ndarray:
    """RMS level of each 10 ms frame of int16 ``pcm`` in dBFS (a full-scale square wave is 0)."""
    n = frame_count(len(pcm), rate)
    if n == 0:
        return np.zeros(0)
    x = np.asarray(pcm[: n * rate // FRAMES_PER_S], dtype=np.float64)
    edges = _frame_edges(n, rate)
    power = np.add.reduceat(x * x, edges) / np.diff(np.append(edges, len(x)))
    return 10 * np.log10(np.maximum(power, 1e-6) / 32768.0**2)


def energy_vad(pcm: np.ndarray, rate: int) -> np.ndarray:
    """Frames loud enough to be this party's speech: above the adaptive floor + 15 dB, above
    -50 dBFS, and within 22 dB of the channel's loud frames (95th percentile of those)."""
    level = frame_dbfs(pcm, rate)
    if level.size == 0:
        return np.zeros(0, dtype=bool)
    floor = min(float(np.percentile(level, FLOOR_PERCENTILE)), FLOOR_MAX_DBFS)
    above = level > max(floor + FLOOR_MARGIN_DB, ABSOLUTE_MIN_DBFS)
    if above.any():
        loud = float(np.percentile(level[above], 95))
        above &= level > loud - PEAK_WINDOW_DB
    return above


def louder_than_bleed(pcm: np.ndarray, other: np.ndarray, rate: int) -> np.ndarray:
    """Frames of ``pcm`` no more than 15 dB below the other channel's loudest frame of the last
    250 ms (and next 50 ms): a frame further below is that party's crosstalk."""
    mine, theirs = frame_dbfs(pcm, rate), frame_dbfs(other, rate)
    if mine.size == 0:
        return np.zeros(0, dtype=bool)
    if theirs.size < mine.size:
        theirs = np.concatenate([theirs, np.full(mine.size - theirs.size, -120.0)])
    padded = np.concatenate(
        [np.full(CROSS_BACK_FRAMES, -120.0), theirs[: mine.size], np.full(CROSS_AHEAD_FRAMES, -120.0)]
    )
    width = CROSS_BACK_FRAMES + CROSS_AHEAD_FRAMES + 1
    recent = np.lib.stride_tricks.sliding_window_view(padded, width).max(axis=1)
    return mine > recent - CROSS_CHANNEL_DB


def _resample(pcm: np.ndarray, rate: int, target: int) -> np.ndarray:
    """Linear interpolation, after a moving average when going down (a crude anti-alias)."""
    x = np.asarray(pcm, dtype=np.float64)
    width = rate // target
    if width > 1:
        x = np.convolve(x, np.ones(width) / width, mode="same")
    n_out = len(x) * target // rate
    y = np.interp(np.arange(n_out) * (rate / target), np.arange(len(x)), x)
    return np.clip(np.round(y), -32768, 32767).astype(np.int16)


def webrtc_vad(pcm: np.ndarray, rate: int, mode: int = 2) -> np.ndarray | None:
    """webrtcvad's decision per 10 ms frame (``mode`` 0-3, 3 most aggressive), or None when
    webrtcvad (package ``webrtcvad-wheels``) is not installed.  Rates webrtcvad does not take
    are resampled to 8 or 16 kHz; the result has :func:`frame_count` frames either way."""
    try:
        import webrtcvad
    except ImportError:
        return None
    count = frame_count(len(pcm), rate)
    if count == 0:
        return np.zeros(0, dtype=bool)
    work, work_rate = pcm, rate
    if rate not in WEBRTC_RATES:
        work_rate = 16000 if rate > 16000 else 8000
        work = _resample(pcm, rate, work_rate)
    detector = webrtcvad.Vad(mode)
    step = work_rate // FRAMES_PER_S
    have = min(count, len(work) // step)
    data = np.ascontiguousarray(work[: have * step], dtype="<i2").tobytes()
    size = step * 2
    out = np.zeros(count, dtype=bool)
    out[:have] = np.fromiter(
        (detector.is_speech(data[i * size : (i + 1) * size], work_rate) for i in range(have)),
        dtype=bool,
        count=have,
    )
    return out


def speech_frames(pcm: np.ndarray, rate: int, *, other: np.ndarray | None = None) -> np.ndarray:
    """Energy AND webrtcvad (energy alone without webrtcvad); with ``other`` (the other party's
    channel, same rate) also AND :func:`louder_than_bleed`."""
    frames = energy_vad(pcm, rate)
    rtc = webrtc_vad(pcm, rate)
    if rtc is not None:
        frames &= rtc
    if other is not None:
        frames &= louder_than_bleed(pcm, other, rate)
    return frames


def _runs(frames: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start and end (exclusive) frame of each run of True."""
    padded = np.concatenate([[0], np.asarray(frames, dtype=np.int8) != 0, [0]]).astype(np.int8)
    edges = np.flatnonzero(np.diff(padded))
    return edges[0::2], edges[1::2]


def _fill(n: int, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """A mask of ``n`` frames that is True inside the given spans."""
    delta = np.zeros(n + 1, dtype=np.int64)
    np.add.at(delta, starts, 1)
    np.add.at(delta, ends, -1)
    return np.cumsum(delta[:n]) > 0


def smooth(frames: np.ndarray, min_speech_s: float = 0.25, bridge_s: float = 0.5) -> np.ndarray:
    """Bridge pauses shorter than ``bridge_s`` between speech, then drop bursts shorter than
    ``min_speech_s`` (a cough, a click)."""
    out = np.asarray(frames, dtype=bool)
    n = out.size
    starts, ends = _runs(out)
    gap_a, gap_b = ends[:-1], starts[1:]
    short = (gap_b - gap_a) < round(bridge_s * FRAMES_PER_S)
    out = out | _fill(n, gap_a[short], gap_b[short])
    starts, ends = _runs(out)
    keep = (ends - starts) >= round(min_speech_s * FRAMES_PER_S)
    return _fill(n, starts[keep], ends[keep])


def segments(frames: np.ndarray) -> list[Segment]:
    """The runs of True as ``(start_s, end_s)``."""
    starts, ends = _runs(frames)
    return [(int(a) / FRAMES_PER_S, int(b) / FRAMES_PER_S) for a, b in zip(starts, ends, strict=True)]


def detect(pcm: np.ndarray, rate: int, *, other: np.ndarray | None = None) -> list[Segment]:
    """A channel's speech segments in seconds (see :func:`speech_frames` for ``other``)."""
    return segments(smooth(speech_frames(pcm, rate, other=other)))


def gate(pcm: np.ndarray, rate: int, segs: list[Segment], pad_s: float = 0.15) -> np.ndarray:
    """A copy with silence outside the (padded) segments: what the decoder of this party hears,
    without the other party's bleed in between."""
    keep = np.zeros(len(pcm), dtype=bool)
    for start, end in segs:
        a = max(0, int((start - pad_s) * rate))
        b = min(len(pcm), int(np.ceil((end + pad_s) * rate)))
        if b > a:
            keep[a:b] = True
    return np.where(keep, pcm, np.zeros_like(pcm))


def cut(segs: list[Segment], start_s: float, end_s: float, *, min_s: float = 0.25) -> list[Segment]:
    """Segments with the span ``start_s..end_s`` (the recording notice) removed, split where
    needed; a leftover shorter than ``min_s`` (shorter than any real speech) is dropped."""
    out: list[Segment] = []
    for a, b in segs:
        if b <= start_s or a >= end_s:
            out.append((a, b))
            continue
        if a < start_s:
            out.append((a, start_s))
        if b > end_s:
            out.append((end_s, b))
    return [(a, b) for a, b in out if b - a >= min_s]
