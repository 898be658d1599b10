"""G.711 mu-law and A-law (ITU-T G.711), table driven.

Decoding runs for every received packet, so it avoids numpy's per-call overhead: the 256
input codes map to a low and a high output byte through two ``bytes.translate`` tables and
are interleaved with slice assignment, all in C.  Encoding needs a 65,536-entry table, a
single numpy fancy-index per packet.  The tables follow the ITU reference (the same
segment search as the classic Sun g711.c and CPython's former ``audioop``), so results are
bit-exact with both.
"""

from __future__ import annotations

import numpy as np

_SEG_UEND = np.array([0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF, 0x1FFF])
_SEG_AEND = np.array([0x1F, 0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF])


def _ulaw_to_linear(codes: np.ndarray) -> np.ndarray:
    u = (~codes) & 0xFF
    t = (((u & 0x0F) << 3) + 0x84) << ((u & 0x70) >> 4)
    return np.where(u & 0x80, 0x84 - t, t - 0x84).astype(np.int16)


def _alaw_to_linear(codes: np.ndarray) -> np.ndarray:
    a = codes ^ 0x55
    t = (a & 0x0F) << 4
    seg = (a & 0x70) >> 4
    t = np.where(seg == 0, t + 8, t + 0x108)
    t = np.where(seg > 1, t << np.maximum(seg - 1, 0), t)
    return np.where(a & 0x80, t, -t).astype(np.int16)


def _linear_to_ulaw(samples: np.ndarray) -> np.ndarray:
    pcm = samples >> 2
    mask = np.where(pcm < 0, 0x7F, 0xFF)
    pcm = np.minimum(np.abs(pcm), 8159) + 0x21
    seg = np.searchsorted(_SEG_UEND, pcm)
    uval = (seg << 4) | ((pcm >> (seg + 1)) & 0x0F)
    return (np.where(seg >= 8, 0x7F, uval) ^ mask).astype(np.uint8)


def _linear_to_alaw(samples: np.ndarray) -> np.ndarray:
    pcm = samples >> 3
    mask = np.where(pcm >= 0, 0xD5, 0x55)
    pcm = np.where(pcm >= 0, pcm, -pcm - 1)
    seg = np.searchsorted(_SEG_AEND, pcm)
    low = np.where(seg < 2, pcm >> 1, pcm >> np.maximum(seg, 1)) & 0x0F
    aval = np.where(seg >= 8, 0x7F, (seg << 4) | low)
    return (aval ^ mask).astype(np.uint8)


_CODES = np.arange(256, dtype=np.int64)
_ALL16 = np.arange(65536, dtype=np.uint16).view(np.int16).astype(np.int64)

ULAW_TO_LINEAR: np.ndarray = _ulaw_to_linear(_CODES)
ALAW_TO_LINEAR: np.ndarray = _alaw_to_linear(_CODES)
#: Indexed by the sample's bit pattern as uint16 (so negative samples sit above 32767).
LINEAR_TO_ULAW: np.ndarray = _linear_to_ulaw(_ALL16)
LINEAR_TO_ALAW: np.ndarray = _linear_to_alaw(_ALL16)


def _byte_tables(linear: np.ndarray) -> tuple[bytes, bytes]:
    raw = linear.astype("<i2").tobytes()
    return raw[0::2], raw[1::2]


_ULAW_LO, _ULAW_HI = _byte_tables(ULAW_TO_LINEAR)
_ALAW_LO, _ALAW_HI = _byte_tables(ALAW_TO_LINEAR)


def ulaw_decode(data: bytes) -> bytes:
    """mu-law codes → s16le samples (twice as many bytes)."""
    out = bytearray(len(data) * 2)
    out[0::2] = data.translate(_ULAW_LO)
    out[1::2] = data.translate(_ULAW_HI)
    return bytes(out)


def alaw_decode(data: bytes) -> bytes:
    """A-law codes → s16le samples (twice as many bytes)."""
    out = bytearray(len(data) * 2)
    out[0::2] = data.translate(_ALAW_LO)
    out[1::2] = data.translate(_ALAW_HI)
    return bytes(out)


def ulaw_encode(pcm: bytes) -> bytes:
    """s16le samples → mu-law codes (an odd trailing byte is ignored)."""
    return LINEAR_TO_ULAW[np.frombuffer(pcm, dtype="<u2", count=len(pcm) // 2)].tobytes()


def alaw_encode(pcm: bytes) -> bytes:
    """s16le samples → A-law codes (an odd trailing byte is ignored)."""
    return LINEAR_TO_ALAW[np.frombuffer(pcm, dtype="<u2", count=len(pcm) // 2)].tobytes()


#: Transcoding between the two laws without going through 16-bit samples.
ULAW_TO_ALAW: bytes = LINEAR_TO_ALAW[ULAW_TO_LINEAR.view(np.uint16)].tobytes()
ALAW_TO_ULAW: bytes = LINEAR_TO_ULAW[ALAW_TO_LINEAR.view(np.uint16)].tobytes()
