"""The recording health rules, pure: an ended call, what each channel got, RTP counters in."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import voluptuous as vol

from salvesti.core.call import Call, Direction, HealthProblem, HealthReason, RecordingInfo
from salvesti.core.health import ChannelAudio, Limits, RtpCounts, assess

T0 = datetime(2026, 11, 29, 10, 0, tzinfo=ZoneInfo("Europe/Tallinn"))
LOUD = ChannelAudio(chunks=500, peak=12000)


def ended(talk_s=10.0, rec_s=10.0, status="saved", answered=True):
    call = Call("c", "telia", Direction.INBOUND, "+3726000000", "+3725551234", T0)
    call.answered_at = T0 if answered else None
    call.ended_at = T0 + timedelta(seconds=talk_s)
    if rec_s is not None:
        call.recording = RecordingInfo(path="/r/c.wav", duration_s=rec_s, status=status)
    return call


def reasons(problems):
    return [(str(p.reason), p.channel) for p in problems]


def test_a_healthy_call_has_no_problem():
    assert assess(ended(), expected=True, audio=(LOUD, LOUD)) == []


def test_nothing_is_checked_when_not_recorded_on_purpose_or_not_answered():
    assert assess(ended(rec_s=None), expected=False, audio=None) == []
    assert assess(ended(rec_s=None, answered=False), expected=True, audio=None) == []


def test_no_recording_when_the_audio_path_never_opened():
    problems = assess(ended(rec_s=None), expected=True, audio=(ChannelAudio(0, 0),) * 2)
    why = "10.0 s of talk time, no recording: the audio path never opened"
    assert problems == [HealthProblem(HealthReason.NO_RECORDING, why)]


def test_a_sink_that_failed_before_any_audio_is_no_recording_with_its_error():
    call = ended(rec_s=0.0, status="failed")
    call.recording.note = "disk full"
    assert assess(call, expected=True, audio=(LOUD, LOUD))[0].detail.endswith("no recording: disk full")


def test_a_recording_shorter_than_the_talk_time_beyond_the_tolerance():
    assert reasons(assess(ended(talk_s=60, rec_s=57.5), expected=True, audio=(LOUD, LOUD))) == [
        ("recording_short", None)
    ]
    assert assess(ended(talk_s=60, rec_s=58.5), expected=True, audio=(LOUD, LOUD)) == []
    loose = Limits(short_by_s=5)
    assert assess(ended(talk_s=60, rec_s=57.5), expected=True, audio=(LOUD, LOUD), limits=loose) == []


def test_a_channel_with_no_audio_and_a_channel_with_only_silence():
    quiet = ChannelAudio(chunks=500, peak=90)  # -51 dBFS
    problems = assess(ended(), expected=True, audio=(ChannelAudio(0, 0), quiet))
    assert reasons(problems) == [("channel_no_audio", "outside"), ("channel_silent", "heard")]
    assert problems[1].detail == "only silence for the whole call (peak -51 dBFS)"
    assert assess(ended(), expected=True, audio=(LOUD, ChannelAudio(500, 110))) == []


def test_short_calls_are_not_checked_for_silence():
    assert assess(ended(talk_s=4, rec_s=4), expected=True, audio=(ChannelAudio(0, 0),) * 2) == []


def test_packet_loss_above_the_threshold_per_direction():
    rtp = {"outside": RtpCounts(received=940, lost=60), "heard": RtpCounts(received=960, lost=40)}
    problems = assess(ended(), expected=True, audio=(LOUD, LOUD), rtp=rtp)
    assert reasons(problems) == [("packet_loss", "outside")]
    assert problems[0].detail == "60 of 1000 RTP packets lost (6.0 %)"
    strict = Limits(max_packet_loss_percent=1)
    assert len(assess(ended(), expected=True, audio=(LOUD, LOUD), rtp=rtp, limits=strict)) == 2
    assert assess(ended(), expected=True, audio=(LOUD, LOUD), rtp={"outside": RtpCounts(0, 0)}) == []


def test_limits_from_config_and_the_silence_level():
    limits = Limits.from_config({"silence_dbfs": -40, "max_packet_loss_percent": "2.5"})
    assert limits == Limits(silence_dbfs=-40.0, max_packet_loss_percent=2.5)
    assert limits.silence_peak == 328
    assert Limits.from_config(None) == Limits()
    with pytest.raises(vol.Invalid, match="extra keys not allowed"):
        Limits.from_config({"max_loss": 5})


def test_problems_round_trip_on_the_call_object():
    call = ended()
    call.health = [HealthProblem(HealthReason.SILENT, "only silence", "heard")]
    data = call.to_json()
    assert data["health"] == [{"reason": "channel_silent", "channel": "heard", "detail": "only silence"}]
    assert Call.from_json(data).health == call.health
