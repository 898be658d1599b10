"""The retention sweep on a real SQLite file and real recording files."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from salvesti.core.bus import RECORDING_DELETED, EventBus
from salvesti.core.call import Call, Direction, Disposition, RecordingInfo
from salvesti.core.retention import SweepParts, sweep
from salvesti.plugins.retention_max_age import MaxAgeRule
from salvesti.plugins.store_sqlite import SqliteStore

TZ = ZoneInfo("Europe/Tallinn")
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=TZ)


class FileSink:
    """A minimal real sink: recordings are plain files; delete removes them."""

    id = "disk"
    format = "wav"

    def __init__(self) -> None:
        self.deleted: list[str] = []

    async def delete(self, call: Call) -> bool:
        self.deleted.append(call.id)
        return await asyncio.to_thread(_unlink, Path(call.recording.path))


def _unlink(path: Path) -> bool:
    existed = path.exists()
    path.unlink(missing_ok=True)
    return existed


def recorded_call(tmp_path: Path, n: int, age_days: float, **kw) -> Call:
    ended = NOW - timedelta(days=age_days)
    file = tmp_path / f"c{n}.wav"
    file.write_bytes(b"RIFF....")
    call = Call(
        id=f"c{n}",
        source="office",
        direction=kw.pop("direction", Direction.INBOUND),
        line=kw.pop("line", "+3726000000"),
        remote_number="+3725551234",
        started_at=ended - timedelta(minutes=2),
        answered_at=ended - timedelta(minutes=1),
        ended_at=ended,
        disposition=Disposition.ANSWERED,
        recording=RecordingInfo(path=str(file), status="saved"),
    )
    call.meta["sink"] = "disk"
    for key, value in kw.items():
        setattr(call.retention, key, value)
    return call


@pytest.fixture
async def store(tmp_path):
    async with SqliteStore(tmp_path / "salvesti.db", tz=TZ) as s:
        yield s


async def test_sweep_deletes_due_recordings_and_logs_them(store, tmp_path):
    rules = [MaxAgeRule("sales", 60, {"line": ["+3726000000"]}), MaxAgeRule("default", 10, {})]
    old = recorded_call(tmp_path, 1, age_days=11, line="+3726999999")
    old.set_delete_after(10, "default")
    young = recorded_call(tmp_path, 2, age_days=11)
    young.set_delete_after(60, "sales")
    held = recorded_call(tmp_path, 3, age_days=30, legal_hold=True)
    held.set_delete_after(10, "default")
    for c in (old, young, held):
        await store.save_call(c)
    bus = EventBus()
    published: list[dict] = []
    bus.subscribe(RECORDING_DELETED, lambda event: published.append(event.data))
    sink = FileSink()
    parts = SweepParts(store=store, sinks={"disk": sink}, rules=rules, bus=bus)

    preview = await sweep(parts, NOW, dry_run=True)
    assert [(d.call_id, d.deleted) for d in preview] == [("c1", False)]
    assert (tmp_path / "c1.wav").exists() and sink.deleted == []

    done = await sweep(parts, NOW)
    assert [(d.call_id, d.rule, d.deleted) for d in done] == [("c1", "default", True)]
    assert not (tmp_path / "c1.wav").exists()
    assert (tmp_path / "c2.wav").exists() and (tmp_path / "c3.wav").exists()
    assert (await store.get_call("c1")).recording.status == "deleted"
    (logged,) = await store.list_deletions()
    assert logged["call_id"] == "c1" and logged["rule"] == "default"
    assert logged["reason"].startswith("kept until 2026-05-31T12:00:00+03:00 by retention rule 'default'")
    assert [p["id"] for p in published] == ["c1"]
    assert published[0]["recording"]["status"] == "deleted"

    assert await sweep(parts, NOW) == []  # already deleted: nothing twice


async def test_rules_are_reapplied_to_calls_without_delete_after(store, tmp_path):
    await store.save_call(recorded_call(tmp_path, 1, age_days=20))
    await store.save_call(recorded_call(tmp_path, 2, age_days=5))
    await store.save_call(recorded_call(tmp_path, 3, age_days=20, direction=Direction.INTERNAL))
    rules = [MaxAgeRule("ext", 10, {"direction": "inbound"})]
    parts = SweepParts(store=store, sinks={"disk": FileSink()}, rules=rules)

    assert [d.call_id for d in await sweep(parts, NOW, dry_run=True)] == ["c1"]
    assert (await store.get_call("c1")).retention.delete_after is None  # dry run saved nothing

    assert [d.call_id for d in await sweep(parts, NOW)] == ["c1"]
    c2 = await store.get_call("c2")
    assert c2.retention.delete_after == c2.ended_at + timedelta(days=10) and c2.retention.rule == "ext"
    assert (await store.get_call("c3")).retention.delete_after is None  # no rule matched


async def test_legal_hold_set_later_stops_deletion(store, tmp_path):
    call = recorded_call(tmp_path, 1, age_days=30)
    call.set_delete_after(10, "default")
    await store.save_call(call)
    await store.update_call_fields("c1", legal_hold=True)
    parts = SweepParts(store=store, sinks={"disk": FileSink()})
    assert await sweep(parts, NOW) == []
    assert (tmp_path / "c1.wav").exists()


async def test_failing_sink_keeps_the_call_and_reports_the_error(store, tmp_path):
    class BrokenSink(FileSink):
        async def delete(self, call: Call) -> bool:
            raise PermissionError("read-only file system")

    call = recorded_call(tmp_path, 1, age_days=30)
    call.set_delete_after(10, "default")
    await store.save_call(call)
    (result,) = await sweep(SweepParts(store=store, sinks={"disk": BrokenSink()}), NOW)
    assert not result.deleted and result.error == "PermissionError: read-only file system"
    assert (await store.get_call("c1")).recording.status == "saved"
    assert await store.list_deletions() == []


async def test_without_a_sink_the_recorded_file_is_removed_directly(store, tmp_path):
    call = recorded_call(tmp_path, 1, age_days=30)
    call.set_delete_after(10, "default")
    await store.save_call(call)
    (result,) = await asyncio.wait_for(sweep(SweepParts(store=store), NOW), 5)
    assert result.deleted and not (tmp_path / "c1.wav").exists()
