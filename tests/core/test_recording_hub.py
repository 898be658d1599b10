"""The recording with the real hub, store and sink: finalised at hang-up, and a call cut off
by a crash repaired and listed at the next start."""

import asyncio
import os

import numpy as np

from salvesti.core.audio.wav import read_wav
from salvesti.core.call import Call, Direction, new_call_id
from salvesti.core.hub import Hub
from salvesti.core.plugins import PluginManager
from salvesti.core.recording import CallRecording

FRAME = np.full(160, 1234, "<i2").tobytes()


def config(tmp_path, fmt="wav"):
    return {
        "salvesti": {"data_dir": str(tmp_path / "data"), "timezone": "Europe/Tallinn", "purpose": "test"},
        "store": {"platform": "sqlite"},
        "sinks": [{"platform": "local", "id": "disk", "path": "rec", "format": fmt}],
    }


async def started_hub(tmp_path, fmt="wav"):
    plugins = PluginManager()
    plugins.load(entry_points_too=False)
    hub = Hub(config(tmp_path, fmt), config_path=tmp_path / "config.yaml", plugins=plugins)
    await hub.async_start()
    return hub


def new_call(hub):
    now = hub.now()
    return Call(
        id=new_call_id(now),
        source="test",
        direction=Direction.INBOUND,
        line="+3726000000",
        remote_number="+3725551234",
        started_at=now,
        answered_at=now,
    )


async def test_call_ended_finalises_the_recording_and_publishes_it(tmp_path):
    hub = await started_hub(tmp_path, "flac")
    saved = []
    hub.bus.subscribe("recording_saved", saved.append)
    try:
        call = new_call(hub)
        await hub.call_started(call)
        rec = CallRecording(hub, call, hub.default_sink())
        t0 = hub.monotonic()
        rec.start(t0)
        for i in range(25):
            rec.put(0, FRAME, t0 + i * 0.02)
        await asyncio.sleep(0.55)
        await hub.call_ended(call, rec)
        assert call.recording.status == "saved" and call.recording.format == "flac"
        assert call.recording.path.endswith(f"{call.id}.flac")
        assert 0.5 <= call.recording.duration_s < 1.0
        stored = await hub.store.get_call(call.id)
        assert stored.recording.sha256 == call.recording.sha256
        await hub.bus.drain()
        assert [e.data["id"] for e in saved] == [call.id]
    finally:
        await hub.async_stop(call_timeout=0)


async def test_a_call_cut_off_by_a_crash_is_repaired_at_the_next_start(tmp_path):
    hub = await started_hub(tmp_path)
    call = new_call(hub)
    await hub.call_started(call)
    rec = CallRecording(hub, call, hub.default_sink())
    t0 = hub.monotonic() - 2.0  # two seconds of call so far
    rec.start(t0)
    for i in range(100):
        rec.put(0, FRAME, t0 + i * 0.02)
    rec._tick()  # the last periodic flush before the crash
    await hub.call_updated(call)  # the store holds status "recording" and the file's path
    # the crash: the process dies with the file open; nothing is finalised
    os.close(rec._writer._fd)
    rec._writer._fd = None
    rec._closed = True
    rec._timer.cancel()
    await hub.store.async_unload()

    hub2 = await started_hub(tmp_path)
    try:
        repaired = await hub2.store.get_call(call.id)
        assert repaired.recording.status == "repaired"
        assert repaired.meta["cut_off"] is True and repaired.ended_at is not None
        assert abs(repaired.recording.duration_s - (2.0 - rec.reorder_window)) < 0.05
        wav = read_wav(repaired.recording.path)
        assert wav.channels == 2 and abs(wav.duration_s - repaired.recording.duration_s) < 0.001
        assert await hub2.store.unfinished_calls() == []
    finally:
        await hub2.async_stop(call_timeout=0)
