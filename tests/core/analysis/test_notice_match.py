"""Notice evidence: the notice's audio found in what the outside party heard, and nothing else."""

from __future__ import annotations

import time

import numpy as np
import pytest

from salvesti.core.analysis.notice_match import NoticeMatch, find_notice

RATE = 8000
NOTICE_TEXT = "This call is recorded for quality and training purposes."


@pytest.fixture
def notice(synth) -> np.ndarray:
    """A 3.2 s speech-like notice (int16)."""
    return synth.to_int16(synth.speech_like(3.2, 77, f0=170))


def heard(synth, *parts: tuple[float, np.ndarray], seconds: float = 15.0, noise: float = 20.0) -> np.ndarray:
    """A channel with ``parts`` placed at their times (seconds) over a little line noise."""
    out = np.random.default_rng(3).normal(0, noise, int(seconds * RATE))
    for at, clip in parts:
        a = round(at * RATE)
        out[a : a + len(clip)] += np.asarray(clip, dtype=np.float64)[: len(out) - a]
    return synth.to_int16(out)


@pytest.mark.parametrize("offset", [0, 1, 3, 37, 4001, 20000])
def test_found_at_its_offset_to_the_sample(synth, notice, offset):
    match = find_notice(heard(synth, (offset / RATE, notice)), notice, RATE)
    assert match.verified and match.score > 0.97
    assert match.at_s == pytest.approx(offset / RATE, abs=0.001)


@pytest.mark.parametrize("gain", [0.1, 0.5, 1.0, 1.8])
def test_gain_does_not_matter(synth, notice, gain):
    match = find_notice(heard(synth, (1.0, notice * gain)), notice, RATE)
    assert match.verified and match.score > 0.95 and match.at_s == pytest.approx(1.0, abs=0.001)


@pytest.mark.parametrize("codec", ["mulaw", "alaw"])
def test_survives_g711_and_a_changed_level(synth, notice, codec):
    coded = getattr(synth, codec)(notice.astype(np.float64) * 0.6)
    match = find_notice(heard(synth, (0.25, coded), (4.0, synth.speech_like(5.0, 5))), notice, RATE)
    assert match.verified and match.score > 0.9 and match.at_s == pytest.approx(0.25, abs=0.001)


def test_an_inverted_line_still_matches(synth, notice):
    match = find_notice(heard(synth, (0.5, -notice.astype(np.float64))), notice, RATE)
    assert match.verified and match.score > 0.97


def test_silence_noise_and_other_speech_score_well_below_the_threshold(synth, notice):
    silence = find_notice(np.zeros(RATE * 10, np.int16), notice, RATE)
    assert silence == NoticeMatch(False, 0.0, None)
    hiss = np.random.default_rng(1).normal(0, 3000, RATE * 25)
    assert find_notice(synth.to_int16(hiss), notice, RATE).score < 0.1
    other = heard(synth, (0.3, synth.speech_like(8.0, 78, f0=170)), (9.0, synth.speech_like(5.0, 79, f0=120)))
    miss = find_notice(other, notice, RATE)
    assert not miss.verified and miss.score < 0.3 and miss.at_s is None


def test_a_notice_cut_off_after_60_percent_scores_lower_but_is_found(synth, notice):
    played = notice[: int(len(notice) * 0.6)].astype(np.float64)
    full = find_notice(heard(synth, (0.5, notice)), notice, RATE)
    # Silence after the cut (the caller hung up, the line stayed open): about sqrt(0.6).
    then_silence = find_notice(heard(synth, (0.5, played)), notice, RATE)
    assert then_silence.verified and 0.6 < then_silence.score < full.score
    assert then_silence.at_s == pytest.approx(0.5, abs=0.001)
    # The recording itself ends during the notice: compared over what is there.
    ends = heard(synth, (0.5, played), seconds=0.5 + len(played) / RATE)
    assert find_notice(ends, notice, RATE).verified
    # Other speech as loud right after the cut: about 0.6, still found at the default 0.5.
    loud = synth.speech_like(6.0, 80) * np.std(played) / np.std(synth.speech_like(6.0, 80))
    then_talk = find_notice(heard(synth, (0.5, played), (0.5 + len(played) / RATE, loud)), notice, RATE)
    assert then_talk.verified and then_talk.score < then_silence.score


def test_a_third_of_a_notice_followed_by_talk_is_not_enough(synth, notice):
    played = notice[: int(len(notice) * 0.3)].astype(np.float64)
    talk = synth.speech_like(6.0, 81) * 2
    assert not find_notice(
        heard(synth, (0.5, played), (0.5 + len(played) / RATE, talk)), notice, RATE
    ).verified


def test_only_the_start_of_the_channel_is_searched(synth, notice):
    late = heard(synth, (30.0, notice), seconds=40.0)
    assert not find_notice(late, notice, RATE).verified  # default: notice length + 20 s
    assert find_notice(late, notice, RATE, search_s=35.0).at_s == pytest.approx(30.0, abs=0.001)
    assert not find_notice(heard(synth, (3.0, notice)), notice, RATE, search_s=2.0).verified


def test_threshold_decides_verified(synth, notice):
    played = notice[: int(len(notice) * 0.6)].astype(np.float64)
    channel = heard(synth, (0.5, played))
    score = find_notice(channel, notice, RATE).score
    strict = find_notice(channel, notice, RATE, threshold=score + 0.01)
    assert not strict.verified and strict.score == pytest.approx(score) and strict.at_s is None


def test_too_short_a_notice_or_channel_is_no_evidence(synth, notice):
    blip = notice[: int(0.29 * RATE)]
    assert find_notice(heard(synth, (0.5, blip)), blip, RATE) == NoticeMatch(False, 0.0, None)
    stub = notice[: len(notice) // 3]  # the recording is a third of the notice
    assert find_notice(stub, notice, RATE) == NoticeMatch(False, 0.0, None)
    assert find_notice(np.zeros(0, np.int16), notice, RATE) == NoticeMatch(False, 0.0, None)


def test_at_another_sample_rate(synth, notice):
    up = 16000

    def resample(x: np.ndarray) -> np.ndarray:
        return np.interp(np.arange(len(x) * 2) / 2, np.arange(len(x)), x.astype(np.float64))

    channel = synth.to_int16(resample(heard(synth, (1.5, notice))))
    match = find_notice(channel, synth.to_int16(resample(notice)), up)
    assert match.verified and match.at_s == pytest.approx(1.5, abs=0.001)


def test_espeak_notice_in_a_real_looking_call(synth, espeak):
    notice = synth.to_int16(espeak(NOTICE_TEXT))
    agent = espeak("Good morning, Acme Telecom, how can I help you?")
    channel = heard(synth, (0.2, synth.mulaw(notice * 0.8)), (0.2 + len(notice) / RATE + 0.5, agent))
    match = find_notice(channel, notice, RATE)
    assert match.verified and match.score > 0.9 and match.at_s == pytest.approx(0.2, abs=0.002)
    # The same voice saying other words shares phonemes, not waveforms.
    other = heard(synth, (0.2, espeak("Hello, I would like to ask about the premium package for my office.")))
    assert find_notice(other, notice, RATE).score < 0.35


def test_to_json():
    assert NoticeMatch(True, 0.98765, 0.25).to_json() == {"verified": True, "score": 0.988, "at_s": 0.25}
    assert NoticeMatch(False, 0.0, None).to_json() == {"verified": False, "score": 0.0, "at_s": None}


def test_searching_a_long_recording_is_quick(synth, notice):
    channel = heard(synth, (2.0, notice), seconds=600.0)  # only the first ~23 s is read
    start = time.perf_counter()
    assert find_notice(channel, notice, RATE).verified
    assert time.perf_counter() - start < 1.0
