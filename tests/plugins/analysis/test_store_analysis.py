"""What only the SQLite store's analysis tables have: the FTS5 index and its triggers.

The behaviour both backends share (queue, results, search, forgetting with the recording) is
tested on both in tests/plugins/test_store_shared_analysis.py."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from salvesti.core.call import Call, Direction, Disposition, RecordingInfo
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


async def test_deleted_recording_empties_the_fts_index_and_every_table(store):
    call = make_call(1)
    await analysed(store, call, [line("agent", 1, "hind allahindlus")], terms={"hind"})
    call.recording.status = "deleted"  # what retention, erasure and manual deletion do
    await store.save_call(call)
    for table in ("analysis_lines", "analysis_terms", "analysis_flags", "analysis_jobs"):
        rows = await store.db.execute_fetchall(f"SELECT count(*) FROM {table}")
        assert rows[0][0] == 0, table
    rows = await store.db.execute_fetchall(
        "SELECT count(*) FROM analysis_fts WHERE analysis_fts MATCH 'hind'"
    )
    assert rows[0][0] == 0


async def test_deleting_the_call_row_forgets_its_analysis(store):
    call = make_call(1)
    await analysed(store, call, [line("agent", 1, "hind")])
    async with store.write() as db:
        await db.execute("DELETE FROM calls WHERE id = ?", (call.id,))
    assert await sa.get_result(store.db, call.id) is None
    assert [d["what"] for d in await store.list_deletions(call_id=call.id)] == ["analysis"]
