"""Waveform peaks per channel, computed on the server so a phone never decodes an hour of audio.

The player draws both channels (left = what the outside party said, right = what they heard)
from ``points`` peak values each.  WAV files are read through a numpy memory map (no copy of the
whole file); FLAC/Opus are decoded with PyAV.  Results are cached on disk keyed by the file's
size and mtime, so a re-finalised or repaired file gets fresh peaks.
"""

from __future__ import annotations

import json
import os
import struct
from collections import OrderedDict
from pathlib import Path
from typing import Any

import numpy as np

DEFAULT_POINTS = 800
MAX_POINTS = 4000


def _wav_layout(path: Path) -> tuple[int, int, int, int]:
    """(data offset, data bytes, channels, sample rate) of a PCM16 WAV, walking its RIFF chunks."""
    with path.open("rb") as f:
        head = f.read(12)
        if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
            raise ValueError("not a WAV file")
        channels = rate = bits = 0
        size = path.stat().st_size
        while True:
            chunk = f.read(8)
            if len(chunk) < 8:
                raise ValueError("WAV file has no data chunk")
            cid, clen = chunk[:4], struct.unpack("<I", chunk[4:])[0]
            if cid == b"fmt ":
                fmt = f.read(clen)
                _tag, channels, rate = struct.unpack("<HHI", fmt[:8])
                bits = struct.unpack("<H", fmt[14:16])[0]
                f.seek(clen % 2, os.SEEK_CUR)
            elif cid == b"data":
                offset = f.tell()
                # A file cut off mid-write may claim more data than it has.
                length = min(clen, size - offset)
                if bits != 16 or channels < 1:
                    raise ValueError("only 16-bit PCM WAV is supported")
                return offset, length - length % (2 * channels), channels, rate
            else:
                f.seek(clen + clen % 2, os.SEEK_CUR)


def _decode_other(path: Path) -> tuple[np.ndarray, int]:
    """Decode FLAC/Opus/anything PyAV reads to int16 frames x channels."""
    import av

    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        rate = stream.rate or 8000
        channels = stream.channels or 2
        layout = "stereo" if channels >= 2 else "mono"
        resampler = av.AudioResampler(format="s16", layout=layout, rate=rate)
        chunks = []
        for frame in container.decode(stream):
            for out in resampler.resample(frame):
                chunks.append(out.to_ndarray().reshape(-1))
        data = np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.int16)
    nch = 2 if layout == "stereo" else 1
    return data[: len(data) - len(data) % nch].reshape(-1, nch), rate


def compute_peaks(path: Path, points: int = DEFAULT_POINTS) -> dict[str, Any]:
    """Peak absolute amplitude (0..1) of each of ``points`` equal slices, per channel."""
    points = max(1, min(int(points), MAX_POINTS))
    if path.suffix.lower() == ".wav":
        offset, length, nch, rate = _wav_layout(path)
        frames = length // (2 * nch)
        if frames:
            data = np.memmap(path, dtype="<i2", mode="r", offset=offset, shape=(frames, nch))
        else:
            data = np.zeros((0, nch), dtype=np.int16)
    else:
        data, rate = _decode_other(path)
        nch, frames = data.shape[1], data.shape[0]
    peaks = np.zeros((nch, points), dtype=np.float32)
    if frames:
        n = min(points, frames)
        edges = np.linspace(0, frames, n + 1).astype(np.int64)
        # Work in groups of buckets of about a million frames, so an hour-long call never
        # needs more than a few MB on a Raspberry Pi.
        per_group = max(1, int(1_000_000 / max(1, frames / n)))
        for first in range(0, n, per_group):
            last = min(n, first + per_group)
            lo, hi = int(edges[first]), int(edges[last])
            block = np.abs(np.asarray(data[lo:hi], dtype=np.int32))
            got = np.maximum.reduceat(block, edges[first:last] - lo, axis=0)
            peaks[:, first:last] = (got / 32768.0).T
        peaks = peaks[:, :n]
    return {
        "points": int(peaks.shape[1]),
        "duration_s": round(frames / rate, 3) if rate else 0.0,
        "sample_rate": int(rate),
        "channels": [[round(float(v), 3) for v in row] for row in peaks],
    }


class PeaksCache:
    """Peaks in memory (a small LRU) and on disk under ``folder``."""

    def __init__(self, folder: Path, size: int = 64) -> None:
        self.folder = folder
        self.size = size
        self._mem: OrderedDict[str, dict[str, Any]] = OrderedDict()

    def _key(self, call_id: str, path: Path, points: int) -> str:
        st = path.stat()
        return f"{call_id}-{points}-{st.st_size}-{int(st.st_mtime_ns)}"

    def get(self, call_id: str, path: Path, points: int) -> dict[str, Any]:
        """Blocking (file I/O and numpy): call it off the event loop."""
        key = self._key(call_id, path, points)
        hit = self._mem.get(key)
        if hit is not None:
            self._mem.move_to_end(key)
            return hit
        safe = "".join(c for c in call_id if c.isalnum() or c in "-_T")
        disk = self.folder / f"{safe}-{points}.json"
        result: dict[str, Any] | None = None
        try:
            stored = json.loads(disk.read_text())
            if stored.get("key") == key:
                result = stored["peaks"]
        except (OSError, ValueError, KeyError):
            result = None
        if result is None:
            result = compute_peaks(path, points)
            try:
                self.folder.mkdir(parents=True, exist_ok=True)
                tmp = disk.with_suffix(".tmp")
                tmp.write_text(json.dumps({"key": key, "peaks": result}))
                tmp.replace(disk)
            except OSError:
                pass  # a read-only data dir only costs recomputation
        self._mem[key] = result
        while len(self._mem) > self.size:
            self._mem.popitem(last=False)
        return result

    def forget(self, call_id: str) -> None:
        """Drop cached peaks of a deleted recording (they are derived personal data too)."""
        for key in [k for k in self._mem if k.startswith(call_id + "-")]:
            del self._mem[key]
        safe = "".join(c for c in call_id if c.isalnum() or c in "-_T")
        for f in self.folder.glob(f"{safe}-*.json"):
            try:
                f.unlink()
            except OSError:
                pass
