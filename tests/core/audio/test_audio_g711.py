"""G.711 against CPython's audioop where it exists (3.11, 3.12) and ITU reference points always."""

import importlib
import warnings

import numpy as np

from salvesti.core.audio import g711


def _audioop():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            return importlib.import_module("audioop")
        except ImportError:
            return None


ALL_CODES = bytes(range(256))
ALL_SAMPLES = np.arange(65536, dtype=np.uint16).tobytes()


def test_itu_reference_points():
    ulaw = np.frombuffer(g711.ulaw_decode(bytes([0x00, 0x7F, 0x80, 0xFF, 0x0F])), "<i2").tolist()
    assert ulaw == [-32124, 0, 32124, 0, -16764]
    alaw = np.frombuffer(g711.alaw_decode(bytes([0xD5, 0x55, 0x2A, 0xAA])), "<i2").tolist()
    assert alaw == [8, -8, -32256, 32256]
    # silence and full scale encode to the standard codes
    pcm = np.array([0, 32767, -32768], "<i2").tobytes()
    assert g711.ulaw_encode(pcm) == bytes([0xFF, 0x80, 0x00])
    assert g711.alaw_encode(pcm) == bytes([0xD5, 0xAA, 0x2A])


def test_decode_encode_round_trip_is_identity_on_codes():
    assert g711.ulaw_encode(g711.ulaw_decode(ALL_CODES)) == bytes(
        c if c != 0x7F else 0xFF for c in ALL_CODES
    )  # mu-law has two zeros (0x7F and 0xFF); the encoder picks 0xFF
    assert g711.alaw_encode(g711.alaw_decode(ALL_CODES)) == ALL_CODES


def test_bit_exact_with_audioop_when_available():
    audioop = _audioop()
    if audioop is None:  # Python 3.13+: the ITU reference points above are the check
        assert g711.ulaw_decode(b"\x80") == np.array([32124], "<i2").tobytes()
        return
    assert g711.ulaw_decode(ALL_CODES) == audioop.ulaw2lin(ALL_CODES, 2)
    assert g711.alaw_decode(ALL_CODES) == audioop.alaw2lin(ALL_CODES, 2)
    assert g711.ulaw_encode(ALL_SAMPLES) == audioop.lin2ulaw(ALL_SAMPLES, 2)
    assert g711.alaw_encode(ALL_SAMPLES) == audioop.lin2alaw(ALL_SAMPLES, 2)


def test_law_to_law_tables_match_the_long_way():
    via_pcm = g711.alaw_encode(g711.ulaw_decode(ALL_CODES))
    assert ALL_CODES.translate(g711.ULAW_TO_ALAW) == via_pcm
    assert ALL_CODES.translate(g711.ALAW_TO_ULAW) == g711.ulaw_encode(g711.alaw_decode(ALL_CODES))
