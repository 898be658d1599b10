"""Codec objects (G.711, G.722 and Opus through PyAV) and resampling."""

import numpy as np
import pytest

from salvesti.core.audio.codecs import CodecError, get_codec, resample


def tone(rate: int, seconds: float, freq: float = 440.0, amp: int = 8000) -> bytes:
    t = np.arange(int(rate * seconds)) / rate
    return (np.sin(2 * np.pi * freq * t) * amp).astype("<i2").tobytes()


def rms(pcm: bytes) -> float:
    return float(np.sqrt(np.mean(np.frombuffer(pcm, "<i2").astype(np.float64) ** 2)))


@pytest.mark.parametrize(
    ("name", "clock", "rate", "payload_len"),
    [("PCMU", 8000, 8000, 160), ("PCMA", 8000, 8000, 160), ("G722", 8000, 16000, 160)],
)
def test_fixed_rate_codecs_frame_sizes_and_round_trip(name, clock, rate, payload_len):
    enc, dec = get_codec(name, clock), get_codec(name, clock)
    assert (enc.sample_rate, enc.rtp_clock_rate) == (rate, clock)
    assert enc.samples_per_frame(20) == rate // 50
    assert enc.timestamp_step(20) == 160
    audio = tone(rate, 0.2)
    step = enc.samples_per_frame(20) * 2
    out = b""
    for pos in range(0, len(audio), step):
        payload = enc.encode(audio[pos : pos + step])
        assert len(payload) == payload_len
        out += dec.decode(payload)
    assert len(out) == len(audio)
    # energy survives (G.722 has a short codec delay, so compare levels, not samples)
    assert rms(out[len(out) // 2 :]) == pytest.approx(rms(audio), rel=0.15)


def test_opus_round_trip_at_48k():
    enc, dec = get_codec("opus", 48000), get_codec("OPUS", 48000)
    audio = tone(48000, 0.4)
    step = enc.samples_per_frame(20) * 2
    out = b"".join(dec.decode(enc.encode(audio[p : p + step])) for p in range(0, len(audio), step))
    assert len(out) == len(audio)
    assert rms(out[len(out) // 2 :]) == pytest.approx(rms(audio), rel=0.25)
    assert enc.timestamp_step(20) == 960


def test_unknown_codec_and_rate_are_clear_errors():
    with pytest.raises(CodecError, match="unsupported codec 'G729'"):
        get_codec("G729", 8000)
    with pytest.raises(CodecError, match="unsupported RTP clock rate 16000"):
        get_codec("G722", 16000)


def test_every_get_codec_call_is_a_fresh_stateful_object():
    assert get_codec("G722", 8000) is not get_codec("G722", 8000)


@pytest.mark.parametrize(
    ("src", "dst"), [(16000, 8000), (48000, 8000), (8000, 16000), (8000, 48000), (16000, 48000)]
)
def test_resample_keeps_duration_and_level(src, dst):
    audio = tone(src, 0.5, freq=300)
    out = resample(audio, src, dst)
    assert len(out) // 2 == int(0.5 * dst)
    assert rms(out) == pytest.approx(rms(audio), rel=0.1)
    assert resample(audio, src, src) is audio
