"""The daily health summary on the real broker: retained, counts only, the hub's sensor reads it."""

from __future__ import annotations

from datetime import timedelta

from mqtt_harness import running_hub, settled, watch

from salvesti.core import bus as events
from salvesti.core.call import Call, Direction, HealthProblem, HealthReason
from salvesti.core.health_summary import summarise


async def test_the_summary_is_published_retained_for_a_late_subscriber(tmp_path, prefixes):
    p = prefixes
    async with running_hub(tmp_path, p.conf()) as hub:
        await settled(hub)
        now = hub.now()
        bad = Call("c1", "office", Direction.INBOUND, "+3726000000", "+3725551234", now - timedelta(hours=2))
        bad.health = [HealthProblem(HealthReason.NO_RECORDING, "the audio path never opened")]
        await hub.store.save_call(bad)
        summary = await summarise(hub.store, now, hub.node)
        hub.bus.publish(events.HEALTH_SUMMARY, summary.to_json())
        async with watch(f"{p.topics}/#") as early:
            await early.json_on(f"{p.topics}/ha/health_summary", unhealthy=1)
        async with watch(f"{p.topics}/ha/health_summary") as late:  # Home Assistant starting later
            seen = await late.wait(f"{p.topics}/ha/health_summary")
    assert seen.retain
    body = seen.json()
    assert (body["calls"], body["unhealthy"], body["by_reason"]["no_recording"]) == (1, 1, 1)
    assert "+3725551234" not in seen.payload.decode()  # counts, never numbers, on a retained topic
