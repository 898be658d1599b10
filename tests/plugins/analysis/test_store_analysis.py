"""The store's analysis tables on a real SQLite file: queue, results, transcript search,
and derived data going with the recording (retention, erasure, deletion of the row)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from salvesti.core.call import Call, Direction, Disposition, RecordingInfo
from salvesti.core.components import CallQuery
from salvesti.plugins import store_sqlite_analysis as sa
from salvesti.plugins.store_sqlite import SqliteStore

TZ = ZoneInfo("Europe/Tallinn")
T0 = datetime(2026, 3, 1, 9, 0, tzinfo=TZ)


def make_call(n: int) -> Call:
    started = T0 + timedelta(minutes=n)
    return Call(
        id=f"c{n:03d}",
        source="office",
        direction=Direction.INBOUND,
        line="+3726000000",
        remote_number=f"+37255512{n:02d}",
        started_at=started,
        answered_at=started + timedelta(seconds=5),
        ended_at=started + timedelta(seconds=65),
        disposition=Disposition.ANSWERED,
        recording=RecordingInfo(path=f"/rec/c{n}.wav", status="saved", bytes=10),
    )


@pytest.fixture
async def store(tmp_path):
    async with SqliteStore(tmp_path / "salvesti.db", tz=TZ) as s:
        yield s


def line(channel: str, start: float, text: str) -> dict:
    return {"channel": channel, "start_s": start, "end_s": start + 2, "text": text, "words": []}


async def analysed(store: SqliteStore, call, lines, terms=(), flags=()) -> None:
    await store.save_call(call)
    async with store.write() as db:
        await sa.enqueue(db, call.id)
        assert await sa.save_result(db, call.id, {"talk": {}}, lines, set(terms), set(flags))


async def ids(store: SqliteStore, **kw) -> list[str]:
    return sorted(c.id for c in await store.list_calls(CallQuery(limit=0, **kw)))


async def test_words_phrases_and_prefixes_find_exactly_the_right_calls(store):
    await analysed(store, make_call(1), [line("agent", 1, "See kõne salvestatakse. Hind on hea.")])
    await analysed(store, make_call(2), [line("outside", 1, "The price is good, any discount?")])
    await analysed(store, make_call(3), [line("outside", 1, "Is it good? The price, yes.")])
    await store.save_call(make_call(4))
    assert await ids(store, q="salvest*") == ["c001"]
    assert await ids(store, q="price good") == ["c002", "c003"]  # both words, any order
    assert await ids(store, q='"price is good"') == ["c002"]  # the phrase, in order
    assert await ids(store, q="discount") == ["c002"]
    assert await ids(store, q='"') == []  # FTS syntax in the input is never an error
    assert await ids(store, q="AND OR NOT (") == []
    hits = await sa.transcript_hits(store.db, "discount", ["c002", "c003"])
    assert list(hits) == ["c002"]
    assert hits["c002"]["channel"] == "outside" and hits["c002"]["start_s"] == 1
    assert "«discount»" in hits["c002"]["snippet"]


async def test_diacritics_fold_so_a_word_typed_without_them_matches(store):
    await analysed(store, make_call(1), [line("agent", 1, "Tänan, et helistasite")])
    assert await ids(store, q="tanan") == ["c001"]


async def test_flag_filter(store):
    await analysed(store, make_call(1), [], flags={"notice_unverified"})
    await analysed(store, make_call(2), [], flags={"card_data"})
    assert await ids(store, flag="notice_unverified") == ["c001"]
    assert (await sa.summaries(store.db, ["c001", "c002"]))["c002"] == {
        "status": "done",
        "flags": ["card_data"],
    }


async def test_deleted_recording_takes_transcript_index_and_terms_with_it(store):
    call = make_call(1)
    await analysed(store, call, [line("agent", 1, "hind allahindlus")], terms={"hind"})
    call.recording.status = "deleted"  # what retention, erasure and manual deletion do
    await store.save_call(call)
    assert await sa.get_result(store.db, call.id) is None
    assert await ids(store, q="allahindlus") == []
    for table in ("analysis_lines", "analysis_terms", "analysis_flags", "analysis_jobs"):
        rows = await store.db.execute_fetchall(f"SELECT count(*) FROM {table}")
        assert rows[0][0] == 0, table
    rows = await store.db.execute_fetchall(
        "SELECT count(*) FROM analysis_fts WHERE analysis_fts MATCH 'hind'"
    )
    assert rows[0][0] == 0
    log = await store.list_deletions(call_id=call.id)
    assert [d["what"] for d in log] == ["analysis"]


async def test_result_arriving_after_the_recording_was_deleted_is_dropped(store):
    call = make_call(1)
    await store.save_call(call)
    async with store.write() as db:
        await sa.enqueue(db, call.id)
    call.recording.status = "deleted"
    await store.save_call(call)
    async with store.write() as db:
        assert not await sa.save_result(db, call.id, {}, [line("agent", 1, "hind")], set(), set())
    assert await sa.get_result(store.db, call.id) is None


async def test_claim_retry_fail_and_stale_release(store):
    for n in (1, 2, 3):
        await store.save_call(make_call(n))
        async with store.write() as db:
            assert await sa.enqueue(db, f"c{n:03d}")
            assert not await sa.enqueue(db, f"c{n:03d}")  # once
    async with store.write() as db:
        taken = await sa.claim(db, "host:1", 2)
        assert [c for c, _ in taken] == ["c001", "c002"]
        assert [c for c, _ in await sa.claim(db, "host:2", 5)] == ["c003"]
        assert await sa.claim(db, "host:2", 5) == []
        await sa.retry_later(db, "c001", "boom", datetime.now(UTC) + timedelta(hours=1))
        await sa.fail(db, "c002", "the recording file is missing")
        assert await sa.claim(db, "host:3", 5) == []  # c001 is not due yet
        assert await sa.release_stale(db, lambda who: who == "host:2") == 0  # host:2 still runs
        assert await sa.release_stale(db, lambda who: False) == 1  # host:2 is gone: c003 back
    summary = await sa.queue_summary(store.db)
    assert summary["counts"] == {"queued": 2, "running": 0, "done": 0, "failed": 1}
    assert summary["failures"][0]["error"] == "the recording file is missing"
    async with store.write() as db:
        assert await sa.enqueue(db, "c002", force=True)
    assert (await sa.job_status(store.db, "c002"))["status"] == "queued"
