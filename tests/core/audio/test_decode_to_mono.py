"""decode_to_mono: plain 16-bit WAVs are read without FFmpeg, everything else through it."""

from __future__ import annotations

import subprocess
import sys
import wave
from pathlib import Path

import numpy as np

from salvesti.core.audio.convert import decode_to_mono


def write_wav(path: Path, samples: np.ndarray, rate: int, channels: int = 1) -> Path:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(samples.astype("<i2").tobytes())
    return path


def tone(rate: int, seconds: float = 0.5, hz: float = 440.0) -> np.ndarray:
    t = np.arange(int(rate * seconds)) / rate
    return np.round(np.sin(2 * np.pi * hz * t) * 8000)


def test_a_wav_at_the_wanted_rate_comes_back_sample_for_sample(tmp_path: Path) -> None:
    samples = tone(8000)
    out = decode_to_mono(write_wav(tmp_path / "n.wav", samples, 8000), 8000)
    assert np.array_equal(np.frombuffer(out, "<i2"), samples.astype("<i2"))


def test_stereo_is_mixed_and_integer_upsampling_keeps_the_tone(tmp_path: Path) -> None:
    left = tone(8000)
    stereo = np.stack([left, left], axis=1).reshape(-1)
    out = np.frombuffer(decode_to_mono(write_wav(tmp_path / "s.wav", stereo, 8000, 2), 16000), "<i2")
    assert len(out) == 2 * len(left)
    spectrum = np.abs(np.fft.rfft(out.astype(float)))
    assert abs(np.argmax(spectrum) * 16000 / len(out) - 440) < 4


def test_downsampling_goes_through_ffmpegs_resampler(tmp_path: Path) -> None:
    src = write_wav(tmp_path / "hi.wav", tone(44100, hz=440.0), 44100)
    out = np.frombuffer(decode_to_mono(src, 8000), "<i2")
    assert abs(len(out) - 4000) <= 64
    spectrum = np.abs(np.fft.rfft(out.astype(float)))
    assert abs(np.argmax(spectrum) * 8000 / len(out) - 440) < 10


def test_reading_the_shipped_notice_does_not_load_pyav() -> None:
    """An idle recorder with the example's notice keeps PyAV (~20 MB) out of memory."""
    notice = Path(__file__).parents[3] / "notices" / "et.wav"
    code = (
        "import sys; from salvesti.core.audio.convert import decode_to_mono; "
        f"decode_to_mono({str(notice)!r}, 8000); decode_to_mono({str(notice)!r}, 16000); "
        "print('av' in sys.modules)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.strip() == "False"
