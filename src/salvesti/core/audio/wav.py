"""A WAV writer that survives a crash, and the repair for files that did not.

A recording is written while the call runs.  After every :meth:`WavWriter.flush` (the
recording calls it about once a second) the RIFF and data sizes in the header describe
everything written so far, so a process killed with SIGKILL leaves a file that plays to
within about a second of the cut; :func:`repair_wav` fixes the rest (sizes of the last
partial second, a half-written frame) at the next start.  Writes go straight to the file
descriptor (no Python buffering) so that "written" means "in the kernel's page cache".
"""

from __future__ import annotations

import errno
import os
import struct
from pathlib import Path
from typing import NamedTuple

HEADER_SIZE = 44
_FMT_PCM = 1


def wav_header(sample_rate: int, channels: int, data_bytes: int, bits: int = 16) -> bytes:
    """The canonical 44-byte PCM header (RIFF, ``fmt `` of 16 bytes, ``data``)."""
    block = channels * bits // 8
    return b"".join(
        (
            b"RIFF",
            struct.pack("<I", min(36 + data_bytes, 0xFFFFFFFF)),
            b"WAVEfmt ",
            struct.pack("<IHHIIHH", 16, _FMT_PCM, channels, sample_rate, sample_rate * block, block, bits),
            b"data",
            struct.pack("<I", min(data_bytes, 0xFFFFFFFF)),
        )
    )


class WavWriter:
    """Incremental 16-bit PCM WAV file; implements core ``RecordingWriter``.

    Not thread-safe: one thread at a time (the recording's writer thread) calls it.
    """

    def __init__(self, path: str | Path, sample_rate: int, channels: int = 2) -> None:
        self.path = Path(path)
        self.sample_rate = sample_rate
        self.channels = channels
        self.frame_bytes = 2 * channels
        self.data_bytes = 0
        self._fd: int | None = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o640)
        try:
            self._write_all(wav_header(sample_rate, channels, 0))
        except BaseException:
            self.close(fsync=False)
            raise

    @property
    def closed(self) -> bool:
        return self._fd is None

    @property
    def duration_s(self) -> float:
        return self.data_bytes / (self.frame_bytes * self.sample_rate)

    def _write_all(self, data: bytes | memoryview) -> None:
        if self._fd is None:
            raise ValueError(f"{self.path}: writer is closed")
        view = memoryview(data)
        while view:
            written = os.write(self._fd, view)
            view = view[written:]

    def write_frames(self, frames: bytes) -> None:
        """Append interleaved s16le frames (whole frames only)."""
        self._write_all(frames)
        self.data_bytes += len(frames)

    def flush(self) -> None:
        """Make the header describe every frame written so far (no fsync: that is for close).

        Raises ``FileNotFoundError`` when the file was deleted under us (folder removed,
        disk unmounted): writes to an unlinked file succeed silently, so this is the only
        way to notice before the call ends.
        """
        if self._fd is None:
            return
        if os.fstat(self._fd).st_nlink == 0:
            raise FileNotFoundError(
                errno.ENOENT, "recording file was removed while being written", str(self.path)
            )
        self._fix_header()

    def _fix_header(self) -> None:
        os.pwrite(self._fd, struct.pack("<I", min(36 + self.data_bytes, 0xFFFFFFFF)), 4)  # type: ignore[arg-type]
        os.pwrite(self._fd, struct.pack("<I", min(self.data_bytes, 0xFFFFFFFF)), 40)  # type: ignore[arg-type]

    def close(self, *, fsync: bool = True) -> None:
        """Fix the header, optionally fsync, close.  Safe to call twice."""
        if self._fd is None:
            return
        fd = self._fd
        try:
            self._fix_header()
            if fsync:
                os.fsync(fd)
        finally:
            self._fd = None
            os.close(fd)


class WavData(NamedTuple):
    sample_rate: int
    channels: int
    bits: int
    frames: bytes

    @property
    def duration_s(self) -> float:
        return len(self.frames) / (self.channels * self.bits // 8) / self.sample_rate


class WavError(ValueError):
    """Not a WAV file we can read or repair."""


def wav_layout(head: bytes) -> tuple[tuple[int, int, int, int], int, int]:
    """From a file's first bytes: ``((format, channels, rate, bits), data_size_offset, data_offset)``."""
    if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
        raise WavError("not a RIFF/WAVE file")
    pos = 12
    fmt: tuple[int, int, int, int] | None = None
    while pos + 8 <= len(head):
        cid = head[pos : pos + 4]
        size = struct.unpack_from("<I", head, pos + 4)[0]
        if cid == b"fmt " and pos + 24 <= len(head):
            tag, channels, rate, _br, _ba, bits = struct.unpack_from("<HHIIHH", head, pos + 8)
            fmt = (tag, channels, rate, bits)
        elif cid == b"data":
            if fmt is None:
                raise WavError("data chunk before fmt chunk")
            return fmt, pos + 4, pos + 8
        pos += 8 + size + (size & 1)
    raise WavError("no data chunk in the first kilobytes")


def read_wav(path: str | Path) -> WavData:
    """Read a PCM WAV (trusting the file length over a stale data size, as players do)."""
    raw = Path(path).read_bytes()
    (tag, channels, rate, bits), size_at, data_at = wav_layout(raw[:4096])
    if tag not in (_FMT_PCM, 0xFFFE):
        raise WavError(f"unsupported WAV format tag {tag:#x}")
    declared = struct.unpack_from("<I", raw, size_at)[0]
    available = len(raw) - data_at
    size = available if declared in (0, 0xFFFFFFFF) or declared > available else declared
    block = channels * bits // 8
    size -= size % block
    return WavData(rate, channels, bits, raw[data_at : data_at + size])


def repair_wav(path: str | Path, *, sample_rate: int = 8000, channels: int = 2) -> float:
    """Make a cut-off recording valid again and return its duration in seconds.

    Drops a trailing partial frame and rewrites the sizes from the file length.  A file
    cut before its header was complete gets a fresh header for ``sample_rate``/``channels``
    (the recording's own settings, which the caller knows).
    """
    path = Path(path)
    with open(path, "r+b") as fh:
        head = fh.read(4096)
        try:
            (_tag, ch, rate, bits), size_at, data_at = wav_layout(head)
        except WavError:
            if head[:4] == b"RIFF" or len(head) < HEADER_SIZE:
                fh.seek(0)
                fh.truncate()
                fh.write(wav_header(sample_rate, channels, 0))
                fh.flush()
                os.fsync(fh.fileno())
                return 0.0
            raise
        total = os.fstat(fh.fileno()).st_size
        block = ch * bits // 8
        data = total - data_at
        data -= data % block
        fh.truncate(data_at + data)
        fh.seek(4)
        fh.write(struct.pack("<I", min(data_at - 8 + data, 0xFFFFFFFF)))
        fh.seek(size_at)
        fh.write(struct.pack("<I", min(data, 0xFFFFFFFF)))
        fh.flush()
        os.fsync(fh.fileno())
    return data / block / rate
