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
from collections.abc import Callable
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


class _SealedFrames:
    """Frames of a sealed recording, decrypted slice by slice as ``compute_peaks`` walks them."""

    def __init__(self, sealed: Any) -> None:
        self.sealed = sealed
        self.nch = sealed.channels

    def __getitem__(self, span: slice) -> np.ndarray:
        size = 2 * self.nch
        raw = self.sealed.read(WAV_HEADER + span.start * size, (span.stop - span.start) * size)
        return np.frombuffer(raw, dtype="<i2").reshape(-1, self.nch)


WAV_HEADER = 44


def compute_peaks(path: Path, points: int = DEFAULT_POINTS, sealed: Any = None) -> dict[str, Any]:
    """Peak absolute amplitude (0..1) of each of ``points`` equal slices, per channel.

    ``sealed``: the recording opened with its key (:class:`salvesti.core.crypto.sealed.SealedFile`)."""
    points = max(1, min(int(points), MAX_POINTS))
    data: Any
    if sealed is not None:
        nch, rate = sealed.channels, sealed.sample_rate
        frames = sealed.pcm_bytes // (2 * nch)
        data = _SealedFrames(sealed)
    elif path.suffix.lower() == ".wav":
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

    def get(
        self, call_id: str, path: Path, points: int, open_sealed: Callable[[], Any] | None = None
    ) -> dict[str, Any]:
        """Blocking (file I/O and numpy): call it off the event loop.

        ``open_sealed`` opens an encrypted recording; its peaks stay in memory only, never in
        the clear on disk."""
        key = self._key(call_id, path, points)
        hit = self._mem.get(key)
        if hit is not None:
            self._mem.move_to_end(key)
            return hit
        if open_sealed is not None:
            with open_sealed() as sealed:
                result = compute_peaks(path, points, sealed)
        else:
            result = self._on_disk(call_id, key, path, points)
        self._mem[key] = result
        while len(self._mem) > self.size:
            self._mem.popitem(last=False)
        return result

    def _on_disk(self, call_id: str, key: str, path: Path, points: int) -> dict[str, Any]:
        safe = "".join(c for c in call_id if c.isalnum() or c in "-_T")
        disk = self.folder / f"{safe}-{points}.json"
        try:
            stored = json.loads(disk.read_text())
            if stored.get("key") == key:
                return dict(stored["peaks"])
        except (OSError, ValueError, KeyError):
            pass
        result = compute_peaks(path, points)
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            tmp = disk.with_suffix(".tmp")
            tmp.write_text(json.dumps({"key": key, "peaks": result}))
            tmp.replace(disk)
        except OSError:
            pass  # a read-only data dir only costs recomputation
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
