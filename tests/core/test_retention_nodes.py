"""Two nodes sweeping one PostgreSQL store at the same moment delete each recording once.

Two :class:`PostgresStore` objects (two pools, as two ``salvesti run`` processes have) on one
fresh database, each with its own sink over the same folder of real files.  Node A's first
delete is held until node B has deleted something, so the sweeps certainly overlap: B meets
A's claimed call, skips it (``SKIP LOCKED``) and goes on.  Each recording is then deleted by
exactly one sink, logged once, announced once.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from salvesti.core.bus import RECORDING_DELETED, EventBus
from salvesti.core.call import Call, Direction, Disposition, RecordingInfo
from salvesti.core.retention import SweepParts, sweep
from salvesti.plugins.retention_max_age import MaxAgeRule
from salvesti.plugins.store_postgresql import PostgresStore
from salvesti.testing import postgres

TZ = ZoneInfo("Europe/Tallinn")
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=TZ)
CALLS = 24

pytestmark = pytest.mark.timeout(60)


class CountingSink:
    """Deletes the real file; counts what it deleted.  ``hold`` keeps its first delete waiting."""

    id = "disk"
    format = "wav"

    def __init__(self, hold: asyncio.Event | None = None, done: asyncio.Event | None = None) -> None:
        self.hold = hold
        self.done = done
        self.deleted: list[str] = []

    async def delete(self, call: Call) -> bool:
        assert call.recording is not None
        if self.hold is not None and not self.deleted:
            await asyncio.wait_for(self.hold.wait(), 20)
        path = Path(call.recording.path)
        existed = await asyncio.to_thread(path.exists)
        await asyncio.to_thread(path.unlink, missing_ok=True)
        self.deleted.append(call.id)
        if self.done is not None:
            self.done.set()
        return existed


@pytest.fixture
def dsn() -> Iterator[str]:
    with postgres.temporary_database("salvesti_sweep") as url:
        yield url


@pytest.fixture
async def stores(dsn: str) -> AsyncIterator[tuple[PostgresStore, PostgresStore]]:
    a, b = PostgresStore(dsn, tz=TZ, pool_size=3), PostgresStore(dsn, tz=TZ, pool_size=3)
    await asyncio.gather(a.async_setup(), b.async_setup())
    try:
        yield a, b
    finally:
        await asyncio.gather(a.async_unload(), b.async_unload())


async def _recorded(store: PostgresStore, folder: Path) -> list[str]:
    """Ended calls with real files: half already due, half with no rule applied yet."""
    ids = []
    for n in range(CALLS):
        ended = NOW - timedelta(days=20, minutes=n)
        file = folder / f"n{n:02}.wav"
        file.write_bytes(b"RIFF....")
        call = Call(
            id=f"n{n:02}", source="office", direction=Direction.INBOUND, line="+3726000000",
            remote_number="+3725551234", started_at=ended - timedelta(minutes=2),
            answered_at=ended - timedelta(minutes=1), ended_at=ended, disposition=Disposition.ANSWERED,
            recording=RecordingInfo(path=str(file), status="saved"),
        )  # fmt: skip
        call.meta["sink"] = "disk"
        if n % 2:
            call.set_delete_after(10, "default")
        await store.save_call(call)
        ids.append(call.id)
    return ids


async def test_two_nodes_sweeping_at_once_delete_each_recording_once(stores, tmp_path):
    a, b = stores
    ids = await _recorded(a, tmp_path)
    b_deleted = asyncio.Event()
    sink_a, sink_b = CountingSink(hold=b_deleted), CountingSink(done=b_deleted)
    rules = [MaxAgeRule("default", 10, {})]
    announced: list[str] = []
    buses = [EventBus(), EventBus()]
    for bus in buses:
        bus.subscribe(RECORDING_DELETED, lambda event: announced.append(event.data["id"]))
    done_a, done_b = await asyncio.gather(
        sweep(SweepParts(store=a, sinks={"disk": sink_a}, rules=rules, bus=buses[0]), NOW),
        sweep(SweepParts(store=b, sinks={"disk": sink_b}, rules=rules, bus=buses[1]), NOW),
    )

    assert sink_a.deleted and sink_b.deleted  # both took part
    assert sorted(sink_a.deleted + sink_b.deleted) == ids  # each file deleted by one node
    assert [d.call_id for d in done_a] == sink_a.deleted and [d.call_id for d in done_b] == sink_b.deleted
    assert all(d.deleted and d.error is None for d in done_a + done_b)
    assert sorted(announced) == ids
    log = await b.list_deletions(limit=1000)
    assert sorted(entry["call_id"] for entry in log) == ids  # logged once each
    assert not list(tmp_path.glob("*.wav"))
    for call_id in ids:
        call = await a.get_call(call_id)
        assert call is not None and call.recording is not None and call.recording.status == "deleted"
        assert call.retention.rule == "default"

    # and a sweep afterwards, on either node, finds nothing left to do
    assert await sweep(SweepParts(store=b, sinks={"disk": sink_b}, rules=rules), NOW) == []


async def test_a_failed_delete_releases_the_claim(stores, tmp_path):
    """The sink fails on node A: nothing is marked or logged, and node B deletes it later."""
    a, b = stores
    ids = await _recorded(a, tmp_path)

    class Broken(CountingSink):
        async def delete(self, call: Call) -> bool:
            raise OSError("the object store said no")

    rules = [MaxAgeRule("default", 10, {})]
    failed = await sweep(SweepParts(store=a, sinks={"disk": Broken()}, rules=rules), NOW)
    assert [d.call_id for d in failed] == sorted(ids, key=lambda i: -int(i[1:]))  # oldest first
    assert all(d.error == "OSError: the object store said no" and not d.deleted for d in failed)
    assert await a.list_deletions() == []
    sink = CountingSink()
    assert len(await sweep(SweepParts(store=b, sinks={"disk": sink}, rules=rules), NOW)) == CALLS
    assert sorted(sink.deleted) == ids
