"""CallRecording: wall-clock placement, loss → silence, reordering, alignment, sink failures."""

import os
from datetime import UTC, datetime

import numpy as np
import pytest

from salvesti.core.audio.wav import read_wav
from salvesti.core.call import Call, Direction
from salvesti.core.hub import Hub
from salvesti.core.plugins import PluginManager
from salvesti.core.recording import CallRecording
from salvesti.plugins.sink_local import LocalSink

RATE = 8000
FRAME = 160  # 20 ms


class ClockHub(Hub):
    """A real hub whose monotonic clock the test moves (time is injected, not slept)."""

    def __init__(self, tmp_path):
        super().__init__({}, config_path=tmp_path / "c.yaml", plugins=PluginManager())
        self.t = 1000.0
        self.failures = []

    def monotonic(self) -> float:
        return self.t

    def recording_failed(self, call, error):
        self.failures.append(error)
        super().recording_failed(call, error)


def make_call(call_id="rec-1"):
    return Call(
        id=call_id,
        source="test",
        direction=Direction.INBOUND,
        line="+3726000000",
        remote_number="+3725551234",
        started_at=datetime(2026, 11, 29, 8, 0, tzinfo=UTC),
    )


def frame(i: int) -> bytes:
    """A frame whose samples all carry its number, so positions can be checked exactly."""
    return np.full(FRAME, 100 + i, "<i2").tobytes()


def channels(path):
    wav = read_wav(path)
    assert (wav.sample_rate, wav.channels, wav.bits) == (RATE, 2, 16)
    data = np.frombuffer(wav.frames, "<i2")
    return data[0::2], data[1::2]


@pytest.fixture
def setup(tmp_path):
    hub = ClockHub(tmp_path)
    sink = LocalSink(hub, "disk", tmp_path / "rec")
    return hub, sink


async def record(hub, sink, order, *, drop=(), seconds=1.0, channel=0, call_id="rec-1", offset=0.0):
    call = make_call(call_id)
    rec = CallRecording(hub, call, sink)
    t0 = hub.t
    rec.start(t0)
    assert call.recording.status == "recording" and call.meta["sink"] == "disk"
    for i in order:
        if i not in drop:
            rec.put(channel, frame(i), t0 + offset + i * 0.02)
    hub.t = t0 + seconds
    info = await rec.close()
    return rec, info


async def test_length_equals_elapsed_time_and_lost_packets_are_silence(setup):
    hub, sink = setup
    _, info = await record(hub, sink, range(50), drop={10, 11, 30})
    assert info.status == "saved" and info.duration_s == pytest.approx(1.0, abs=0.001)
    left, right = channels(info.path)
    assert len(left) == RATE
    for i in range(50):
        expected = 0 if i in (10, 11, 30) else 100 + i
        assert (left[i * FRAME : (i + 1) * FRAME] == expected).all(), i
    assert not right.any()


async def test_reordered_packets_give_the_same_file_as_in_order(setup):
    hub, sink = setup
    in_order = list(range(50))
    shuffled = in_order.copy()
    for a in range(0, 48, 3):  # swap neighbours and move some packets 2 places late
        shuffled[a], shuffled[a + 2] = shuffled[a + 2], shuffled[a]
    _, info_a = await record(hub, sink, in_order, call_id="a")
    _, info_b = await record(hub, sink, shuffled, call_id="b")
    assert channels(info_a.path)[0].tobytes() == channels(info_b.path)[0].tobytes()


async def test_two_channels_are_aligned_by_wall_clock(setup):
    hub, sink = setup
    call = make_call()
    rec = CallRecording(hub, call, sink)
    t0 = hub.t
    rec.start(t0)
    # the right channel starts talking 300 ms in, the left at 0; both 20 ms frames
    for i in range(20):
        rec.put(0, frame(i), t0 + i * 0.02)
        rec.put(1, frame(i), t0 + 0.3 + i * 0.02)
    hub.t = t0 + 1.0
    info = await rec.close()
    left, right = channels(info.path)
    first_right = int(np.flatnonzero(right)[0])
    assert first_right == int(0.3 * RATE)
    assert left[0] == 100 and right[first_right] == 100


async def test_small_jitter_is_snapped_to_contiguous_audio(setup):
    hub, sink = setup
    call = make_call()
    rec = CallRecording(hub, call, sink)
    t0 = hub.t
    rec.start(t0)
    jitter = [0.0, 0.003, -0.002, 0.004, 0.001] * 4
    for i, j in enumerate(jitter):
        rec.put(1, frame(i), t0 + i * 0.02 + j)
    hub.t = t0 + 0.5
    info = await rec.close()
    _, right = channels(info.path)
    assert (right[: len(jitter) * FRAME] != 0).all()  # no holes


async def test_chunks_later_than_the_reorder_window_are_dropped_not_misplaced(setup):
    hub, sink = setup
    call = make_call()
    rec = CallRecording(hub, call, sink, reorder_window=0.2)
    t0 = hub.t
    rec.start(t0)
    for i in range(50):
        if i != 5:
            rec.put(0, frame(i), t0 + i * 0.02)
    hub.t = t0 + 1.0
    rec._tick()  # a flush happens: everything before t0 + 0.8 s is written
    rec.put(0, frame(5), t0 + 5 * 0.02)  # arrives 0.9 s late
    hub.t = t0 + 1.2
    info = await rec.close()
    left, _ = channels(info.path)
    assert not left[5 * FRAME : 6 * FRAME].any()
    assert rec.late_chunks == 1
    assert len(left) == int(1.2 * RATE)


async def test_sink_failure_mid_call_is_reported_once_and_never_raises(setup, tmp_path):
    hub, sink = setup
    call = make_call()
    rec = CallRecording(hub, call, sink)
    t0 = hub.t
    rec.start(t0)
    for i in range(50):
        rec.put(0, frame(i), t0 + i * 0.02)
    hub.t = t0 + 1.5
    rec._tick()  # one good second is written
    # the disk fills up: the open file now points at /dev/full (writes fail with ENOSPC)
    full = os.open("/dev/full", os.O_WRONLY)
    os.dup2(full, rec._writer._fd)
    os.close(full)
    for i in range(50, 150):
        rec.put(0, frame(i), t0 + i * 0.02)  # the media path keeps calling put(): no exception
    hub.t = t0 + 3.0
    rec._tick()
    rec._tick()
    assert len(hub.failures) == 1 and "No space left" in str(hub.failures[0])
    assert call.recording.status == "failed"
    info = await rec.close()
    assert info.status == "failed" and "No space left" in (info.note or "")


async def test_unwritable_folder_at_start_fails_the_recording_not_the_call(setup, tmp_path):
    hub, _ = setup
    blocked = tmp_path / "ro"
    blocked.mkdir()
    blocked.chmod(0o500)
    try:
        sink = LocalSink(hub, "disk", blocked / "rec")
        call = make_call()
        rec = CallRecording(hub, call, sink)
        if os.geteuid() == 0:  # root ignores permission bits: use a path under a file instead
            (tmp_path / "file").write_bytes(b"x")
            sink.root = tmp_path / "file" / "rec"
        rec.start(hub.t)
        rec.put(0, frame(0), hub.t)
        assert rec.failed and len(hub.failures) == 1
        assert call.recording.status == "failed"
        hub.t += 1
        assert (await rec.close()).status == "failed"
    finally:
        blocked.chmod(0o700)


async def test_close_before_start_returns_none(setup):
    hub, sink = setup
    rec = CallRecording(hub, make_call(), sink)
    rec.put(0, frame(0), hub.t)
    assert await rec.close() is None


async def test_a_closed_recording_holds_no_audio_buffers(setup):
    """A finished call can wait for the cyclic collector for hundreds of calls (soak, issue 13):
    its recording must not keep its channel buffers meanwhile."""
    hub, sink = setup
    rec = CallRecording(hub, make_call(), sink)
    rec.start(hub.t)
    rec.put(0, frame(0), hub.t)
    rec.put(1, frame(1), hub.t)
    assert rec.buffered_bytes > 0
    hub.t += 0.5
    info = await rec.close()
    assert info is not None and info.status == "saved" and info.duration_s == 0.5
    assert rec.buffered_bytes == 0
    assert [a.chunks for a in rec.audio_seen()] == [1, 1]  # the health check's facts stay
    never = CallRecording(hub, make_call("rec-2"), sink)
    assert await never.close() is None and never.buffered_bytes == 0


async def test_reordered_chunks_keep_the_jitter_correction_of_their_stream(setup):
    """A stream 1.3 ms off the grid is snapped once; reordered chunks follow the same shift."""
    hub, sink = setup
    order = [0, 1, 3, 2, 4, 5, 7, 8, 10, 11, 12, 9, 13, 14]
    _, info = await record(hub, sink, order, seconds=0.4, channel=1, offset=0.0013)
    _, right = channels(info.path)
    assert [int(right[i * FRAME]) for i in range(15)] == [100 + i if i != 6 else 0 for i in range(15)]


async def test_recordings_folder_removed_mid_call_is_noticed_at_the_next_flush(setup, tmp_path):
    import shutil

    hub, sink = setup
    call = make_call()
    rec = CallRecording(hub, call, sink)
    t0 = hub.t
    rec.start(t0)
    rec.put(0, frame(0), t0)
    shutil.rmtree(tmp_path / "rec")  # someone deletes the recordings folder during the call
    hub.t = t0 + 1.5
    rec._tick()
    assert len(hub.failures) == 1 and "removed while being written" in str(hub.failures[0])
    info = await rec.close()
    assert info.status == "failed"
