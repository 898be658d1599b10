"""The health check through the real hub, store and sink: each unhealthy case ends up on the
call object, in the store (and its filter) and as one ``recording_unhealthy`` event.

The recording runs on a fake monotonic clock, so ten seconds of call take no time."""

from datetime import timedelta

import numpy as np
import pytest

from salvesti.core.call import Call, Direction, new_call_id
from salvesti.core.components import CallQuery
from salvesti.core.health import RtpCounts
from salvesti.core.hub import Hub
from salvesti.core.plugins import PluginManager
from salvesti.core.recording import CallRecording

SPEECH = np.full(160, 4000, "<i2").tobytes()
SILENCE = bytes(320)


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


@pytest.fixture
async def hub(tmp_path):
    plugins = PluginManager()
    plugins.load(entry_points_too=False)
    config = {
        "salvesti": {"data_dir": str(tmp_path / "data"), "timezone": "Europe/Tallinn", "purpose": "test"},
        "store": {"platform": "sqlite"},
        "sinks": [{"platform": "local", "id": "disk", "path": "rec", "format": "wav"}],
    }
    hub = Hub(config, config_path=tmp_path / "config.yaml", plugins=plugins)
    hub.monotonic = Clock()  # type: ignore[method-assign]
    await hub.async_start()
    hub.unhealthy = []
    hub.bus.subscribe("recording_unhealthy", hub.unhealthy.append)
    yield hub
    await hub.async_stop(call_timeout=0)


async def talk(hub, channels, *, seconds=10.0, record_from=0.0, rtp=None, start=True):
    """A ten-second answered call; ``channels`` = (outside frame, heard frame), None: nothing."""
    now = hub.now()
    call = Call(new_call_id(now), "test", Direction.INBOUND, "+3726000000", "+3725551234", now)
    call.answered_at = now - timedelta(seconds=seconds)
    call.ended_at = now
    await hub.call_started(call)
    rec = CallRecording(hub, call, hub.default_sink(), flush_interval=3600)
    t0 = hub.monotonic.t
    if start:
        rec.start(t0 + record_from)
        for i in range(int((seconds - record_from) / 0.02)):
            for channel, frame in enumerate(channels):
                if frame is not None:
                    rec.put(channel, frame, t0 + record_from + i * 0.02)
    hub.monotonic.t = t0 + seconds
    await hub.call_ended(call, rec, rtp=rtp)
    await hub.bus.drain()
    return call


def found(call):
    return [(str(p.reason), p.channel) for p in call.health]


async def test_a_healthy_call_raises_nothing(hub):
    call = await talk(hub, (SPEECH, SPEECH))
    assert call.health == [] and hub.unhealthy == []
    assert 9.9 <= call.recording.duration_s <= 10.1


async def test_each_unhealthy_case_is_on_the_call_in_the_store_and_an_event(hub):
    one_sided = await talk(hub, (SPEECH, None))
    silent = await talk(hub, (SPEECH, SILENCE))
    never = await talk(hub, (SPEECH, SPEECH), start=False)
    short = await talk(hub, (SPEECH, SPEECH), record_from=4.0)
    lossy = await talk(hub, (SPEECH, SPEECH), rtp={"outside": RtpCounts(450, 50)})
    assert found(one_sided) == [("channel_no_audio", "heard")]
    assert found(silent) == [("channel_silent", "heard")]
    assert found(never) == [("no_recording", None)]
    assert found(short) == [("recording_short", None)]
    assert found(lossy) == [("packet_loss", "outside")]
    assert lossy.meta["rtp"] == {"outside": {"received": 450, "lost": 50}}
    ids = [one_sided.id, silent.id, never.id, short.id, lossy.id]
    assert [e.data["id"] for e in hub.unhealthy] == ids
    assert hub.unhealthy[0].data["health"][0]["reason"] == "channel_no_audio"
    stored = await hub.store.get_call(silent.id)
    assert stored.health == silent.health
    listed = await hub.store.list_calls(CallQuery(unhealthy="any", limit=0))
    assert sorted(c.id for c in listed) == sorted(ids)
    only = await hub.store.list_calls(CallQuery(unhealthy="recording_short", limit=0))
    assert [c.id for c in only] == [short.id]


async def test_thresholds_come_from_the_config(tmp_path):
    plugins = PluginManager()
    plugins.load(entry_points_too=False)
    config = {
        "salvesti": {"data_dir": str(tmp_path), "purpose": "test", "health": {"max_packet_loss_percent": 20}},
    }
    hub = Hub(config, config_path=tmp_path / "config.yaml", plugins=plugins)
    assert hub.health_limits.max_packet_loss_percent == 20.0
