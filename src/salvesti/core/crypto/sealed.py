"""Sealed recordings: raw PCM in fixed-size AES-256-GCM chunks, readable at any offset.

Layout::

    header (32 bytes, clear): b"SALVENC1" | chunk size u32 | sample rate u32 | channels u16
                              | bits u16 | 12 zero bytes
    slot i at 32 + i * (12 + chunk + 16): nonce (12) | ciphertext | tag (16)

Every slot holds ``chunk`` bytes of PCM except the last, which may be shorter (even empty).
Each chunk's associated data is the header, its index and a "final" byte, so chunks cannot be
moved, swapped between files or cut off at a chunk boundary without the reader noticing; only
the last chunk of a finished file is sealed final.  Nonces are random (96 bits) per seal, never
derived from the index, because the unfinished last chunk is sealed again at every flush.

Crash safety, as with the WAV writer: during the call each flush seals the unfinished tail
chunk into its slot (one ``pwrite`` of at most one chunk) and full chunks are never written
again, so a crash leaves every full chunk plus the tail as of the last flush; ``repair`` keeps
the chunks that open and seals the last of them final.  A torn write loses at most that chunk.

Readers see the plaintext as a WAV file (a 44-byte header computed from the length, then the
PCM), so HTTP Range playback decrypts only the chunks a range touches.
"""

from __future__ import annotations

import io
import os
import struct
from pathlib import Path
from typing import Any

from salvesti.core.errors import SalvestiError


def aesgcm(key: bytes) -> Any:
    """AES-GCM from ``cryptography``, imported on first use: the package and its OpenSSL
    binding take about 8 MB, which a box that encrypts nothing should not pay at idle."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    return AESGCM(key)


def _invalid_tag() -> type[Exception]:
    from cryptography.exceptions import InvalidTag

    return InvalidTag

MAGIC = b"SALVENC1"
HEADER = struct.Struct("<8sIIHH12x")
NONCE, TAG = 12, 16
#: One second of 8 kHz stereo s16 per chunk: a Range request decrypts about that much extra,
#: and a torn write at a crash loses at most that much.
CHUNK = 32000
WAV_HEADER_BYTES = 44


class SealedError(SalvestiError):
    """A sealed file that is damaged, unfinished, or not opened by this key."""


def _aad(header: bytes, index: int, final: bool) -> bytes:
    return header + struct.pack("<QB", index, 1 if final else 0)


def wav_header(data_bytes: int, rate: int, channels: int, bits: int = 16) -> bytes:
    block = channels * bits // 8
    return struct.pack(
        "<4sI4s4sIHHIIHH4sI",
        b"RIFF", 36 + data_bytes, b"WAVE", b"fmt ", 16, 1, channels, rate, rate * block, block, bits,
        b"data", data_bytes,
    )  # fmt: skip


class SealedWriter:
    """A :class:`~salvesti.core.components.RecordingWriter` that seals PCM as it is written."""

    def __init__(
        self, path: Path, key: bytes, sample_rate: int, channels: int = 2, chunk: int = CHUNK
    ) -> None:
        self.path = path
        self.sample_rate = sample_rate
        self.channels = channels
        self.chunk = chunk
        self._aead = aesgcm(key)
        self._header = HEADER.pack(MAGIC, chunk, sample_rate, channels, 16)
        self._tail = bytearray()
        self._index = 0  # slot of the tail chunk
        self._pcm = 0  # PCM bytes written in full chunks
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o600)
        os.pwrite(self._fd, self._header, 0)
        self._closed = False

    @property
    def duration_s(self) -> float:
        return (self._pcm + len(self._tail)) / (self.sample_rate * self.channels * 2)

    def _slot(self, index: int) -> int:
        return HEADER.size + index * (NONCE + self.chunk + TAG)

    def _seal(self, plain: bytes, final: bool) -> None:
        nonce = os.urandom(NONCE)
        sealed = nonce + self._aead.encrypt(nonce, plain, _aad(self._header, self._index, final))
        offset = self._slot(self._index)
        os.pwrite(self._fd, sealed, offset)
        os.ftruncate(self._fd, offset + len(sealed))

    def write_frames(self, frames: bytes) -> None:
        self._tail += frames
        while len(self._tail) >= self.chunk:
            self._seal(bytes(self._tail[: self.chunk]), final=False)
            del self._tail[: self.chunk]
            self._index += 1
            self._pcm += self.chunk

    def flush(self) -> None:
        """Seal the unfinished tail into its slot (sealed again, with a new nonce, next time)."""
        if self._tail:
            self._seal(bytes(self._tail), final=False)

    def close(self, fsync: bool = True) -> None:
        if self._closed:
            return
        self._seal(bytes(self._tail), final=True)
        self._closed = True
        try:
            if fsync:
                os.fsync(self._fd)
        finally:
            os.close(self._fd)


class SealedFile:
    """Random access to a sealed file's plaintext, presented as a WAV file."""

    def __init__(self, path: Path, key: bytes, *, finished: bool = True) -> None:
        self.path = path
        self._fh = open(path, "rb")  # closed by close()
        try:
            header = self._fh.read(HEADER.size)
            if len(header) < HEADER.size:
                raise SealedError(f"{path.name}: not a sealed recording (too short)")
            magic, self.chunk, self.sample_rate, self.channels, bits = HEADER.unpack(header)
            if magic != MAGIC or self.chunk <= 0 or bits != 16:
                raise SealedError(f"{path.name}: not a sealed recording")
            self._header = header
            self._aead = aesgcm(key)
            slot = NONCE + self.chunk + TAG
            body = os.fstat(self._fh.fileno()).st_size - HEADER.size
            self.slots = max(1, -(-body // slot))
            last = body - (self.slots - 1) * slot
            if last < NONCE + TAG:
                raise SealedError(f"{path.name}: the last chunk is cut off (repair the recording)")
            self.pcm_bytes = (self.slots - 1) * self.chunk + last - NONCE - TAG
            self._finished = finished
            self._cache: tuple[int, bytes] | None = None
            if finished:
                self.read_chunk(self.slots - 1)  # proves the end is the real end
        except BaseException:
            self._fh.close()
            raise

    @property
    def size(self) -> int:
        """Length of the plaintext WAV: header plus PCM."""
        return WAV_HEADER_BYTES + self.pcm_bytes

    @property
    def duration_s(self) -> float:
        return self.pcm_bytes / (self.sample_rate * self.channels * 2)

    def read_chunk(self, index: int, *, final: bool | None = None) -> bytes:
        if self._cache is not None and self._cache[0] == index:
            return self._cache[1]
        slot = NONCE + self.chunk + TAG
        self._fh.seek(HEADER.size + index * slot)
        raw = self._fh.read(slot)
        if final is None:
            final = self._finished and index == self.slots - 1
        try:
            plain = self._aead.decrypt(raw[:NONCE], raw[NONCE:], _aad(self._header, index, final))
        except (_invalid_tag(), ValueError):
            raise SealedError(
                f"{self.path.name}: chunk {index} does not open (wrong key or damaged)"
            ) from None
        self._cache = (index, plain)
        return plain

    def read(self, offset: int, length: int) -> bytes:
        """``length`` bytes of the plaintext WAV from ``offset`` (fewer at the end)."""
        end = min(self.size, offset + length)
        out = bytearray()
        if offset < WAV_HEADER_BYTES:
            head = wav_header(self.pcm_bytes, self.sample_rate, self.channels)
            out += head[offset : min(end, WAV_HEADER_BYTES)]
        pos = max(offset, WAV_HEADER_BYTES) - WAV_HEADER_BYTES
        stop = end - WAV_HEADER_BYTES
        while pos < stop:
            index, skip = divmod(pos, self.chunk)
            plain = self.read_chunk(index)
            piece = plain[skip : skip + stop - pos]
            if not piece:
                break
            out += piece
            pos += len(piece)
        return bytes(out)

    def reader(self) -> io.BufferedReader:
        """A binary file object over the plaintext WAV (for ``wave``, copying, numpy)."""
        return io.BufferedReader(_Raw(self), buffer_size=self.chunk)

    def close(self) -> None:
        self._fh.close()

    def __enter__(self) -> SealedFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _Raw(io.RawIOBase):
    def __init__(self, sealed: SealedFile) -> None:
        self._sealed = sealed
        self._pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._sealed.size}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        data = self._sealed.read(self._pos, len(buffer))
        buffer[: len(data)] = data
        self._pos += len(data)
        return len(data)

    def close(self) -> None:
        self._sealed.close()
        super().close()


def repair(path: Path, key: bytes) -> float:
    """Keep the chunks of a file cut off by a crash that open, seal the last one final.

    Returns the duration kept (seconds).  Idempotent: a finished file is left as it is.
    """
    try:
        with SealedFile(path, key) as done:
            return done.duration_s
    except SealedError:
        pass
    aead = aesgcm(key)
    with open(path, "rb") as fh:
        header = fh.read(HEADER.size)
        if len(header) < HEADER.size or header[:8] != MAGIC:
            raise SealedError(f"{path.name}: not a sealed recording")
        _magic, chunk, rate, channels, _bits = HEADER.unpack(header)
        good, last = 0, b""
        while raw := fh.read(NONCE + chunk + TAG):
            try:
                last = aead.decrypt(raw[:NONCE], raw[NONCE:], _aad(header, good, False))
            except (_invalid_tag(), ValueError):
                break  # torn by the crash: what follows was never written whole
            good += 1
    keep = max(good - 1, 0)
    nonce = os.urandom(NONCE)
    sealed = nonce + aead.encrypt(nonce, last, _aad(header, keep, True))
    offset = HEADER.size + keep * (NONCE + chunk + TAG)
    fd = os.open(path, os.O_RDWR)
    try:
        os.pwrite(fd, sealed, offset)
        os.ftruncate(fd, offset + len(sealed))
        os.fsync(fd)
    finally:
        os.close(fd)
    return (keep * chunk + len(last)) / (rate * channels * 2)
