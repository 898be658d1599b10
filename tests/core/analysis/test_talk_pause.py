"""Paused spans never reach the transcript: the talk step cuts them from both parties' speech."""

from __future__ import annotations

from test_talk_vad import RATE, voiced

from salvesti.core.analyzers import CallMedia
from salvesti.plugins.analysis.builtin import TalkStep, paused_spans


def test_speech_segments_leave_out_every_paused_span():
    # speech all through on both channels (as if the pause had failed to blank): still cut
    outside, agent = voiced(8.0, seed=1), voiced(8.0, seed=2)
    call = {
        "pauses": [{"start_s": 2.0, "end_s": 4.0, "by": "anna"}, {"start_s": 6.5, "end_s": None, "by": "x"}]
    }
    media = CallMedia(call=call, rate=RATE, outside=outside, agent=agent)
    TalkStep().analyze(media)
    for channel, segs in media.speech.items():
        assert segs, f"{channel}: no speech found at all"
        for a, b in segs:
            assert b <= 2.0 or a >= 4.0, f"{channel}: segment {a}-{b} overlaps the pause 2-4"
            assert b <= 6.5, f"{channel}: segment {a}-{b} is inside the open pause"


def test_an_open_pause_runs_to_the_end():
    assert paused_spans({"pauses": [{"start_s": 1, "end_s": None}]}, 9.5) == [(1.0, 9.5)]
    assert paused_spans({}, 3.0) == []
