"""Listing and search give the same answers on SQLite and PostgreSQL, through their indexes.

Both stores hold the same random calls; random queries (tag, extension, direction, outcome,
number, date, text) are paged by cursor on both and must return the same ids in the same
order.  With the candidate limit at 3 the common-term fallback (the newest-first walk) is
taken too, so both of each store's paths are compared.  Each store's own index upkeep (a tag,
a note, an extension changed or removed) is tested per backend, and each store's index paths
are compared with its own plain scan.
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from salvesti.core.call import Call, Direction, Disposition
from salvesti.core.components import CallQuery, CallStore
from salvesti.plugins import store_postgresql_list, store_sqlite_list
from salvesti.plugins.store_postgresql import PostgresStore
from salvesti.plugins.store_sqlite import SqliteStore
from salvesti.testing.stores import either_store, pg_dsn  # noqa: F401  (a fixture)

TZ = ZoneInfo("Europe/Tallinn")
T0 = datetime(2026, 1, 1, 9, 0, tzinfo=TZ)
TAGS = ["vip", "price", "callback", "complaint"]
NOTES = ["asked about the invoice", "wants a better PRICE", "call back in the evening", ""]
TERMS = ["price", "invoice", "evening", "c0012", "zzz", "55", "vip", "+37250", "ELI", "office", "kangaroo"]


def random_call(rnd: random.Random, i: int) -> Call:
    started = T0 + timedelta(minutes=i // 2, seconds=rnd.choice([0, 0, 30]))  # equal times: id decides
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
    if i == 250:
        call.notes = "a kangaroo called"
    for _ in range(rnd.randint(0, 2)):
        call.add_extension(rnd.choice(["101", "102", "103"]))
    return call


def random_query(rnd: random.Random) -> CallQuery:
    q = CallQuery(limit=rnd.choice([5, 20, 50]))
    if rnd.random() < 0.3:
        q.tag = rnd.choice([*TAGS, "none"])
    if rnd.random() < 0.3:
        q.extension = rnd.choice(["101", "102", "103", "999"])
    if rnd.random() < 0.3:
        q.direction = rnd.choice(list(Direction)).value
    if rnd.random() < 0.2:
        q.outcome = rnd.choice(["won", "lost", "follow_up"])
    if rnd.random() < 0.35:
        q.q = rnd.choice(TERMS)
    if rnd.random() < 0.2:
        q.number = rnd.choice(["0001234", "5000", "+3725000123", "12", "+3725001999"])
    if rnd.random() < 0.2:
        q.since = T0 + timedelta(minutes=rnd.randint(0, 150))
    if rnd.random() < 0.1:
        q.until = T0 + timedelta(minutes=rnd.randint(0, 150))
    return q


async def pages(store: CallStore, query: CallQuery, most: int = 4) -> list[str]:
    """The ids of up to ``most`` pages of ``query``, each page from the last one's cursor."""
    ids: list[str] = []
    q = dataclasses.replace(query)
    for _ in range(most):
        page = await store.list_calls(q)
        ids += [c.id for c in page]
        if len(page) < query.limit:
            break
        q.cursor = (page[-1].started_at.isoformat(), page[-1].id)
    return ids


@pytest.fixture
async def both(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[tuple[SqliteStore | PostgresStore, SqliteStore | PostgresStore]]:
    dsn: Callable[[], str] = lambda: request.getfixturevalue("pg_dsn")  # noqa: E731
    async with (
        either_store("sqlite", tmp_path / "salvesti.db", dsn, tz=TZ) as lite,
        either_store("postgresql", tmp_path / "unused", dsn, tz=TZ) as pg,
    ):
        rnd = random.Random(3)
        for i in range(300):
            call = random_call(rnd, i)
            await lite.save_call(call)
            await pg.save_call(call)
        yield lite, pg


async def scan_sqlite(store: SqliteStore, query: CallQuery) -> list[Call]:
    return await store_sqlite_list.scan(store.db, query, tz=store.tz, default_country=store.default_country)


async def scan_postgresql(store: PostgresStore, query: CallQuery) -> list[Call]:
    return await store_postgresql_list.scan(
        store.pool, query, tz=store.tz, default_country=store.default_country
    )


@pytest.mark.parametrize("candidate_limit", [2000, 3])
async def test_same_pages_on_both_backends(both, candidate_limit, monkeypatch):
    monkeypatch.setattr(store_sqlite_list, "CANDIDATE_LIMIT", candidate_limit)
    monkeypatch.setattr(store_postgresql_list, "CANDIDATE_LIMIT", candidate_limit)
    lite, pg = both
    rnd = random.Random(11)
    nonempty = 0
    for _ in range(150):
        query = random_query(rnd)
        expected = await pages(lite, query)
        assert await pages(pg, query) == expected, query
        nonempty += bool(expected)
        if candidate_limit == 3:  # and each store's index paths give its plain scan's answer
            assert [c.id for c in await lite.list_calls(query)] == [
                c.id for c in await scan_sqlite(lite, query)
            ]
            assert [c.id for c in await pg.list_calls(query)] == [
                c.id for c in await scan_postgresql(pg, query)
            ]
    assert nonempty > 60  # the queries found calls, not only empty pages


async def test_search_finds_the_rare_word_and_number_parts(both):
    for store in both:
        assert [c.id for c in await store.list_calls(CallQuery(q="kangaroo"))] == ["c00250"]
        assert [c.id for c in await store.list_calls(CallQuery(q="KANGAROO called"))] == ["c00250"]
        number = (await store.get_call("c00007")).remote_number
        found = [c.id for c in await store.list_calls(CallQuery(number=number[-5:], limit=0))]
        assert "c00007" in found
        assert all(
            number[-5:] in c.remote_number for c in await store.list_calls(CallQuery(number=number[-5:]))
        )


@pytest.fixture(params=["sqlite", "postgresql"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[SqliteStore | PostgresStore]:
    dsn = lambda: request.getfixturevalue("pg_dsn")  # noqa: E731
    async with either_store(request.param, tmp_path / "salvesti.db", dsn, tz=TZ) as s:
        rnd = random.Random(5)
        for i in range(40):
            await s.save_call(random_call(rnd, i))
        yield s


async def test_indexes_follow_changes(store):
    async def ids(**kw: object) -> list[str]:
        return [c.id for c in await store.list_calls(CallQuery(**kw))]

    call = await store.get_call("c00007")
    call.tags = ["brand-new"]
    call.notes = "kangaroo"
    call.add_extension("777")
    await store.save_call(call)
    assert await ids(tag="brand-new") == ["c00007"]
    assert await ids(extension="777") == ["c00007"]
    assert await ids(q="kangaroo") == ["c00007"]
    assert await ids(q="brand-new") == ["c00007"]  # tags are searched too
    await store.update_call_fields("c00007", tags=[], notes="")
    for query in ({"tag": "brand-new"}, {"q": "kangaroo"}, {"q": "brand-new"}):
        assert await ids(**query) == []


async def test_cursor_pages_through_a_tag_newest_first(store):
    everything = [c for c in await store.list_calls(CallQuery(limit=0)) if "vip" in c.tags]
    assert len(everything) > 6
    assert [c.id for c in everything] == await pages(store, CallQuery(tag="vip", limit=3), most=100)
