"""The store protocol, run against every backend: SQLite and PostgreSQL give the same answers.

Each test runs once per backend through the parametrised ``store`` fixture; the PostgreSQL
database is made once for this module and emptied before each test.  What only one backend
has (WAL mode, SQLite query plans, advisory-locked migrations) is tested in its own module.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from salvesti.core.call import Call, Direction, Disposition, HealthProblem, HealthReason, RecordingInfo
from salvesti.core.components import CallQuery
from salvesti.plugins.store_postgresql import PostgresStore
from salvesti.plugins.store_sqlite import UNSET, SqliteStore
from salvesti.testing.stores import either_store, pg_dsn  # noqa: F401  (a fixture)

TZ = ZoneInfo("Europe/Tallinn")
T0 = datetime(2026, 3, 1, 9, 0, tzinfo=TZ)


def make_call(n: int, **kw) -> Call:
    started = kw.pop("started_at", T0 + timedelta(minutes=n))
    call = Call(
        id=kw.pop("id", f"c{n:03d}"),
        source=kw.pop("source", "office"),
        direction=kw.pop("direction", Direction.INBOUND),
        line=kw.pop("line", "+3726000000"),
        remote_number=kw.pop("remote_number", f"+37255512{n:02d}"),
        started_at=started,
        answered_at=started + timedelta(seconds=5),
        ended_at=kw.pop("ended_at", started + timedelta(seconds=65)),
        disposition=Disposition.ANSWERED,
        recording=kw.pop("recording", RecordingInfo(path=f"/rec/c{n}.wav", status="saved", bytes=10)),
    )
    for key, value in kw.items():
        setattr(call, key, value)
    return call


@pytest.fixture(params=["sqlite", "postgresql"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[SqliteStore | PostgresStore]:
    dsn = lambda: request.getfixturevalue("pg_dsn")  # noqa: E731
    async with either_store(request.param, tmp_path / "data" / "salvesti.db", dsn, tz=TZ) as s:
        yield s


async def test_call_round_trips_exactly(store):
    call = make_call(1, tags=["sale", "vip"], notes="called back", outcome="sold")
    call.add_extension("101")
    call.add_extension("102")  # transferred
    call.meta["sip_call_id"] = "abc@host"
    await store.save_call(call)
    loaded = await store.get_call("c001")
    assert loaded is not None
    assert loaded.to_json() == call.to_json()
    assert loaded.started_at == call.started_at and loaded.started_at.utcoffset() == timedelta(hours=2)
    assert await store.get_call("nope") is None


async def test_save_twice_updates_tags_and_extensions(store):
    call = make_call(1, tags=["a", "b"])
    call.add_extension("101")
    await store.save_call(call)
    call.tags = ["c"]
    call.add_extension("102")
    await store.save_call(call)
    assert [c.id for c in await store.list_calls(CallQuery(tag="a"))] == []
    assert [c.id for c in await store.list_calls(CallQuery(tag="c"))] == ["c001"]
    assert [c.id for c in await store.list_calls(CallQuery(extension="102"))] == ["c001"]
    assert [c.id for c in await store.list_calls(CallQuery(extension="101"))] == ["c001"]


async def test_list_is_newest_first_with_keyset_paging(store):
    for n in range(7):
        await store.save_call(make_call(n))
    # two calls at the same second are ordered by id (bytewise on both backends)
    await store.save_call(make_call(9, id="c005b", started_at=T0 + timedelta(minutes=5)))
    await store.save_call(make_call(10, id="C005", started_at=T0 + timedelta(minutes=5)))
    ids = [c.id for c in await store.list_calls(CallQuery(limit=0))]
    assert ids == ["c006", "c005b", "c005", "C005", "c004", "c003", "c002", "c001", "c000"]
    seen: list[str] = []
    cursor = None
    for _ in range(10):
        page = await store.list_calls(CallQuery(limit=3, cursor=cursor))
        if not page:
            break
        seen += [c.id for c in page]
        last = page[-1]
        cursor = (last.started_at.isoformat(), last.id)
    assert seen == ids


async def test_filters(store):
    await store.save_call(make_call(1, remote_number="+3725551234"))
    await store.save_call(make_call(2, direction=Direction.OUTBOUND, remote_number="+358401234567"))
    await store.save_call(make_call(3, direction=Direction.INTERNAL, remote_number="102", line=None))
    await store.save_call(
        make_call(4, line="+3726111111", outcome="sold", notes="Wants a Quote", tags=["VIP"])
    )

    async def ids(**kw):
        return [c.id for c in await store.list_calls(CallQuery(**kw))]

    assert await ids(number="5551234") == ["c001"]
    assert await ids(number="+372 555 1234") == ["c001"]
    assert await ids(number="51234") == ["c001"]  # any part of the digits
    assert await ids(number="0401234567") == []  # national FI form does not match EE default
    assert await ids(number="401234567") == ["c002"]
    assert await ids(direction="outbound") == ["c002"]
    assert await ids(direction="internal") == ["c003"]
    assert await ids(line="+3726111111") == ["c004"]
    assert await ids(line="6111111") == ["c004"]  # normalised with the default country
    assert await ids(outcome="sold") == ["c004"]
    assert await ids(q="quote") == ["c004"]  # case-blind
    assert await ids(q="vip") == ["c004"]  # tags too
    assert await ids(q="5551234") == ["c001"]
    assert await ids(since=T0 + timedelta(minutes=2)) == ["c004", "c003", "c002"]
    assert await ids(until=T0 + timedelta(minutes=2)) == ["c001"]
    naive = (T0 + timedelta(minutes=3)).replace(tzinfo=None)  # naive = the store's timezone
    assert await ids(since=naive) == ["c004", "c003"]
    assert await ids(q="100%_") == []
    assert await ids(tag="VIP", direction="inbound", limit=1) == ["c004"]


async def test_unhealthy_filter(store):
    sick = make_call(1)
    sick.health = [HealthProblem(HealthReason.SILENT, "outside silent", "outside")]
    await store.save_call(sick)
    await store.save_call(make_call(2))
    assert [c.id for c in await store.list_calls(CallQuery(unhealthy="any"))] == ["c001"]
    assert [c.id for c in await store.list_calls(CallQuery(unhealthy="channel_silent"))] == ["c001"]
    assert await store.list_calls(CallQuery(unhealthy="packet_loss")) == []
    sick.health = []
    await store.save_call(sick)
    assert await store.list_calls(CallQuery(unhealthy="any")) == []


async def test_unfinished_calls(store):
    await store.save_call(make_call(1))
    running = make_call(2, ended_at=None, recording=RecordingInfo(path="/rec/c2.wav"))
    await store.save_call(running)
    assert [c.id for c in await store.unfinished_calls()] == ["c002"]


async def test_update_call_fields(store):
    await store.save_call(make_call(1, outcome="x", notes="n", tags=["t"]))
    updated = await store.update_call_fields("c001", tags=["a", " a ", "b", ""], legal_hold=True)
    assert updated is not None and updated.tags == ["a", "b"] and updated.outcome == "x"
    again = await store.get_call("c001")
    assert again.retention.legal_hold is True and again.notes == "n"
    assert [c.id for c in await store.list_calls(CallQuery(tag="b"))] == ["c001"]
    cleared = await store.update_call_fields("c001", outcome=None, notes=UNSET)
    assert cleared.outcome is None and cleared.notes == "n"
    assert await store.update_call_fields("missing", outcome="x") is None


async def test_due_for_deletion_respects_hold_and_deleted(store):
    now = T0 + timedelta(days=20)
    for n, days in enumerate([5, 10, 30]):
        call = make_call(n)
        call.set_delete_after(days, "default")
        await store.save_call(call)
    held = make_call(5)
    held.set_delete_after(1, "default")
    held.retention.legal_hold = True
    await store.save_call(held)
    gone = make_call(6, recording=RecordingInfo(path="/rec/6.wav", status="deleted"))
    gone.set_delete_after(1, "default")
    await store.save_call(gone)
    no_recording = make_call(7, recording=None)
    no_recording.set_delete_after(1, "default")
    await store.save_call(no_recording)
    unruled = make_call(8)
    await store.save_call(unruled)
    assert [c.id for c in await store.calls_due_for_deletion(now)] == ["c000", "c001"]
    assert [c.id for c in await store.calls_without_retention()] == ["c008"]


async def test_deletion_log(store):
    call = make_call(1)
    when = datetime(2026, 4, 1, 12, 0, tzinfo=UTC)
    await store.log_deletion(call, rule="default", reason="older than 10 days", when=when)
    await store.log_deletion(make_call(2), rule="manual", reason="by mari", when=when + timedelta(seconds=1))
    first, second = await store.list_deletions()  # newest first
    assert first["call_id"] == "c002"
    assert second == {
        "call_id": "c001",
        "what": "recording",
        "path": "/rec/c1.wav",
        "deleted_at": "2026-04-01T15:00:00+03:00",
        "rule": "default",
        "reason": "older than 10 days",
    }
    assert [d["call_id"] for d in await store.list_deletions(call_id="c001")] == ["c001"]
    assert await store.list_deletions(call_id="other") == []


async def test_oldest_recordings_per_rule_skip_deleted_held_and_unruled(store):
    """What ``/metrics`` compares with each rule: the earliest end of a kept recording."""
    rows = {
        "old": (make_call(0), "short"),
        "newer": (make_call(1), "short"),
        "long": (make_call(2), "long"),
        "gone": (make_call(3, recording=RecordingInfo(path="/rec/g.wav", status="deleted")), "short"),
    }
    for call, rule in rows.values():
        call.set_delete_after(1, rule)
        await store.save_call(call)
    await store.save_call(make_call(4, started_at=T0 - timedelta(days=9)))  # no rule yet
    held = make_call(5, started_at=T0 - timedelta(days=8))
    held.set_delete_after(1, "short")
    held.retention.legal_hold = True  # may outlive its rule: not what the alert is about
    await store.save_call(held)
    got = await store.oldest_recordings()
    assert got == {"short": rows["old"][0].ended_at, "long": rows["long"][0].ended_at}
    assert all(when.tzinfo is not None for when in got.values())
