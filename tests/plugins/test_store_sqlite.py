"""The SQLite store on real files: round-trip, filters, keyset paging, retention queries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from salvesti.core.call import Call, Direction, Disposition, RecordingInfo
from salvesti.core.components import CallQuery
from salvesti.plugins.store_sqlite import UNSET, SqliteStore

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


@pytest.fixture
async def store(tmp_path):
    async with SqliteStore(tmp_path / "data" / "salvesti.db", tz=TZ) as s:
        yield s


async def test_file_is_created_in_wal_mode_with_migrations_recorded(store, tmp_path):
    assert (tmp_path / "data" / "salvesti.db").exists()
    assert (await store.db.execute_fetchall("PRAGMA journal_mode"))[0][0] == "wal"
    rows = await store.db.execute_fetchall("SELECT namespace, version FROM schema_migrations")
    assert ("core", 1) in [tuple(r) for r in rows]


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
    # two calls at the same second are ordered by id
    await store.save_call(make_call(9, id="c005b", started_at=T0 + timedelta(minutes=5)))
    ids = [c.id for c in await store.list_calls(CallQuery(limit=0))]
    assert ids == ["c006", "c005b", "c005", "c004", "c003", "c002", "c001", "c000"]
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
    await store.save_call(make_call(4, line="+3726111111", outcome="sold", notes="Wants a quote"))

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
    assert await ids(q="quote") == ["c004"]
    assert await ids(q="5551234") == ["c001"]
    assert await ids(since=T0 + timedelta(minutes=2)) == ["c004", "c003", "c002"]
    assert await ids(until=T0 + timedelta(minutes=2)) == ["c001"]
    naive = (T0 + timedelta(minutes=3)).replace(tzinfo=None)  # naive = the store's timezone
    assert await ids(since=naive) == ["c004", "c003"]
    assert await ids(q="100%_") == []


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
    (row,) = await store.list_deletions()
    assert row == {
        "call_id": "c001",
        "what": "recording",
        "path": "/rec/c1.wav",
        "deleted_at": "2026-04-01T15:00:00+03:00",
        "rule": "default",
        "reason": "older than 10 days",
    }
    assert await store.list_deletions(call_id="other") == []


@pytest.mark.parametrize(
    "filters",
    [
        {},
        {"direction": "inbound"},
        {"line": "+3726000000"},
        {"outcome": "won"},
        {"tag": "vip"},
        {"extension": "101"},
        {"since": T0},
        {"cursor": ("2026-03-01T09:00:00+02:00", "c001")},
    ],
)
async def test_list_queries_use_indexes(store, filters):
    from salvesti.plugins.store_sqlite_query import build_where

    where, params = build_where(CallQuery(**filters), tz=TZ, default_country="EE")
    plan = await store.db.execute_fetchall(
        f"EXPLAIN QUERY PLAN SELECT data FROM calls WHERE {where} ORDER BY started_at DESC, id DESC LIMIT 50",
        params,
    )
    steps = [row[3] for row in plan]
    assert "SCAN calls" not in steps, steps  # never a full scan without an index
