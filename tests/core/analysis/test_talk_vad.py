"""Voice activity and talk metrics on a synthetic two-party call with bleed, and notice matching."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from salvesti.core.analysis import notice_match, talk, vad

RATE = 8000


def voiced(seconds: float, seed: int, f0: float = 140.0) -> np.ndarray:
    """A speech-like signal: a harmonic buzz with syllable-rate amplitude changes."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * RATE)) / RATE
    pitch = f0 * (1 + 0.05 * np.sin(2 * np.pi * 0.7 * t))
    phase = 2 * np.pi * np.cumsum(pitch) / RATE
    tone = sum(np.sin(k * phase) / k for k in range(1, 12))
    syllables = 0.6 + 0.4 * np.abs(np.sin(2 * np.pi * 2.5 * t + rng.uniform(0, 3)))
    return (tone * syllables * 6000 + rng.normal(0, 30, t.size)).astype(np.float64)


def place(total: float, parts: list[tuple[float, np.ndarray]]) -> np.ndarray:
    out = np.zeros(int(total * RATE))
    for start, sig in parts:
        a = int(start * RATE)
        out[a : a + len(sig)] += sig[: len(out) - a]
    return out


def call() -> tuple[np.ndarray, np.ndarray]:
    """Agent 0.5-4.5, customer 5.3-9.3, agent cuts in at 8.5 until 12.5 (0.8 s overlap)."""
    agent = place(14, [(0.5, voiced(4, 1, 120)), (8.5, voiced(4, 2, 120))])
    customer = place(14, [(5.3, voiced(4, 3, 210))])
    noise = np.random.default_rng(9).normal(0, 20, agent.size)
    left = customer + 0.05 * agent + noise  # 5 % (-26 dB) bleed of the other party
    right = agent + 0.05 * customer + noise
    return left.astype(np.int16), right.astype(np.int16)


def test_bleed_is_not_speech_and_the_call_metrics_match_the_truth():
    left, right = call()
    outside, agent = vad.detect(left, RATE), vad.detect(right, RATE)
    metrics = talk.talk_metrics(outside, agent)
    assert metrics.outside_s == pytest.approx(4.0, abs=0.3)
    assert metrics.agent_s == pytest.approx(8.0, abs=0.4)
    assert metrics.overlap_s == pytest.approx(0.8, abs=0.3)
    assert metrics.interruptions == {"outside": 0, "agent": 1}
    assert metrics.turns == 3
    assert metrics.agent_share == pytest.approx(8 / 12, abs=0.05)
    assert metrics.longest_monologue_s["agent"] == pytest.approx(4.0, abs=0.3)
    assert metrics.response_latency_s["outside"] == pytest.approx(0.8, abs=0.3)
    body = metrics.to_json()
    assert set(body) >= {"outside_s", "agent_s", "agent_share", "overlap_s", "silence_s", "turns"}


def test_cut_removes_the_notice_span():
    assert vad.cut([(0.0, 3.0), (4.0, 6.0)], 0.0, 2.0) == [(2.0, 3.0), (4.0, 6.0)]
    assert vad.cut([(0.0, 2.1)], 0.0, 2.0) == []


def test_gate_silences_outside_the_segments():
    x = np.full(RATE * 2, 1000, dtype=np.int16)
    gated = vad.gate(x, RATE, [(0.5, 1.0)], pad_s=0.0)
    assert gated[: RATE // 2].max() == 0 and gated[RATE // 2 : RATE].min() == 1000 and gated[RATE:].max() == 0


def test_question_rate():
    assert talk.question_rate(["How can I help? Kas soovite tellida.", "Thanks."], 60.0) == 2.0
    assert talk.question_rate([], 0.0) is None


@settings(max_examples=30, deadline=None)
@given(st.lists(st.integers(-32768, 32767), max_size=4000), st.sampled_from([8000, 16000, 11025]))
def test_vad_never_raises_on_any_input(samples, rate):
    pcm = np.array(samples, dtype=np.int16)
    segs = vad.detect(pcm, rate)
    assert all(0 <= a < b <= len(pcm) / rate + 0.01 for a, b in segs)


def mulaw(x: np.ndarray) -> np.ndarray:
    """G.711 µ-law encode and decode (the distortion a phone call adds)."""
    y = np.clip(x / 32768.0, -1, 1)
    code = np.sign(y) * np.log1p(255 * np.abs(y)) / np.log1p(255)
    code = np.round(code * 127) / 127
    return (np.sign(code) * np.expm1(np.abs(code) * np.log1p(255)) / 255 * 32768).astype(np.int16)


def test_the_notice_is_found_through_g711_and_other_audio_is_not():
    notice = voiced(2.0, 5, 180).astype(np.int16)
    heard = place(8, [(0.3, mulaw(notice.astype(np.float64) * 0.7)), (3.0, voiced(4, 6, 120))]).astype(
        np.int16
    )
    match = notice_match.find_notice(heard, notice, RATE)
    assert match.verified and match.score > 0.8 and match.at_s == pytest.approx(0.3, abs=0.01)
    other = place(8, [(0.3, voiced(4, 7, 120))]).astype(np.int16)
    miss = notice_match.find_notice(other, notice, RATE)
    assert not miss.verified and miss.score < 0.5 and miss.at_s is None
    silent = notice_match.find_notice(np.zeros(RATE * 5, np.int16), notice, RATE)
    assert not silent.verified and silent.score == 0.0
    cut_off = place(8, [(0.3, notice[: int(len(notice) * 0.6)].astype(np.float64))]).astype(np.int16)
    assert notice_match.find_notice(cut_off, notice, RATE).verified
