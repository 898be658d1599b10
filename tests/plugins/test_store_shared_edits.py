"""Call edits are field-level against whole-call saves, on SQLite and PostgreSQL.

The node recording a call saves its own copy of the call whole as the call goes on; a tag,
outcome, note or hold set meanwhile through ``update_call_fields`` (on this node or another)
must survive those saves, and the recording node's own fields must survive the edit."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from test_store_shared import TZ, make_call, pg_dsn, store  # noqa: F401  (fixtures)

from salvesti.core.call import Call, RecordingInfo
from salvesti.core.components import CallQuery
from salvesti.plugins.store_postgresql import PostgresStore
from salvesti.testing import postgres


def live_call(n: int) -> Call:
    """A call in progress, as the recording node holds it."""
    return make_call(n, ended_at=None, recording=RecordingInfo(path=f"/rec/c{n}.wav", status="recording"))


async def test_an_edit_survives_the_recording_nodes_later_save(store):  # noqa: F811
    mine = live_call(1)
    await store.save_call(mine)
    edited = await store.update_call_fields(mine.id, tags=["callback", " vip "], outcome="won", notes="n")
    assert edited is not None and edited.tags == ["callback", "vip"]
    # the recording node's copy knows nothing of the edit; the call ends and it saves it whole
    mine.ended_at = mine.started_at + timedelta(minutes=3)
    mine.recording = RecordingInfo(path="/rec/c1.wav", status="saved", bytes=99)
    await store.save_call(mine)
    stored = await store.get_call(mine.id)
    assert stored is not None
    assert (stored.tags, stored.outcome, stored.notes) == (["callback", "vip"], "won", "n")
    assert stored.ended_at == mine.ended_at and stored.recording.status == "saved"  # both kept
    assert (mine.tags, mine.outcome) == (["callback", "vip"], "won")  # the copy is brought up to date
    assert stored.to_json() == mine.to_json()


async def test_later_edits_and_clearing_win_fields_not_edited_stay_the_nodes(store):  # noqa: F811
    mine = live_call(1)
    mine.tags = ["from-the-dialplan"]
    await store.save_call(mine)
    await store.update_call_fields(mine.id, outcome="won", legal_hold=True)
    await store.update_call_fields(mine.id, outcome=None)  # cleared by a user: stays cleared
    mine.outcome = "lost"  # a stale value in the node's copy
    mine.tags = ["from-the-dialplan", "late"]  # tags were never edited: the node's own change stands
    await store.save_call(mine)
    stored = await store.get_call(mine.id)
    assert stored.outcome is None and stored.retention.legal_hold is True
    assert stored.tags == ["from-the-dialplan", "late"]
    assert [c.id for c in await store.list_calls(CallQuery(tag="late"))] == [mine.id]
    # an erasure clears through the edits, so no edited text survives it
    await store.update_call_fields(mine.id, notes="private", tags=["x"])
    await store.update_call_fields(mine.id, notes="", tags=[])
    mine.notes = ""
    mine.tags = []
    await store.save_call(mine)
    stored = await store.get_call(mine.id)
    assert (stored.notes, stored.tags) == ("", [])
    assert await store.update_call_fields("nope", tags=["x"]) is None


async def test_two_nodes_saving_and_editing_at_once_lose_nothing(pg_dsn):  # noqa: F811
    """Node A records the call and saves its copy again and again; node B, with its own pool,
    sets tags, outcome and notes meanwhile.  Every save and every edit interleave freely."""
    await postgres.truncate(pg_dsn)
    async with PostgresStore(pg_dsn, tz=TZ, pool_size=3) as a, PostgresStore(pg_dsn, tz=TZ, pool_size=3) as b:
        mine = live_call(1)
        await a.save_call(mine)

        async def recording_node() -> None:
            for i in range(20):
                mine.meta["progress"] = i
                await a.save_call(Call.from_json(mine.to_json()))  # a fresh stale copy each time

        async def other_node() -> None:
            for i in range(20):
                await b.update_call_fields(mine.id, tags=[f"t{i}"], notes=f"note {i}")
            await b.update_call_fields(mine.id, outcome="won")

        await asyncio.gather(recording_node(), other_node())
        mine.ended_at = mine.started_at + timedelta(minutes=2)
        await a.save_call(Call.from_json(mine.to_json()))
        stored = await b.get_call(mine.id)
        assert (stored.tags, stored.notes, stored.outcome) == (["t19"], "note 19", "won")
        assert stored.meta["progress"] == 19 and stored.ended_at == mine.ended_at
        assert [c.id for c in await a.list_calls(CallQuery(tag="t19"))] == [mine.id]  # the tag index too
