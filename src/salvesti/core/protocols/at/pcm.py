"""Sample formats of modem audio, to and from mono s16le (what the recorder takes).

``s16le``: 16-bit signed little-endian (SIMCom, Quectel); ``u8``: 8-bit unsigned linear,
0x80 = silence (V.253 ``+VSM=1`` on Conexant chips); ``ulaw``/``alaw``: G.711.
"""

from __future__ import annotations

import numpy as np

from salvesti.core.audio import g711

ENCODINGS = ("s16le", "u8", "ulaw", "alaw")


def bytes_per_sample(encoding: str) -> int:
    return 2 if encoding == "s16le" else 1


def to_linear16(data: bytes, encoding: str) -> bytes:
    """Device samples to s16le (an odd trailing byte of s16le input is dropped)."""
    if encoding == "s16le":
        return data[: len(data) // 2 * 2]
    if encoding == "u8":
        return ((np.frombuffer(data, np.uint8).astype(np.int16) - 128) << 8).astype("<i2").tobytes()
    return g711.ulaw_decode(data) if encoding == "ulaw" else g711.alaw_decode(data)


def from_linear16(pcm: bytes, encoding: str) -> bytes:
    """s16le to device samples."""
    if encoding == "s16le":
        return pcm
    if encoding == "u8":
        samples = np.frombuffer(pcm[: len(pcm) // 2 * 2], "<i2").astype(np.int32)
        return ((samples >> 8) + 128).astype(np.uint8).tobytes()
    return g711.ulaw_encode(pcm) if encoding == "ulaw" else g711.alaw_encode(pcm)


def silence(encoding: str, samples: int) -> bytes:
    """``samples`` samples of silence in the device's format."""
    return from_linear16(bytes(2 * samples), encoding)
