"""Synthetic calls with a known truth: who speaks when, on two channels, with bleed and noise.

Two sources of "speech": a numpy generator (always available: voiced syllables with pauses,
like running speech to an energy detector) and espeak-ng (real phonetics; test.sh installs it,
and without it the tests that need it fail, never skip).  The truth of a clip is measured on
the clean clip with
plain numpy (first to last 10 ms frame above -45 dBFS), never with the code under test.
"""

from __future__ import annotations

import io
import shutil
import subprocess
import wave
from dataclasses import dataclass, field
from types import SimpleNamespace

import numpy as np
import pytest

RATE = 8000
BLEED = 0.05  # -26 dB: what one party's voice leaks into the other's channel


def speech_like(seconds: float, seed: int, f0: float = 130.0, level_dbfs: float = -20.0) -> np.ndarray:
    """Voiced syllables (harmonics of a wandering pitch, 120-260 ms) with 40-160 ms gaps between
    them, at about ``level_dbfs`` RMS while voiced; starts and ends with a syllable."""
    rng = np.random.default_rng(seed)
    n = int(seconds * RATE)
    out = np.zeros(n)
    t = 0
    while t < n:
        length = min(int(rng.uniform(0.12, 0.26) * RATE), n - t)
        k = np.arange(length)
        pitch = f0 * (1 + 0.15 * rng.uniform(-1, 1)) * (1 + 0.05 * np.sin(2 * np.pi * k / length))
        phase = 2 * np.pi * np.cumsum(pitch) / RATE
        tone = sum(np.sin(h * phase + rng.uniform(0, 6)) * rng.uniform(0.3, 1.0) / h for h in range(1, 14))
        envelope = np.sin(np.pi * (k + 0.5) / length) ** 0.5
        out[t : t + length] = tone * envelope
        t += length + int(rng.uniform(0.04, 0.16) * RATE)
        if n - t < 0.12 * RATE:  # end on a syllable, not on a gap
            break
    voiced = out[np.abs(out) > 0]
    rms = np.sqrt(np.mean(voiced**2)) if voiced.size else 1.0
    return out * (32768 * 10 ** (level_dbfs / 20) / rms)


def truth_span(clip: np.ndarray) -> tuple[float, float]:
    """First and last 10 ms frame of a clean clip above -45 dBFS, in seconds."""
    n = len(clip) // (RATE // 100)
    frames = clip[: n * (RATE // 100)].reshape(n, -1)
    level = 10 * np.log10(np.mean(frames**2, axis=1) / 32768**2 + 1e-12)
    active = np.flatnonzero(level > -45)
    return float(active[0]) / 100, float(active[-1] + 1) / 100


def mulaw(x: np.ndarray) -> np.ndarray:
    """G.711 µ-law as a phone network does it: companded to 8 bits and back."""
    y = np.clip(np.asarray(x, dtype=np.float64) / 32768.0, -1, 1)
    code = np.round(np.sign(y) * np.log1p(255 * np.abs(y)) / np.log1p(255) * 127) / 127
    return np.sign(code) * np.expm1(np.abs(code) * np.log1p(255)) / 255 * 32768


def alaw(x: np.ndarray) -> np.ndarray:
    """G.711 A-law (A = 87.6), companded to 8 bits and back."""
    a = 87.6
    y = np.clip(np.asarray(x, dtype=np.float64) / 32768.0, -1, 1)
    m = np.abs(y)
    small = m < 1 / a
    comp = np.where(small, a * m / (1 + np.log(a)), (1 + np.log(np.maximum(a * m, 1e-12))) / (1 + np.log(a)))
    comp = np.round(comp * 127) / 127
    back = np.where(
        comp < 1 / (1 + np.log(a)), comp * (1 + np.log(a)) / a, np.exp(comp * (1 + np.log(a)) - 1) / a
    )
    return np.sign(y) * back * 32768


def to_int16(x: np.ndarray) -> np.ndarray:
    return np.clip(np.round(x), -32768, 32767).astype(np.int16)


@dataclass
class Call:
    """A stereo call being built: clips placed per party, then mixed with bleed and noise."""

    seconds: float
    clean: dict[str, np.ndarray] = field(default_factory=dict)
    truth: dict[str, list[tuple[float, float]]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for party in ("outside", "agent"):
            self.clean[party] = np.zeros(int(self.seconds * RATE))
            self.truth[party] = []

    def say(self, party: str, at_s: float, clip: np.ndarray) -> tuple[float, float]:
        """Place ``clip`` so that its speech starts at ``at_s``; returns its true span."""
        a, b = truth_span(clip)
        start = round((at_s - a) * RATE)
        self.clean[party][start : start + len(clip)] += clip[: len(self.clean[party]) - start]
        span = (at_s, at_s + (b - a))
        self.truth[party].append(span)
        return span

    def channels(
        self, bleed: float = BLEED, noise_dbfs: float | None = -60.0
    ) -> tuple[np.ndarray, np.ndarray]:
        """(outside, agent) int16: each party's own voice, the other's bleed, line noise."""
        rng = np.random.default_rng(7)
        out, agent = self.clean["outside"], self.clean["agent"]
        left, right = out + bleed * agent, agent + bleed * out
        if noise_dbfs is not None:
            sigma = 32768 * 10 ** (noise_dbfs / 20)
            left = left + rng.normal(0, sigma, left.size)
            right = right + rng.normal(0, sigma, right.size)
        return to_int16(left), to_int16(right)


def _espeak(text: str, voice: str) -> np.ndarray:
    raw = subprocess.run(["espeak-ng", "-v", voice, "--stdout", text], check=True, capture_output=True).stdout
    with wave.open(io.BytesIO(raw)) as w:
        rate = w.getframerate()
        x = np.frombuffer(w.readframes(w.getnframes()), np.int16).astype(np.float64)
    # Telephone band: 8 kHz after a moving-average low-pass (espeak speaks at 22050 Hz).
    width = max(1, rate // RATE)
    x = np.convolve(x, np.ones(width) / width, mode="same")
    return np.interp(np.arange(int(len(x) * RATE / rate)) * rate / RATE, np.arange(len(x)), x)


_SPOKEN: dict[tuple[str, str], np.ndarray] = {}


@pytest.fixture
def espeak():
    """``espeak(text, voice="en")`` -> float clip at 8 kHz; fails without espeak-ng (apt install)."""
    assert shutil.which("espeak-ng"), "espeak-ng is missing (test.sh installs it: apt install espeak-ng)"

    def speak(text: str, voice: str = "en") -> np.ndarray:
        if (text, voice) not in _SPOKEN:
            _SPOKEN[text, voice] = _espeak(text, voice)
        return _SPOKEN[text, voice].copy()

    return speak


@pytest.fixture
def synth():
    """The generators above, for tests: ``synth.speech_like``, ``synth.Call``, ``synth.mulaw``..."""
    return SimpleNamespace(
        RATE=RATE,
        BLEED=BLEED,
        speech_like=speech_like,
        truth_span=truth_span,
        mulaw=mulaw,
        alaw=alaw,
        to_int16=to_int16,
        Call=Call,
    )
