"""The sealed format: unreadable on disk, read back at any offset, repaired after a crash."""

from __future__ import annotations

import io
import os
import wave

import numpy as np
import pytest

from salvesti.core.crypto.access import parse_range
from salvesti.core.crypto.sealed import HEADER, NONCE, TAG, SealedError, SealedFile, SealedWriter, repair

KEY = bytes(range(32))
CHUNK = 4000  # small chunks, so a few seconds span many of them


def pcm(seconds: float, rate: int = 8000) -> bytes:
    """Stereo s16 that is easy to recognise in a file: a counting pattern."""
    n = int(seconds * rate) * 2
    return (np.arange(n) % 20000 + 1000).astype("<i2").tobytes()


def written(path, data: bytes, *, close: bool = True, flush_every: int = 3200) -> SealedWriter:
    w = SealedWriter(path, KEY, 8000, chunk=CHUNK)
    for i in range(0, len(data), flush_every):
        w.write_frames(data[i : i + flush_every])
        w.flush()
    if close:
        w.close()
    return w


def test_the_file_holds_no_wav_header_and_no_plaintext(tmp_path):
    data = pcm(2.0)
    path = tmp_path / "c.wav.enc"
    written(path, data)
    raw = path.read_bytes()
    assert b"RIFF" not in raw and b"WAVE" not in raw
    assert data[1000:1016] not in raw  # no 16-byte run of the audio survives
    assert os.stat(path).st_mode & 0o777 == 0o600


def test_reads_back_as_the_wav_it_was_at_every_offset(tmp_path):
    data = pcm(2.0)
    path = tmp_path / "c.wav.enc"
    written(path, data)
    with SealedFile(path, KEY) as sealed:
        assert sealed.size == 44 + len(data) and sealed.duration_s == 2.0
        whole = sealed.read(0, sealed.size)
        with wave.open(io.BytesIO(whole)) as w:
            assert (w.getnchannels(), w.getframerate(), w.getsampwidth()) == (2, 8000, 2)
            assert w.readframes(w.getnframes()) == data
        for start, length in (
            (0, 10),
            (40, 10),
            (CHUNK + 44 - 3, 7),
            (44 + 3 * CHUNK, CHUNK * 2),
            (sealed.size - 5, 99),
        ):
            assert sealed.read(start, length) == whole[start : start + length]
        with wave.open(sealed.reader()) as w:  # the file object works for ordinary readers
            assert w.readframes(10) == data[:40]


def test_a_wrong_key_or_a_moved_chunk_does_not_open(tmp_path):
    path = tmp_path / "c.wav.enc"
    written(path, pcm(1.0))
    with pytest.raises(SealedError, match="does not open"):
        SealedFile(path, bytes(32))
    raw = bytearray(path.read_bytes())
    slot = NONCE + CHUNK + TAG
    a, b = HEADER.size, HEADER.size + slot
    raw[a : a + slot], raw[b : b + slot] = raw[b : b + slot], raw[a : a + slot]
    path.write_bytes(bytes(raw))
    with SealedFile(path, KEY) as sealed, pytest.raises(SealedError, match="chunk 0"):
        sealed.read(44, 10)


def test_a_crash_keeps_what_was_flushed_and_repair_seals_it_final(tmp_path):
    data = pcm(1.5)
    path = tmp_path / "c.wav.enc"
    written(path, data, close=False)  # the process died: no final chunk
    with pytest.raises(SealedError):
        SealedFile(path, KEY)
    assert repair(path, KEY) == 1.5
    assert repair(path, KEY) == 1.5  # idempotent
    with SealedFile(path, KEY) as sealed:
        assert sealed.read(44, len(data)) == data


def test_a_torn_last_write_loses_only_that_chunk(tmp_path):
    data = pcm(1.5)
    path = tmp_path / "c.wav.enc"
    written(path, data, close=False)
    slot = NONCE + CHUNK + TAG
    full = (len(data) // CHUNK) * slot + HEADER.size
    with open(path, "r+b") as fh:
        fh.truncate(full - 10)  # the last full chunk only half on disk
    kept = repair(path, KEY)
    assert kept == (len(data) // CHUNK - 1) * CHUNK / 32000
    with SealedFile(path, KEY) as sealed:
        assert sealed.read(44, sealed.pcm_bytes) == data[: sealed.pcm_bytes]


@pytest.mark.parametrize(
    ("header", "expected"),
    [(None, None), ("bytes=0-9", (0, 9)), ("bytes=90-", (90, 99)), ("bytes=-10", (90, 99)),
     ("bytes=95-200", (95, 99)), ("bytes=0-1,5-6", None), ("items=1-2", None)],
)  # fmt: skip
def test_parse_range(header, expected):
    assert parse_range(header, 100) == expected


@pytest.mark.parametrize("header", ["bytes=100-", "bytes=5-2", "bytes=x-1", "bytes=-0"])
def test_unsatisfiable_ranges(header):
    with pytest.raises(ValueError):
        parse_range(header, 100)
