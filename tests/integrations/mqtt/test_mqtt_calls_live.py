"""Calls driven through a real EventBus, observed on the real broker."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from mqtt_harness import running_hub, settled, watch

from salvesti.core import bus as events
from salvesti.core.call import Call, Direction, Disposition, HealthProblem, HealthReason, RecordingInfo
from salvesti.core.hub import Hub
from salvesti.core.retention import sweep

LINE = "+3726000000"
KEY = "3726000000"


def make_call(hub, call_id: str, *, direction=Direction.INBOUND, number="+3725551234", line=LINE) -> Call:
    return Call(
        id=call_id,
        source="office",
        direction=direction,
        line=line,
        remote_number=number,
        started_at=hub.now(),
    )


def answer(hub, call: Call) -> Call:
    call.answered_at = hub.now()
    return call


def end(hub, call: Call, disposition: Disposition) -> Call:
    call.ended_at = (call.answered_at or call.started_at) + timedelta(seconds=42)
    call.disposition = disposition
    return call


def line_state(**kw) -> dict:
    base = {
        "call_active": "OFF",
        "active_calls": 0,
        "call_state": "idle",
        "calls_today": 0,
        "missed_today": 0,
        "recording_paused": "OFF",
    }
    return {**base, **kw}


async def test_parallel_calls_keep_the_line_busy_until_the_last_one_ends(tmp_path, prefixes):
    p = prefixes
    state_topic = f"{p.topics}/ha/line/{KEY}/state"
    event_topic = f"{p.topics}/ha/line/{KEY}/event"
    async with running_hub(tmp_path, p.conf()) as hub:
        await settled(hub)
        async with watch(f"{p.topics}/#") as ha:
            mark = len(ha.messages)
            first, second = make_call(hub, "c1"), make_call(hub, "c2", number="+3725559876")
            hub.bus.publish(events.CALL_STARTED, first.to_json())
            assert await ha.json_on(state_topic, after=mark, active_calls=1) == line_state(
                call_active="ON", active_calls=1, call_state="ringing", calls_today=1
            )
            hub.bus.publish(events.CALL_STARTED, second.to_json())
            hub.bus.publish(events.CALL_ANSWERED, answer(hub, first).to_json())
            assert await ha.json_on(state_topic, after=mark, call_state="talking") == line_state(
                call_active="ON", active_calls=2, call_state="talking", calls_today=2
            )
            mark = len(ha.messages)
            hub.bus.publish(events.CALL_ENDED, end(hub, first, Disposition.ANSWERED).to_json())
            assert await ha.json_on(
                state_topic, after=mark, active_calls=1, call_state="ringing"
            ) == line_state(call_active="ON", active_calls=1, call_state="ringing", calls_today=2)
            mark = len(ha.messages)
            hub.bus.publish(events.CALL_ENDED, end(hub, second, Disposition.NO_ANSWER).to_json())
            assert await ha.json_on(state_topic, after=mark, active_calls=0) == line_state(
                calls_today=2, missed_today=1
            )
            await ha.json_on(event_topic, call_id="c2", event_type="ended")
            kinds = [(m.json()["call_id"], m.json()["event_type"]) for m in ha.on(event_topic)]
            assert kinds == [
                ("c1", "incoming"),
                ("c2", "incoming"),
                ("c1", "answered"),
                ("c1", "ended"),
                ("c2", "missed"),
                ("c2", "ended"),
            ]
            missed = next(m for m in ha.on(event_topic) if m.json()["event_type"] == "missed")
            assert not missed.retain
            data = missed.json()
            assert data.pop("at").startswith(str(hub.now().year))
            assert data == {
                "event_type": "missed",
                "call_id": "c2",
                "line": LINE,
                "direction": "inbound",
                "number": "+372*****76",
                "disposition": "no_answer",
                "duration_s": None,
            }


async def test_last_call_is_masked_by_default_and_never_retained(tmp_path, prefixes):
    p = prefixes
    last_topic = f"{p.topics}/ha/line/{KEY}/last_call"
    async with running_hub(tmp_path, p.conf()) as hub:
        await settled(hub)
        async with watch(f"{p.topics}/#") as ha:
            call = answer(hub, make_call(hub, "c1", direction=Direction.OUTBOUND, number="+37255512345"))
            hub.bus.publish(events.CALL_STARTED, call.to_json())
            end(hub, call, Disposition.ANSWERED)
            call.recording = RecordingInfo(path="/x.wav", duration_s=42.0, status="saved")
            hub.bus.publish(events.CALL_ENDED, call.to_json())
            hub.bus.publish(events.RECORDING_SAVED, call.to_json())
            last = await ha.wait(last_topic, lambda m: m.json()["ended_at"] is not None)
            assert not last.retain
            assert last.json() == {
                "display": "+372******45",
                "number": "+372******45",
                "call_id": "c1",
                "line": LINE,
                "direction": "outbound",
                "started_at": call.started_at.isoformat(),
                "answered_at": call.answered_at.isoformat(),
                "ended_at": call.ended_at.isoformat(),
                "duration_s": 42.0,
                "disposition": "answered",
                "missed": False,
            }
            saved = await ha.json_on(f"{p.topics}/ha/line/{KEY}/event", event_type="recording_saved")
            assert saved["recording_duration_s"] == 42.0
            call.health = [HealthProblem(HealthReason.NO_AUDIO, "no audio in /x.wav", "heard")]
            hub.bus.publish(events.RECORDING_UNHEALTHY, call.to_json())
            bad = await ha.json_on(f"{p.topics}/ha/line/{KEY}/event", event_type="recording_unhealthy")
            assert (bad["reasons"], bad["channels"]) == (["channel_no_audio"], ["heard"])
            assert "detail" not in bad and "/x.wav" not in str(bad)
            assert "/x.wav" not in str(saved)
            assert all("55512345" not in m.payload.decode() for m in ha.messages)
            await settled(hub)
        async with watch(f"{p.topics}/#") as late:
            await late.wait(f"{p.topics}/ha/line/{KEY}/state")
            assert late.on(last_topic) == []  # the broker kept no number
            assert late.on(f"{p.topics}/ha/line/{KEY}/event") == []


async def test_expose_numbers_none_and_full(tmp_path, prefixes):
    p = prefixes
    async with running_hub(tmp_path / "a", p.conf(expose_numbers="none")) as hub:
        await settled(hub)
        async with watch(f"{p.topics}/#") as ha:
            hub.bus.publish(events.CALL_STARTED, make_call(hub, "c1").to_json())
            last = (await ha.wait(f"{p.topics}/ha/line/{KEY}/last_call")).json()
            assert last["display"] == "inbound"
            assert "number" not in last
            event = await ha.json_on(f"{p.topics}/ha/line/{KEY}/event", event_type="incoming")
            assert "number" not in event
            assert all(b"5551234" not in m.payload for m in ha.messages)
    async with running_hub(tmp_path / "b", p.conf(id="full", expose_numbers="full")) as hub:
        await settled(hub, "full")
        async with watch(f"{p.topics}/#") as ha:
            hub.bus.publish(events.CALL_STARTED, make_call(hub, "c2").to_json())
            last = (await ha.wait(f"{p.topics}/full/line/{KEY}/last_call")).json()
            assert last["display"] == last["number"] == "+3725551234"


async def test_counters_and_last_purge_survive_a_restart(tmp_path, prefixes):
    p = prefixes
    rules = {"retention": [{"platform": "max_age", "id": "default", "days": 0}]}
    async with running_hub(tmp_path, p.conf(), **rules) as hub:
        missed = make_call(hub, "c1")
        await hub.call_started(missed)  # through the hub: saved in the store, then published
        await hub.call_ended(end(hub, missed, Disposition.CANCELLED))
        recorded = answer(hub, make_call(hub, "c2"))
        audio = tmp_path / "c2.wav"
        audio.write_bytes(b"RIFF")
        recorded.recording = RecordingInfo(path=str(audio), status="saved")
        await hub.call_started(recorded)
        recorded.ended_at = hub.now() - timedelta(seconds=1)
        recorded.disposition = Disposition.ANSWERED
        await hub.call_ended(recorded)
        async with watch(f"{p.topics}/#") as ha:
            await ha.json_on(f"{p.topics}/ha/line/{KEY}/state", calls_today=2, missed_today=1)
            await ha.wait(f"{p.topics}/ha/hub")  # the retained copy, no purge yet
            mark = len(ha.messages)
            hub.bus.publish(events.RECORDING_DELETED, missed.to_json())  # by hand: not a purge
            deleted = await sweep(hub, hub.now())  # the retention rule: a purge
            assert [d.call_id for d in deleted] == ["c2"] and not audio.exists()
            purge = await ha.wait(f"{p.topics}/ha/hub", after=mark)
            assert purge.json()["last_retention_purge"] is not None
            assert [m for m in ha.messages[mark:] if m.topic == f"{p.topics}/ha/hub"] == [purge]
    async with running_hub(tmp_path, p.conf(), **rules) as hub:  # same data folder: a restart
        await settled(hub)
        async with watch(f"{p.topics}/#") as ha:
            state = await ha.wait(f"{p.topics}/ha/line/{KEY}/state")
            assert state.json() == line_state(calls_today=2, missed_today=1)
            after = (await ha.wait(f"{p.topics}/ha/hub")).json()["last_retention_purge"]
            before = datetime.fromisoformat(purge.json()["last_retention_purge"])
            assert abs(datetime.fromisoformat(after) - before) < timedelta(seconds=5)  # from the deletion log


async def test_counters_go_back_to_zero_at_local_midnight(tmp_path, prefixes, monkeypatch):
    p = prefixes
    tz = ZoneInfo("Europe/Tallinn")
    start = datetime(2026, 11, 29, 23, 59, 58, 800000, tzinfo=tz)
    began = time.monotonic()
    monkeypatch.setattr(Hub, "now", lambda self: start + timedelta(seconds=time.monotonic() - began))
    async with running_hub(tmp_path, p.conf()) as hub:
        await settled(hub)
        async with watch(f"{p.topics}/#") as ha:
            call = make_call(hub, "c1")
            hub.bus.publish(events.CALL_STARTED, call.to_json())
            hub.bus.publish(events.CALL_ENDED, end(hub, call, Disposition.BUSY).to_json())
            await ha.json_on(f"{p.topics}/ha/line/{KEY}/state", calls_today=1, missed_today=1)
            reset = await ha.json_on(f"{p.topics}/ha/line/{KEY}/state", calls_today=0)
            assert reset == line_state()
            assert hub.now().date().isoformat() == "2026-11-30"
