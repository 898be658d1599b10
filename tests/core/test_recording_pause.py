"""CallRecording pause: silence in both channels by time, the file keeps its length, auto-resume."""

import numpy as np
from test_recording_align import RATE, ClockHub, channels, make_call

from salvesti.core import bus as events
from salvesti.core.recording import CallRecording
from salvesti.plugins.sink_local import LocalSink

TONE = np.full(160, 1000, "<i2").tobytes()  # 20 ms of a constant level


def open_recording(tmp_path, pause_max_s=None):
    """A hub on a fake clock, the pause events it publishes, and a started recording of one call."""
    hub = ClockHub(tmp_path)
    hub.pause_max_s = pause_max_s
    seen = []
    hub.bus.subscribe(events.RECORDING_PAUSED, seen.append)
    hub.bus.subscribe(events.RECORDING_RESUMED, seen.append)
    call = make_call()
    rec = CallRecording(hub, call, LocalSink(hub, "disk", tmp_path / "rec"))
    rec.start(hub.t)
    return hub, call, rec, hub.t, seen


def feed(rec, t0, start_s, end_s):
    """Both channels carry the tone from ``start_s`` to ``end_s`` (20 ms frames)."""
    for i in range(round(start_s / 0.02), round(end_s / 0.02)):
        rec.put(0, TONE, t0 + i * 0.02)
        rec.put(1, TONE, t0 + i * 0.02)


def step(hub, rec, t0, until_s):
    """Move the clock in flush-sized steps, running the flush each time (no sleeping)."""
    while hub.t < t0 + until_s:
        hub.t = min(hub.t + rec.flush_interval, t0 + until_s)
        rec._tick()


async def test_paused_span_is_silent_in_both_channels_and_length_is_kept(tmp_path):
    hub, call, rec, t0, seen = open_recording(tmp_path)
    assert hub.recordings[call.id] is rec
    feed(rec, t0, 0, 6)  # audio arrives for the whole call, also while paused
    step(hub, rec, t0, 2)
    assert rec.pause("anna") and not rec.pause("anna")
    step(hub, rec, t0, 4)
    assert rec.resume("anna") and not rec.resume("anna")
    step(hub, rec, t0, 6)
    await rec.close()
    await hub.bus.drain()
    assert call.id not in hub.recordings
    left, right = channels(call.recording.path)
    assert len(left) == 6 * RATE
    for ch in (left, right):
        assert (ch[: 2 * RATE] == 1000).all() and (ch[4 * RATE :] == 1000).all()
        assert not ch[2 * RATE : 4 * RATE].any()
    assert [p.to_json() for p in call.pauses] == [
        {"start_s": 2.0, "end_s": 4.0, "by": "anna", "resumed_by": "anna"}
    ]
    assert [e.name for e in seen] == ["recording_paused", "recording_resumed"]


async def test_a_forgotten_pause_resumes_by_itself_at_exactly_pause_max(tmp_path):
    hub, call, rec, t0, seen = open_recording(tmp_path, pause_max_s=1.5)
    feed(rec, t0, 0, 5)
    step(hub, rec, t0, 1)
    rec.pause("keypad")
    step(hub, rec, t0, 5)
    assert not rec.paused
    await rec.close()
    await hub.bus.drain()
    left, right = channels(call.recording.path)
    for ch in (left, right):
        assert not ch[RATE : int(2.5 * RATE)].any() and (ch[int(2.5 * RATE) :] == 1000).all()
    assert call.pauses[0].to_json() == {"start_s": 1.0, "end_s": 2.5, "by": "keypad", "resumed_by": "auto"}
    assert seen[-1].name == "recording_resumed"
    assert seen[-1].data["by"] == "auto" and seen[-1].data["call_id"] == call.id


async def test_a_call_that_ends_paused_closes_its_pause_at_the_end(tmp_path):
    hub, call, rec, t0, _ = open_recording(tmp_path)
    feed(rec, t0, 0, 3)
    step(hub, rec, t0, 1)
    rec.pause("anna")
    hub.t = t0 + 3
    await rec.close()
    left, _ = channels(call.recording.path)
    assert len(left) == 3 * RATE and not left[RATE:].any()
    assert call.pauses[0].end_s == 3.0 and call.pauses[0].resumed_by == "call_end"
    assert not rec.pause("late") and not rec.resume("late")
