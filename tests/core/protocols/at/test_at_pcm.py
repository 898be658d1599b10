"""Modem sample formats to and from s16le."""

from __future__ import annotations

import struct

import pytest

from salvesti.core.protocols.at.pcm import bytes_per_sample, from_linear16, silence, to_linear16


def test_u8_is_unsigned_with_0x80_silence():
    pcm = struct.pack("<4h", 0, 32767, -32768, 256)
    assert from_linear16(pcm, "u8") == bytes([0x80, 0xFF, 0x00, 0x81])
    assert to_linear16(bytes([0x80, 0xFF, 0x00]), "u8") == struct.pack("<3h", 0, 127 << 8, -32768)
    assert silence("u8", 3) == b"\x80\x80\x80"


@pytest.mark.parametrize("encoding", ["s16le", "u8", "ulaw", "alaw"])
def test_round_trip_is_close(encoding):
    samples = [0, 1000, -1000, 12000, -12000, 30000]
    pcm = struct.pack(f"<{len(samples)}h", *samples)
    back = struct.unpack(f"<{len(samples)}h", to_linear16(from_linear16(pcm, encoding), encoding))
    tolerance = {"s16le": 0, "u8": 256, "ulaw": 1024, "alaw": 1024}[encoding]
    assert all(abs(a - b) <= tolerance for a, b in zip(samples, back, strict=True))
    assert len(from_linear16(pcm, encoding)) == len(samples) * bytes_per_sample(encoding)


def test_odd_s16le_byte_is_dropped():
    assert to_linear16(b"\x01\x02\x03", "s16le") == b"\x01\x02"
