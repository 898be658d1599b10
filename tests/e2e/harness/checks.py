"""Assertions about a finished call: the call object and the recording it points at.

What the CONTRACT promises and these check: one stereo 16-bit file per call, ``bytes`` and
``sha256`` of the whole file, length = answered time within 100 ms, channel 1 (left) = what
the outside party said, channel 2 (right) = what the outside party heard (notice first).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
from harness.audio import (
    Match,
    check_wav_header,
    envelope,
    locate,
    read_channels,
    segment,
    sha256_of,
    wav_envelope,
)

CALL_KEYS = {
    "id",
    "source",
    "direction",
    "line",
    "remote_number",
    "extension",
    "started_at",
    "answered_at",
    "ended_at",
    "duration_s",
    "disposition",
    "recording",
    "notice",
    "retention",
    "outcome",
    "tags",
    "notes",
}
RECORDING_KEYS = {"path", "format", "sample_rate", "channels", "duration_s", "bytes", "sha256"}


def iso(value: str | None) -> datetime:
    assert value, "time missing"
    dt = datetime.fromisoformat(value)
    assert dt.tzinfo is not None, f"time without offset: {value}"
    return dt


def check_call_shape(call: dict[str, Any]) -> None:
    missing = CALL_KEYS - set(call)
    assert not missing, f"call object lacks {sorted(missing)}"
    for key in ("started_at", "answered_at", "ended_at"):
        if call[key] is not None:
            iso(call[key])
    if call["answered_at"] and call["ended_at"]:
        talk = (iso(call["ended_at"]) - iso(call["answered_at"])).total_seconds()
        assert abs(call["duration_s"] - talk) < 0.01, (
            f"duration_s {call['duration_s']} != ended-answered {talk}"
        )
    for key in ("delete_after", "legal_hold"):
        assert key in call["retention"], f"retention lacks {key}"
    for key in ("played", "name", "played_at"):
        assert key in call["notice"], f"notice lacks {key}"


@dataclass
class Recording:
    path: Path
    samples: np.ndarray  # (frames, 2) float
    rate: int

    @property
    def duration_s(self) -> float:
        return len(self.samples) / self.rate

    def loudness(self, channel: int, step_s: float = 0.5) -> str:
        """Per-``step_s`` RMS of a channel as a compact strip (for failure messages)."""
        n = int(self.rate * step_s)
        x = self.samples[: len(self.samples) // n * n, channel].reshape(-1, n)
        levels = np.sqrt((x**2).mean(axis=1))
        return " ".join(f"{v:.0f}" for v in levels)

    def env(self, channel: int) -> np.ndarray:
        return envelope(self.samples[:, channel], self.rate)


def check_recording(call: dict[str, Any], *, length_tolerance_s: float = 0.1) -> Recording:
    """The file exists, is a valid stereo 16-bit WAV and matches the call object."""
    rec = call["recording"]
    assert rec is not None, f"call {call['id']} has no recording"
    missing = RECORDING_KEYS - set(rec)
    assert not missing, f"recording lacks {sorted(missing)}"
    path = Path(rec["path"])
    assert path.is_absolute(), f"recording path not absolute: {path}"
    assert path.exists(), f"recording file missing: {path}"
    assert path.name == f"{call['id']}.wav", f"file name {path.name} is not <call id>.wav"
    started = iso(call["started_at"])
    assert path.parent.parts[-3:] == (f"{started:%Y}", f"{started:%m}", f"{started:%d}"), (
        f"{path} is not under YYYY/MM/DD of {call['started_at']}"
    )
    info = check_wav_header(path)
    assert (info.channels, info.bits) == (2, 16), f"not stereo 16-bit: {info}"
    assert rec["format"] == "wav" and rec["channels"] == 2 and rec["sample_rate"] == info.sample_rate
    assert rec["bytes"] == path.stat().st_size, f"bytes {rec['bytes']} != file size {path.stat().st_size}"
    assert rec["sha256"] == sha256_of(path), "sha256 in the call object does not match the file"
    assert abs(rec["duration_s"] - info.duration_s) < 0.05, (
        f"recording.duration_s {rec['duration_s']} vs {info}"
    )
    if call.get("duration_s") is not None:
        assert abs(info.duration_s - call["duration_s"]) <= length_tolerance_s, (
            f"recording {info.duration_s:.3f} s vs answered time {call['duration_s']:.3f} s"
        )
    samples, rate = read_channels(path)
    return Recording(path, samples, rate)


def assert_contains(
    rec: Recording,
    channel: int,
    ref: Path,
    *,
    start_s: float,
    length_s: float = 3.0,
    others: tuple[Path, ...] = (),
    min_corr: float = 0.8,
) -> Match:
    """A ``length_s`` window of the channel, from ``start_s``, is found in ``ref`` (and not in ``others``)."""
    got = segment(rec.env(channel), start_s, length_s)
    assert len(got) >= int(length_s / 0.02) - 1, (
        f"recording too short for a {length_s} s window at {start_s} s ({rec.duration_s:.2f} s)"
    )
    match = locate(got, wav_envelope(ref))
    side = "left" if channel == 0 else "right"
    assert match.corr >= min_corr, (
        f"{side} channel {start_s:.2f}-{start_s + length_s:.2f} s of {rec.duration_s:.2f} s is not "
        f"{ref.name}: {match}\n{side} channel RMS per 0.5 s: {rec.loudness(channel)}"
    )
    for other in others:
        wrong = locate(got, wav_envelope(other))
        assert wrong.corr < match.corr - 0.05, (
            f"{side} channel matches {other.name} ({wrong}) about as well as {ref.name} ({match})"
        )
    return match


def assert_notice_at_start(
    rec: Recording, notice: Path, *, channel: int = 1, max_offset_s: float = 0.4
) -> Match:
    """The whole notice is at the start of ``channel`` (what the outside party heard first)."""
    ref = wav_envelope(notice)
    hay = rec.env(channel)[: len(ref) + int(1.5 / 0.02)]
    assert len(hay) >= len(ref), f"recording ({rec.duration_s:.2f} s) shorter than the notice"
    match = locate(ref, hay)
    assert match.corr >= 0.8, f"notice not found at the start of channel {channel + 1}: {match}"
    assert match.offset_s <= max_offset_s, (
        f"notice starts {match.offset_s:.2f} s into the recording, not at 0"
    )
    return match
