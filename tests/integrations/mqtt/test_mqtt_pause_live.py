"""Home Assistant's "Recording paused" switch on a real broker pauses a real recording."""

from __future__ import annotations

import json
import time

from mqtt_harness import running_hub, settled, watch

from salvesti.core import bus as events
from salvesti.core.call import Call, Direction
from salvesti.core.recording import CallRecording
from salvesti.plugins.sink_local import LocalSink

LINE = "+3726000000"
KEY = "3726000000"


async def test_the_line_switch_pauses_and_resumes_its_call(tmp_path, prefixes):
    p = prefixes
    state_topic = f"{p.topics}/ha/line/{KEY}/state"
    command = f"{p.topics}/ha/line/{KEY}/pause/set"
    async with running_hub(tmp_path, p.conf()) as hub:
        await settled(hub)
        sink = LocalSink(hub, "disk", tmp_path / "rec")
        call = Call(
            id="paused-1",
            source="office",
            direction=Direction.INBOUND,
            line=LINE,
            remote_number="+3725551234",
            started_at=hub.now(),
        )
        rec = CallRecording(hub, call, sink, sample_rate=8000)
        rec.start(time.monotonic())
        async with watch(f"{p.topics}/#", f"{p.discovery}/#") as ha:
            hub.bus.publish(events.CALL_STARTED, call.to_json())
            await ha.json_on(state_topic, active_calls=1, recording_paused="OFF")
            mark = len(ha.messages)
            await ha.client.publish(command, "ON", qos=1)
            await ha.json_on(state_topic, after=mark, recording_paused="ON")
            assert rec.paused and call.pauses[-1].by == "mqtt"
            mark = len(ha.messages)
            await ha.client.publish(command, "OFF", qos=1)
            await ha.json_on(state_topic, after=mark, recording_paused="OFF")
            assert not rec.paused and call.pauses[-1].resumed_by == "mqtt"
            # Nonsense is ignored and changes nothing.
            await ha.client.publish(command, "maybe", qos=1)
            await ha.client.publish(f"{p.topics}/ha/line/999/pause/set", "ON", qos=1)
            assert not rec.paused and len(call.pauses) == 1
            switch = [
                json.loads(m.payload)
                for m in ha.messages
                if m.topic.endswith("/config") and b"recording_paused" in m.payload
            ]
            assert switch, "no discovery for the switch"
            cmps = switch[-1]["cmps"]
            entity = next(v for k, v in cmps.items() if k.endswith("_recording_paused"))
            assert entity["p"] == "switch" and entity["command_topic"] == command
        await rec.close()
