"""Evidence that the recording notice was heard: find its audio in the outside party's ear.

The right channel of a recording is what the outside party heard, so the configured notice
should be in it, near the start.  Normalised cross-correlation (computed with FFTs) of the
notice against that channel gives a score in 0..1 that survives G.711 coding, gain changes
and a few milliseconds of offset (same waveform, small distortion: ~0.9 and more), while
other speech, noise or silence scores low (~0.1-0.3).  Both signals are band-limited and
decimated to 4 kHz first: telephone audio has nothing above 3.4 kHz, and it halves the work.

A notice cut off after 60 % (the caller hung up) still correlates: the score falls to about
the square root of the part played (0.6 -> ~0.77), so it is still found; the source's own
``notice.complete`` says whether it ran to its end.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

WORK_RATE = 4000
MIN_NOTICE_S = 0.3


@dataclass(frozen=True)
class NoticeMatch:
    verified: bool
    score: float
    at_s: float | None

    def to_json(self) -> dict[str, Any]:
        return {"verified": self.verified, "score": round(self.score, 3), "at_s": self.at_s}


def _to_work_rate(pcm: np.ndarray, rate: int) -> np.ndarray:
    x = pcm.astype(np.float64)
    if rate == WORK_RATE:
        return x - x.mean() if x.size else x
    factor = rate / WORK_RATE
    width = max(1, round(factor))
    if width > 1:  # moving average: a crude low-pass before decimation
        x = np.convolve(x, np.ones(width) / width, mode="same")
    n_out = int(len(x) / factor)
    y = np.interp(np.arange(n_out) * factor, np.arange(len(x)), x)
    return y - y.mean() if y.size else y


def find_notice(
    channel: np.ndarray,
    notice: np.ndarray,
    rate: int,
    *,
    search_s: float | None = None,
    threshold: float = 0.5,
) -> NoticeMatch:
    notice_s = len(notice) / rate if rate else 0.0
    if notice_s < MIN_NOTICE_S or len(channel) < len(notice) * 0.5:
        return NoticeMatch(False, 0.0, None)
    window_s = search_s if search_s is not None else notice_s + 20.0
    x = _to_work_rate(channel[: int(window_s * rate) + len(notice)], rate)
    n = _to_work_rate(notice, rate)
    m = len(n)
    if len(x) < m:  # the call is shorter than the notice: compare what is there
        x = np.concatenate([x, np.zeros(m - len(x))])
    norm_n = float(np.sqrt(np.sum(n**2)))
    if norm_n <= 0:
        return NoticeMatch(False, 0.0, None)
    size = 1 << int(np.ceil(np.log2(len(x) + m)))
    corr = np.fft.irfft(np.fft.rfft(x, size) * np.conj(np.fft.rfft(n, size)), size)[: len(x) - m + 1]
    energy = np.concatenate([[0.0], np.cumsum(x**2)])
    window = np.sqrt(np.maximum(energy[m:] - energy[:-m], 0.0))[: len(corr)]
    # Windows with almost no energy would give huge ratios from rounding: they are not the notice.
    floor = max(1e-9, 0.01 * norm_n)
    score = np.where(window > floor, corr / (norm_n * np.maximum(window, floor)), 0.0)
    best = int(np.argmax(score))
    value = float(np.clip(score[best], 0.0, 1.0))
    at_s = round(best / WORK_RATE, 3)
    return NoticeMatch(value >= threshold, value, at_s if value >= threshold else None)
