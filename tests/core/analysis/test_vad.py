"""Voice activity: the energy gate, webrtcvad, their AND against bleed, smoothing, gating, cutting."""

from __future__ import annotations

import itertools
import sys
import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from salvesti.core.analysis import vad

RATE = 8000


def tone(seconds: float, dbfs: float, freq: float = 440.0, rate: int = RATE) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return np.sqrt(2) * 32768 * 10 ** (dbfs / 20) * np.sin(2 * np.pi * freq * t)


def frames(spec: str) -> np.ndarray:
    """'1' speech, '0' not, one character per 10 ms frame; spaces ignored."""
    return np.array([c == "1" for c in spec.replace(" ", "")])


# -- energy --------------------------------------------------------------------------------------


def test_frame_levels_are_dbfs_per_10_ms():
    x = np.concatenate([tone(0.5, -20.0), np.zeros(RATE // 2)]).astype(np.int16)
    level = vad.frame_dbfs(x, RATE)
    assert level.shape == (100,)
    assert level[:50] == pytest.approx(-20.0, abs=0.2)
    assert (level[50:] < -100).all()


def test_digital_silence_and_quiet_hiss_are_never_speech():
    assert not vad.energy_vad(np.zeros(RATE * 3, np.int16), RATE).any()
    hiss = np.random.default_rng(1).normal(0, 32768 * 10 ** (-58 / 20), RATE * 3).astype(np.int16)
    assert not vad.energy_vad(hiss, RATE).any()
    # Hiss with a quiet click far below -50 dBFS: the floor adapts, the -50 dBFS minimum holds.
    hiss[RATE : RATE + 400] += tone(0.05, -52.0).astype(np.int16)
    assert not vad.energy_vad(hiss, RATE).any()


def test_a_loud_burst_over_noise_is_speech_exactly_where_it_is(synth):
    noise = np.random.default_rng(2).normal(0, 32768 * 10 ** (-55 / 20), RATE * 4)
    x = noise.copy()
    x[RATE : 2 * RATE] += tone(1.0, -25.0)
    found = vad.energy_vad(synth.to_int16(x), RATE)
    assert found[100:200].all() and not found[:100].any() and not found[200:].any()


def test_a_party_who_never_pauses_still_counts(synth):
    """The floor percentile lands inside speech then; the floor cap keeps the bar reachable."""
    x = synth.to_int16(np.resize(synth.speech_like(2.0, 4, level_dbfs=-28.0), RATE * 20) + 40)
    x[::7] += 200  # no digital silence anywhere
    assert vad.smooth(vad.energy_vad(x, RATE)).mean() > 0.95


# -- webrtcvad and the AND -------------------------------------------------------------------------


@pytest.mark.parametrize("rate", [8000, 11025, 16000, 22050, 32000, 44100, 48000])
def test_every_detector_gives_one_frame_per_10_ms_at_any_rate(rate):
    n = int(rate * 2.345)
    x = np.random.default_rng(rate).normal(0, 3000, n).astype(np.int16)
    expected = n * 100 // rate
    assert len(vad.energy_vad(x, rate)) == expected
    rtc = vad.webrtc_vad(x, rate)
    assert rtc is not None and len(rtc) == expected
    assert len(vad.speech_frames(x, rate)) == expected


def test_the_same_speech_is_found_at_other_rates(synth):
    clip = np.concatenate([np.zeros(RATE), synth.speech_like(3.0, 8), np.zeros(RATE)])
    x = synth.to_int16(clip + np.random.default_rng(3).normal(0, 20, clip.size))
    want = vad.detect(x, RATE)
    assert len(want) == 1
    for rate in (11025, 16000, 44100):
        y = synth.to_int16(
            np.interp(np.arange(int(len(x) * rate / RATE)) * RATE / rate, np.arange(len(x)), x)
        )
        got = vad.detect(y, rate)
        assert len(got) == 1 and got[0] == pytest.approx(want[0], abs=0.05), rate


def test_without_webrtcvad_the_energy_gate_alone_decides(monkeypatch, synth):
    monkeypatch.setitem(sys.modules, "webrtcvad", None)  # makes `import webrtcvad` fail
    x = synth.to_int16(np.concatenate([np.zeros(RATE), synth.speech_like(2.0, 1), np.zeros(RATE)]))
    assert vad.webrtc_vad(x, RATE) is None
    assert (vad.speech_frames(x, RATE) == vad.energy_vad(x, RATE)).all()
    assert vad.detect(x, RATE) == [pytest.approx((1.0, 2.96), abs=0.05)]


def bleed_call(synth):
    """The agent talks 1-5 s, the outside party 6-10 s; each channel has 5 % of the other."""
    call = synth.Call(12.0)
    call.say("agent", 1.0, synth.speech_like(4.0, 11, f0=120))
    call.say("outside", 6.0, synth.speech_like(4.0, 12, f0=210))
    return call.channels(noise_dbfs=-65.0)


def test_webrtcvad_alone_hears_the_bleed_and_the_and_with_energy_does_not(synth):
    outside, agent = bleed_call(synth)
    agent_turn = slice(100, 500)  # frames where only the agent talks: the outside channel has bleed
    rtc = vad.webrtc_vad(outside, RATE)
    assert rtc is not None and rtc[agent_turn].mean() > 0.5  # level-blind: -26 dB bleed is "speech"
    both = vad.speech_frames(outside, RATE)
    assert not both[agent_turn].any()
    assert both[600:1000].mean() > 0.6  # while the party's own speech is found
    assert vad.detect(outside, RATE) == [pytest.approx((6.0, 10.0), abs=0.05)]
    assert vad.detect(agent, RATE) == [pytest.approx((1.0, 5.0), abs=0.05)]


def test_a_silent_party_channel_with_only_bleed_needs_the_other_channel(synth):
    call = synth.Call(8.0)
    call.say("agent", 1.0, synth.speech_like(5.0, 13))
    outside, agent = call.channels(noise_dbfs=-65.0)
    # Alone, the bleed is the loudest thing in that channel: nothing tells it from speech.
    assert vad.detect(outside, RATE) != []
    assert vad.detect(outside, RATE, other=agent) == []
    assert vad.detect(agent, RATE, other=outside) == [pytest.approx((1.0, 6.0), abs=0.05)]


def test_the_other_channel_keeps_real_double_talk(synth):
    call = synth.Call(8.0)
    call.say("agent", 1.0, synth.speech_like(5.0, 14, f0=120))
    call.say("outside", 3.0, synth.speech_like(2.0, 15, f0=220, level_dbfs=-26.0))  # 6 dB quieter
    outside, agent = call.channels()
    assert vad.detect(outside, RATE, other=agent) == [pytest.approx((3.0, 5.0), abs=0.1)]
    assert vad.detect(agent, RATE, other=outside) == [pytest.approx((1.0, 6.0), abs=0.05)]


# -- smoothing and segments ------------------------------------------------------------------------


def test_short_pauses_are_bridged_and_short_bursts_dropped():
    pause_04 = frames("1" * 30 + "0" * 40 + "1" * 30)
    assert vad.segments(vad.smooth(pause_04)) == [(0.0, 1.0)]
    pause_05 = frames("1" * 30 + "0" * 50 + "1" * 30)
    assert vad.segments(vad.smooth(pause_05)) == [(0.0, 0.3), (0.8, 1.1)]
    assert vad.segments(vad.smooth(frames("0" * 10 + "1" * 24 + "0" * 100))) == []
    assert vad.segments(vad.smooth(frames("0" * 10 + "1" * 25 + "0" * 100))) == [(0.1, 0.35)]
    # Bridging first: two 0.2 s bursts 0.1 s apart make one 0.5 s segment.
    assert vad.segments(vad.smooth(frames("1" * 20 + "0" * 10 + "1" * 20))) == [(0.0, 0.5)]
    # Leading and trailing silence is not a pause to bridge.
    assert vad.segments(vad.smooth(frames("0" * 20 + "1" * 30 + "0" * 20))) == [(0.2, 0.5)]


def test_smooth_parameters_and_edge_cases():
    x = frames("1" * 10 + "0" * 10 + "1" * 10)
    assert vad.segments(vad.smooth(x, min_speech_s=0.1, bridge_s=0.05)) == [(0.0, 0.1), (0.2, 0.3)]
    assert vad.smooth(np.zeros(0, bool)).shape == (0,)
    assert vad.segments(np.zeros(0, bool)) == []
    assert vad.smooth(x).dtype == bool and len(vad.smooth(x)) == len(x)


def test_segments_are_plain_floats_on_the_grid():
    segs = vad.segments(frames("0111" + "0" * 7 + "11"))
    assert segs == [(0.01, 0.04), (0.11, 0.13)]
    assert all(type(a) is float and type(b) is float for a, b in segs)


def test_detect_finds_each_utterance_of_a_channel(synth):
    call = synth.Call(10.0)
    first = call.say("agent", 0.7, synth.speech_like(2.0, 21))
    second = call.say("agent", 4.2, synth.speech_like(3.1, 22))
    _, agent = call.channels()
    found = vad.detect(agent, RATE)
    assert len(found) == 2
    for got, want in zip(found, (first, second), strict=True):
        assert got == pytest.approx(want, abs=0.05)


def test_espeak_speech_is_one_segment_per_utterance(espeak, synth):
    call = synth.Call(9.0)
    span = call.say("agent", 0.5, espeak("Good morning, Acme Telecom. How can I help you today?"))
    _, agent = call.channels()
    (got,) = vad.detect(agent, RATE)
    assert got == pytest.approx(span, abs=0.1)


# -- gate and cut -----------------------------------------------------------------------------------


def test_gate_keeps_only_the_padded_segments_and_copies():
    x = np.full(RATE * 3, 1000, dtype=np.int16)
    gated = vad.gate(x, RATE, [(0.5, 1.0), (2.5, 9.0)], pad_s=0.1)
    assert gated.dtype == np.int16 and (x == 1000).all()
    keep = np.zeros(len(x), bool)
    keep[int(0.4 * RATE) : int(1.1 * RATE)] = True
    keep[int(2.4 * RATE) :] = True
    assert (gated[keep] == 1000).all() and (gated[~keep] == 0).all()
    assert not vad.gate(x, RATE, []).any()
    assert (vad.gate(x, RATE, [(0.0, 3.0)]) == x).all()


def test_gate_default_pad_is_150_ms():
    x = np.ones(RATE * 2, dtype=np.int16)
    gated = vad.gate(x, RATE, [(1.0, 1.5)])
    assert gated[int(0.86 * RATE)] == 1 and gated[int(0.84 * RATE)] == 0
    assert gated[int(1.64 * RATE)] == 1 and gated[int(1.66 * RATE)] == 0


def test_cut_removes_a_span_and_splits_segments():
    segs = [(0.0, 1.0), (2.0, 6.0), (7.0, 8.0)]
    assert vad.cut(segs, 3.0, 4.0) == [(0.0, 1.0), (2.0, 3.0), (4.0, 6.0), (7.0, 8.0)]
    assert vad.cut(segs, 0.5, 2.5) == [(0.0, 0.5), (2.5, 6.0), (7.0, 8.0)]
    assert vad.cut(segs, 0.0, 10.0) == []
    assert vad.cut(segs, 10.0, 12.0) == segs
    assert vad.cut(segs, 1.0, 2.0) == segs  # touching is not overlapping
    assert vad.cut([(0.0, 3.1)], 0.0, 3.0) == []  # 0.1 s left: shorter than any speech
    assert vad.cut([(0.0, 3.1)], 0.0, 3.0, min_s=0.05) == [(3.0, 3.1)]
    assert vad.cut([], 0.0, 1.0) == []


# -- speed and robustness ---------------------------------------------------------------------------


def test_detect_is_far_faster_than_real_time(synth):
    """Goal: >= 500x real time on 8 kHz audio (measured here: ~5000x)."""
    clip = np.concatenate([synth.speech_like(4.0, 31), np.zeros(RATE)])
    x = synth.to_int16(np.resize(clip, RATE * 60) + np.random.default_rng(5).normal(0, 20, RATE * 60))
    best = min(_timed(vad.detect, x, RATE) for _ in range(3))
    assert 60.0 / best >= 500, f"{60.0 / best:.0f}x real time"


def _timed(fn, *args) -> float:
    start = time.perf_counter()
    fn(*args)
    return time.perf_counter() - start


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.integers(-32768, 32767), max_size=3000),
    st.sampled_from([8000, 11025, 16000, 44100, 48000]),
    st.booleans(),
)
def test_vad_never_raises_and_lengths_agree(samples, rate, with_other):
    pcm = np.array(samples, dtype=np.int16)
    other = pcm[::-1].copy() if with_other else None
    n = len(pcm) * 100 // rate
    speech = vad.speech_frames(pcm, rate, other=other)
    assert speech.dtype == bool and len(speech) == n
    smoothed = vad.smooth(speech)
    assert len(smoothed) == n and not (smoothed & ~_bridged_or(speech, smoothed)).any()
    segs = vad.detect(pcm, rate, other=other)
    assert segs == vad.segments(smoothed)
    assert all(0 <= a < b <= n / 100 for a, b in segs)
    assert all(b1 < a2 for (_, b1), (a2, _) in itertools.pairwise(segs))
    assert len(vad.gate(pcm, rate, segs)) == len(pcm)


def _bridged_or(speech: np.ndarray, smoothed: np.ndarray) -> np.ndarray:
    """Smoothing only adds frames between two speech frames (a bridged pause)."""
    idx = np.arange(len(speech))
    seen = np.flatnonzero(speech)
    if seen.size == 0:
        return np.zeros(len(speech), bool)
    return (idx >= seen[0]) & (idx <= seen[-1])
