"""Synthetic speech for analysis tests and benchmarks: espeak-ng at telephone quality.

Analysis plugins are tested on speech whose words and timing are known; espeak-ng (a Debian
package) makes it in milliseconds, and sox brings it to 8 kHz mono 16-bit, the recording rate of
a G.711 call.  Nothing binary needs to be committed.
"""

from __future__ import annotations

import subprocess
import wave
from pathlib import Path

import numpy as np

RATE = 8000


def speak(
    text: str, out: Path, *, voice: str = "en-us", speed: int = 150, rate: int = RATE, pad_s: float = 0.0
) -> np.ndarray:
    """Say ``text`` into ``out`` (WAV, mono s16 at ``rate``, normalised to -3 dB); its samples.

    ``pad_s`` seconds of silence follow, so a file played as a phone's microphone ends cleanly.
    """
    raw = out.with_suffix(".raw.wav")
    subprocess.run(
        ["espeak-ng", "-v", voice, "-s", str(speed), "-w", str(raw), text],
        check=True,
        capture_output=True,
        timeout=30,
    )
    subprocess.run(
        [
            "sox",
            str(raw),
            "-r",
            str(rate),
            "-c",
            "1",
            "-b",
            "16",
            "-e",
            "signed-integer",
            str(out),
            "norm",
            "-3",
            *(["pad", "0", f"{pad_s}"] if pad_s > 0 else []),
        ],
        check=True,
        capture_output=True,
        timeout=30,
    )
    raw.unlink(missing_ok=True)
    with wave.open(str(out)) as w:
        return np.frombuffer(w.readframes(w.getnframes()), "<i2").copy()


def write_stereo(path: Path, left: np.ndarray, right: np.ndarray, rate: int = RATE) -> None:
    """A stereo WAV in Salvesti's layout (left = outside party, right = what they heard)."""
    n = max(len(left), len(right))
    stereo = np.zeros((n, 2), dtype="<i2")
    stereo[: len(left), 0] = np.clip(left, -32768, 32767)
    stereo[: len(right), 1] = np.clip(right, -32768, 32767)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(stereo.tobytes())
