"""Evidence that the recording notice was heard: find its audio in what the outside party heard.

The channel that carries what the outside party heard should contain the configured notice,
near the start.  The evidence is the normalised cross-correlation of the notice against that
channel: ``sum(x * n) / (|n| * |x window|)``, computed with FFTs, the window energy from a
running sum.  It is 1.0 for the same waveform at any gain, survives G.711 (µ-law or A-law:
~38 dB of quantisation noise costs almost nothing) and a few milliseconds of offset, and is
low (~0.05 for noise, ~0.2-0.3 for other speech) for anything else.  The absolute value is
used, so a line that inverts polarity still matches.

Both signals are band-limited to 200-1900 Hz and resampled to 4 kHz in one step (FFT, bins
outside the band zeroed): telephone audio has little above that, the hum and DC below it only
hurt, and a quarter of the samples makes it fast (25 s of search costs a few milliseconds).  A
delay that is not a whole 4 kHz sample would lose up to ~15 % of the score at 1-2 kHz, so the
notice is also correlated shifted by 1/4, 1/2 and 3/4 of a sample and the best is kept.

Limits, by design:

* A notice cut off after a fraction ``f`` (the caller hung up) still correlates: the score is
  about ``sqrt(f)`` when silence follows (0.6 -> ~0.77, found), and about ``f`` when other
  speech as loud as the notice follows (0.6 -> ~0.6).  A recording that ends during the notice
  is compared over what is there, when at least half of the notice fits; whether the notice
  ran to its end is the source's ``notice.complete``, not this score.
* The same words said again by the same synthetic voice match as far as they are identical: a
  partial match scores like a cut-off notice.  A live person reading the text does not match.
* This is waveform matching: codecs that keep the waveform (G.711, G.722, high-rate Opus) are
  fine; a low-rate vocoder (GSM, AMR) between the player and the recorder lowers the score.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

WORK_RATE = 4000
BAND_HZ = (200.0, 1900.0)
MIN_NOTICE_S = 0.3
#: A recording that ends during the notice is still compared when this much of it fits.
MIN_FIT = 0.5
#: Fractions of a work-rate sample the notice is also tried at.
PHASES = (0.0, 0.25, 0.5, 0.75)
#: How far past the notice's length the search goes by default (seconds).
DEFAULT_SLACK_S = 20.0


@dataclass(frozen=True)
class NoticeMatch:
    """``score`` is the best normalised correlation (0..1); ``at_s`` where the notice starts in
    the channel (seconds), None unless ``verified``."""

    verified: bool
    score: float
    at_s: float | None

    def to_json(self) -> dict[str, bool | float | None]:
        return {"verified": self.verified, "score": round(self.score, 3), "at_s": self.at_s}


NOT_FOUND = NoticeMatch(False, 0.0, None)


def _spectrum(pcm: np.ndarray, rate: int) -> tuple[np.ndarray, int]:
    """The band-limited spectrum of ``pcm`` as a signal at WORK_RATE, and that signal's length."""
    x = np.asarray(pcm, dtype=np.float64)
    n_out = len(x) * WORK_RATE // rate
    spec = np.fft.rfft(x)
    freqs = np.fft.rfftfreq(len(x), 1.0 / rate)
    band = (freqs >= BAND_HZ[0]) & (freqs <= BAND_HZ[1])
    out = np.zeros(n_out // 2 + 1, dtype=complex)
    keep = min(len(out), len(spec))
    out[:keep] = np.where(band[:keep], spec[:keep], 0.0)
    return out * (n_out / max(1, len(x))), n_out


def _shifted(spec: np.ndarray, n_out: int, shift: float) -> np.ndarray:
    """The work-rate signal of ``spec``, delayed by ``shift`` of a sample."""
    if shift:
        spec = spec * np.exp(-2j * np.pi * np.fft.rfftfreq(n_out) * shift)
    return np.fft.irfft(spec, n_out)


def find_notice(
    channel: np.ndarray,
    notice: np.ndarray,
    rate: int,
    *,
    search_s: float | None = None,
    threshold: float = 0.5,
) -> NoticeMatch:
    """Where ``notice`` starts in the first ``search_s`` seconds of ``channel`` (default: the
    notice's length + 20 s), both int16 at ``rate``; verified when the score >= threshold."""
    if rate <= 0 or len(notice) / rate < MIN_NOTICE_S or len(channel) < len(notice) * MIN_FIT:
        return NOT_FOUND
    notice_s = len(notice) / rate
    window_s = search_s if search_s is not None else notice_s + DEFAULT_SLACK_S
    x_spec, n_x = _spectrum(channel[: int(window_s * rate) + len(notice)], rate)
    n_spec, m = _spectrum(notice, rate)
    x = _shifted(x_spec, n_x, 0.0)
    # Zeros after the end, so that a recording ending during the notice is compared over what
    # is there; starts are tried while MIN_FIT of the notice still fits, up to window_s.
    x = np.concatenate([x, np.zeros(m)])
    last = min(int(n_x - MIN_FIT * m), int(window_s * WORK_RATE))
    if last < 0:
        return NOT_FOUND
    energy = np.concatenate([[0.0], np.cumsum(x * x)])
    window = np.sqrt(np.maximum(energy[m : m + last + 1] - energy[: last + 1], 0.0))
    size = 1 << int(np.ceil(np.log2(len(x) + m)))
    x_fft = np.fft.rfft(x, size)
    best_score, best_at = 0.0, 0.0
    for shift in PHASES:
        n = _shifted(n_spec, m, shift)
        norm_n = float(np.sqrt(np.sum(n * n)))
        if norm_n <= 0:
            return NOT_FOUND
        corr = np.fft.irfft(x_fft * np.conj(np.fft.rfft(n, size)), size)[: last + 1]
        # A window with almost no energy gives huge ratios from rounding: it is not the notice.
        floor = max(1e-9, 0.01 * norm_n)
        score = np.where(window > floor, np.abs(corr) / (norm_n * np.maximum(window, floor)), 0.0)
        at = int(np.argmax(score))
        if score[at] > best_score:
            best_score, best_at = float(score[at]), (at + shift) / WORK_RATE
    value = min(1.0, best_score)
    verified = value >= threshold
    return NoticeMatch(verified, value, round(max(0.0, best_at), 3) if verified else None)
