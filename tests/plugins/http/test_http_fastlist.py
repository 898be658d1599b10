"""The web UI's list indexes give exactly the store's answers (random calls, random queries),
stay in step when calls change, and are used (query plans) where the store would sort or scan."""

from __future__ import annotations

import dataclasses
import random
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from salvesti.core.call import Call, Direction, Disposition
from salvesti.core.components import CallQuery
from salvesti.plugins.http import db, fastlist
from salvesti.plugins.store_sqlite import SqliteStore

TZ = ZoneInfo("Europe/Tallinn")
T0 = datetime(2026, 1, 1, 9, 0, tzinfo=TZ)
TAGS = ["vip", "price", "callback", "õnnelik"]
NOTES = ["asked about the invoice", "wants a better PRICE", "Õhtul helistada", ""]


def random_call(rnd: random.Random, i: int) -> Call:
    started = T0 + timedelta(minutes=i, seconds=rnd.randint(0, 59))
    call = Call(
        id=f"c{i:05d}",
        source=rnd.choice(["office", "gsm"]),
        direction=rnd.choice(list(Direction)),
        line=rnd.choice(["+3726000000", "+3726000001"]),
        remote_number=f"+3725{rnd.randrange(2000):07d}",
        started_at=started,
        answered_at=started + timedelta(seconds=3),
        ended_at=started + timedelta(seconds=60),
        disposition=Disposition.ANSWERED,
        outcome=rnd.choice([None, "won", "lost", "follow_up"]),
        tags=rnd.sample(TAGS, rnd.randint(0, 2)),
        notes=rnd.choice(NOTES),
    )
    for _ in range(rnd.randint(0, 2)):
        call.add_extension(rnd.choice(["101", "102", "103"]))
    return call


@pytest.fixture
async def filled(tmp_path):
    rnd = random.Random(3)
    async with SqliteStore(tmp_path / "salvesti.db", tz=TZ) as store:
        for i in range(300):
            await store.save_call(random_call(rnd, i))
        conn = await db.connect(str(store.path))
        try:
            yield store, conn
        finally:
            await conn.close()


def random_query(rnd: random.Random) -> CallQuery:
    q = CallQuery(limit=rnd.choice([5, 20, 50]))
    if rnd.random() < 0.4:
        q.tag = rnd.choice([*TAGS, "none"])
    if rnd.random() < 0.4:
        q.extension = rnd.choice(["101", "102", "103", "999"])
    if rnd.random() < 0.3:
        q.direction = rnd.choice(list(Direction)).value
    if rnd.random() < 0.3:
        q.outcome = rnd.choice(["won", "lost", "follow_up"])
    if rnd.random() < 0.3:
        q.q = rnd.choice(["price", "invoice", "õhtul", "c0012", "zzz", "55", "vip", "+37250", "ELI"])
    if rnd.random() < 0.2:
        q.number = rnd.choice(["0001234", "5000", "+3725000123", "12"])
    if rnd.random() < 0.2:
        q.since = T0 + timedelta(minutes=rnd.randint(0, 300))
    return q


async def test_same_answers_as_the_store_with_paging(filled):
    store, conn = filled
    rnd = random.Random(11)
    for _ in range(150):
        query = random_query(rnd)
        expected, got = [], []
        qa, qb = dataclasses.replace(query), dataclasses.replace(query)
        for _page in range(4):  # bounded: at most 4 pages of each
            a = await store.list_calls(qa)
            b = await fastlist.list_calls(conn, store, qb)
            expected += [c.id for c in a]
            got += [c.id for c in b]
            if len(a) < query.limit:
                break
            qa.cursor = (a[-1].started_at.isoformat(), a[-1].id)
            qb.cursor = (b[-1].started_at.isoformat(), b[-1].id)
        assert got == expected, query


async def test_indexes_follow_changes(filled):
    store, conn = filled
    call = await store.get_call("c00007")
    call.tags = ["brand-new"]
    call.notes = "kangaroo"
    call.add_extension("777")
    await store.save_call(call)
    assert [c.id for c in await fastlist.list_calls(conn, store, CallQuery(tag="brand-new"))] == ["c00007"]
    assert [c.id for c in await fastlist.list_calls(conn, store, CallQuery(extension="777"))] == ["c00007"]
    assert [c.id for c in await fastlist.list_calls(conn, store, CallQuery(q="kangaroo"))] == ["c00007"]
    await store.update_call_fields("c00007", tags=[], notes="")
    for query in (CallQuery(tag="brand-new"), CallQuery(q="kangaroo")):
        assert await fastlist.list_calls(conn, store, query) == []


async def test_plans_walk_the_keys_in_order(filled):
    _store, conn = filled
    plan = await conn.execute_fetchall(
        "EXPLAIN QUERY PLAN SELECT calls.data FROM http_tag_keys CROSS JOIN calls"
        " ON calls.id = http_tag_keys.k_call WHERE http_tag_keys.k_tag = ?"
        " ORDER BY http_tag_keys.k_started DESC, http_tag_keys.k_call DESC LIMIT 50",
        ("vip",),
    )
    text = " ".join(str(r[3]) for r in plan)
    assert "SEARCH http_tag_keys" in text and "TEMP B-TREE" not in text
