"""Talk metrics: hand-computed timelines, then whole synthetic calls through the VAD."""

from __future__ import annotations

import pytest

from salvesti.core.analysis import talk, vad

# agent 0-1.5 | outside 2-5 | agent cuts in at 4.5 until 8 | outside 9-12 (agent "mhm" 10-10.2)
# | agent 13-14
OUTSIDE = [(2.0, 5.0), (9.0, 12.0)]
AGENT = [(0.0, 1.5), (4.5, 8.0), (10.0, 10.2), (13.0, 14.0)]


def test_a_hand_computed_call():
    m = talk.talk_metrics(OUTSIDE, AGENT)
    assert m.outside_s == pytest.approx(6.0)
    assert m.agent_s == pytest.approx(6.2)
    assert m.agent_share == pytest.approx(6.2 / 12.2)
    assert m.overlap_s == pytest.approx(0.7)  # 4.5-5.0 and the backchannel 10.0-10.2
    assert m.silence_s == pytest.approx(2.5)  # 1.5-2, 8-9, 12-13
    assert m.longest_silence_s == pytest.approx(1.0)
    assert m.turns == 5  # the backchannel takes no turn
    assert m.longest_monologue_s == pytest.approx({"outside": 3.0, "agent": 3.5})
    assert m.interruptions == {"outside": 0, "agent": 1}  # the 0.2 s backchannel is too short
    # outside answers after 0.5 and 1.0 s; the agent's cut-in (negative gap) is no latency.
    assert m.response_latency_s == pytest.approx({"outside": 0.75, "agent": 1.0})


def test_to_json_has_exactly_the_keys_with_rounded_floats():
    body = talk.talk_metrics([(0.0, 1 / 3)], [(1.0, 2.0 + 2 / 3)]).to_json()
    assert set(body) == {
        "outside_s",
        "agent_s",
        "agent_share",
        "overlap_s",
        "silence_s",
        "longest_silence_s",
        "turns",
        "longest_monologue_s",
        "interruptions",
        "response_latency_s",
    }
    assert body["outside_s"] == 0.333 and body["agent_s"] == 1.667 and body["agent_share"] == 0.833
    assert body["longest_monologue_s"] == {"outside": 0.333, "agent": 1.667}
    assert body["response_latency_s"] == {"outside": None, "agent": 0.667}
    assert body["interruptions"] == {"outside": 0, "agent": 0} and body["turns"] == 2


def test_no_talk_at_all():
    m = talk.talk_metrics([], [])
    assert (m.outside_s, m.agent_s, m.agent_share, m.overlap_s, m.silence_s, m.turns) == (0, 0, 0.0, 0, 0, 0)
    assert m.longest_silence_s == 0.0
    assert m.response_latency_s == {"outside": None, "agent": None}
    assert m.longest_monologue_s == {"outside": 0.0, "agent": 0.0}
    assert talk.talk_metrics([], [(0.0, 2.0)]).agent_share == 1.0


def test_unsorted_and_overlapping_segments_of_one_party_are_merged():
    m = talk.talk_metrics([], [(3.0, 5.0), (0.0, 2.0), (1.0, 2.5), (4.0, 4.5)])
    assert m.agent_s == pytest.approx(4.5)
    assert m.turns == 1 and m.silence_s == pytest.approx(0.5)


def test_other_speech_between_two_segments_ends_a_monologue():
    m = talk.talk_metrics([(0.0, 3.0), (3.6, 6.0)], [(3.1, 3.4)])
    assert m.longest_monologue_s["outside"] == pytest.approx(3.0)
    assert m.turns == 3


def test_a_pause_without_the_other_speaking_does_not():
    m = talk.talk_metrics([(0.0, 3.0), (3.3, 6.0), (8.0, 9.0)], [])
    assert m.longest_monologue_s["outside"] == pytest.approx(9.0)
    assert m.turns == 1


def test_a_backchannel_inside_the_others_speech_takes_no_turn():
    m = talk.talk_metrics([(0.0, 6.0)], [(2.0, 2.2)])
    assert m.turns == 1 and m.longest_monologue_s["outside"] == pytest.approx(6.0)
    assert m.interruptions == {"outside": 0, "agent": 0}


def test_an_overlap_only_starts_a_turn_when_the_one_who_cut_in_goes_on_after():
    kept = talk.talk_metrics([(0.0, 6.0)], [(5.0, 5.9)])  # ends before the other: no turn
    taken = talk.talk_metrics([(0.0, 6.0)], [(5.0, 8.0)])  # goes on after: the floor changed
    assert kept.turns == 1 and taken.turns == 2
    assert kept.interruptions["agent"] == 1 and taken.interruptions["agent"] == 1


def test_interruption_needs_300_ms_of_overlap_and_goes_to_who_cut_in():
    assert talk.talk_metrics([(0.0, 5.0)], [(4.7, 7.0)]).interruptions == {"outside": 0, "agent": 1}
    assert talk.talk_metrics([(0.0, 5.0)], [(4.71, 7.0)]).interruptions == {"outside": 0, "agent": 0}
    assert talk.talk_metrics([(4.7, 7.0)], [(0.0, 5.0)]).interruptions == {"outside": 1, "agent": 0}
    loose = talk.talk_metrics([(0.0, 5.0)], [(4.8, 7.0)], interruption_overlap_s=0.2)
    assert loose.interruptions["agent"] == 1
    # Starting at the same moment is not cutting in.
    assert talk.talk_metrics([(0.0, 5.0)], [(0.0, 3.0)]).interruptions == {"outside": 0, "agent": 0}


def test_response_latency_counts_gaps_of_0_to_5_seconds():
    assert talk.talk_metrics([(0.0, 1.0)], [(6.5, 7.0)]).response_latency_s["agent"] is None
    assert talk.talk_metrics([(0.0, 1.0)], [(6.0, 7.0)]).response_latency_s["agent"] == pytest.approx(5.0)
    assert talk.talk_metrics([(0.0, 1.0)], [(1.0, 2.0)]).response_latency_s["agent"] == 0.0
    m = talk.talk_metrics([(0.0, 1.0), (3.0, 4.0), (6.0, 7.0)], [(1.2, 2.0), (4.9, 5.5), (7.1, 8.0)])
    assert m.response_latency_s["agent"] == pytest.approx(0.2)  # median of 0.2, 0.9, 0.1
    assert m.response_latency_s["outside"] == pytest.approx(0.75)  # median of 1.0, 0.5


# -- question rate --------------------------------------------------------------------------------


def test_questions_per_minute_of_agent_talk():
    texts = ["How can I help? Kas soovite tellida.", "Thanks.", "Mis teie nimi on"]
    assert talk.question_rate(texts, 60.0) == 3.0
    assert talk.question_rate(texts, 30.0) == 6.0
    assert talk.question_rate([], 0.0) is None and talk.question_rate(["Kas?"], 0.0) is None
    assert talk.question_rate([], 10.0) == 0.0


@pytest.mark.parametrize(
    ("text", "count"),
    [
        ("Is that okay?", 1),  # a '?'
        ("Really?! Yes.", 1),
        ("Kas see sobib?", 1),  # a question word and a '?' are one question
        ("kui palju see maksab", 1),
        ("Kui te soovite, saadan info.", 0),  # "kui" alone is "if"
        ("Kellele ma arve saadan. Millal sobib. Kus te asute. Kes helistas. Miks mitte", 5),
        ("What do you need. Why not. When. Where is it. Who called", 5),
        ("Do you have a contract. Can you hold. Could you spell it. Would you like that", 4),
        ("Is it urgent. Are you the owner", 2),
        ("However, this is fine. Whatever works. Kasutame seda.", 0),  # words, not prefixes
        ("- Kuidas läheb", 1),  # leading punctuation
        ("HOW ARE YOU", 1),
    ],
)
def test_what_counts_as_a_question(text, count):
    assert talk.question_rate([text], 60.0) == float(count)


# -- whole calls through the VAD ------------------------------------------------------------------


def script(call, clip) -> dict:
    """agent greets | outside asks (0.7 s later) | agent explains (0.8 s later) | outside cuts in
    1.2 s before the agent ends and goes on | agent answers 0.6 s after."""
    a1 = call.say("agent", 0.5, clip("agent", 0))
    o1 = call.say("outside", a1[1] + 0.7, clip("outside", 0))
    a2 = call.say("agent", o1[1] + 0.8, clip("agent", 1))
    o2 = call.say("outside", a2[1] - 1.2, clip("outside", 1))
    call.say("agent", o2[1] + 0.6, clip("agent", 2))
    return {
        "outside_s": sum(b - a for a, b in call.truth["outside"]),
        "agent_s": sum(b - a for a, b in call.truth["agent"]),
    }


def check(metrics: talk.TalkMetrics, truth: dict) -> None:
    assert metrics.outside_s == pytest.approx(truth["outside_s"], abs=0.3)
    assert metrics.agent_s == pytest.approx(truth["agent_s"], abs=0.3)
    assert metrics.overlap_s == pytest.approx(1.2, abs=0.3)
    assert metrics.interruptions == {"outside": 1, "agent": 0}
    assert metrics.turns == 5
    assert metrics.response_latency_s["outside"] == pytest.approx(0.7, abs=0.3)
    assert metrics.response_latency_s["agent"] == pytest.approx(0.7, abs=0.3)


@pytest.mark.parametrize("codec", ["linear", "mulaw"])
def test_a_synthetic_call_with_bleed_matches_the_truth(synth, codec):
    lengths = {"agent": (3.0, 5.0, 2.0), "outside": (3.5, 2.5)}
    pitch = {"agent": 120.0, "outside": 210.0}
    call = synth.Call(25.0)

    def clip(party: str, k: int):
        return synth.speech_like(lengths[party][k], 100 + 10 * k + len(party), f0=pitch[party])

    truth = script(call, clip)
    outside, agent = call.channels()
    if codec == "mulaw":
        outside, agent = synth.to_int16(synth.mulaw(outside)), synth.to_int16(synth.mulaw(agent))
    metrics = talk.talk_metrics(vad.detect(outside, synth.RATE), vad.detect(agent, synth.RATE))
    check(metrics, truth)


def test_an_espeak_call_with_bleed_matches_the_truth(synth, espeak):
    lines = {
        "agent": (
            "Good morning, Acme Telecom, how can I help you?",
            "Of course. The premium package has unlimited calls and a free router for your office.",
            "It is twenty euros a month.",
        ),
        "outside": ("Hello, I would like to ask about the premium package.", "Sorry, how much does it cost?"),
    }
    voices = {"agent": "en", "outside": "en-us"}
    call = synth.Call(30.0)
    truth = script(call, lambda party, k: espeak(lines[party][k], voices[party]))
    outside, agent = call.channels()
    check(talk.talk_metrics(vad.detect(outside, synth.RATE), vad.detect(agent, synth.RATE)), truth)


def test_without_the_energy_gate_the_bleed_wrecks_the_metrics(synth):
    """Why speech_frames ANDs: webrtcvad alone hears each party in the other's channel."""
    call = synth.Call(25.0)
    script(call, lambda party, k: synth.speech_like((3.0, 4.0, 2.0)[k], 7 * k + len(party)))
    outside, agent = call.channels()
    level_blind = [vad.segments(vad.smooth(vad.webrtc_vad(x, synth.RATE))) for x in (outside, agent)]
    assert talk.talk_metrics(*level_blind).overlap_s > 5.0
    assert talk.talk_metrics(vad.detect(outside, synth.RATE), vad.detect(agent, synth.RATE)).overlap_s < 1.6
