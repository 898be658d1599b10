"""The SQLite store's own list indexes: its query plans walk the keys in order, and a file from
before the store owned them (the http plugin's ``http_*`` copies) is migrated.  Their answers
are compared with the plain scan and with PostgreSQL in test_store_shared_list.py."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from salvesti.core.call import Call, Direction
from salvesti.core.components import CallQuery
from salvesti.plugins.store_sqlite import SqliteStore

TZ = ZoneInfo("Europe/Tallinn")


def a_call(i: int) -> Call:
    return Call(
        id=f"c{i:05d}",
        source="office",
        direction=Direction.INBOUND,
        line=None,
        remote_number="+3725551234",
        started_at=datetime(2026, 1, 1, 9, i, tzinfo=TZ),
        tags=["vip"],
    )


@pytest.fixture
async def filled(tmp_path):
    async with SqliteStore(tmp_path / "salvesti.db", tz=TZ) as store:
        for i in range(5):
            await store.save_call(a_call(i))
        yield store


async def test_plans_walk_the_keys_in_order(filled):
    plan = await filled.db.execute_fetchall(
        "EXPLAIN QUERY PLAN SELECT calls.data FROM list_tag_keys CROSS JOIN calls"
        " ON calls.id = list_tag_keys.k_call WHERE list_tag_keys.k_tag = ?"
        " ORDER BY list_tag_keys.k_started DESC, list_tag_keys.k_call DESC LIMIT 50",
        ("vip",),
    )
    text = " ".join(str(r[3]) for r in plan)
    assert "SEARCH list_tag_keys" in text and "TEMP B-TREE" not in text


async def test_the_http_plugins_old_indexes_are_dropped(tmp_path):
    """A file from before the store owned them: the http plugin's copies go, the store's come."""
    path = tmp_path / "salvesti.db"
    async with SqliteStore(path, tz=TZ) as store:
        await store.save_call(a_call(1))
        await store.db.execute("DELETE FROM schema_migrations WHERE namespace = 'call_list'")
        triggers = await store.db.execute_fetchall("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        for (name,) in triggers:
            await store.db.execute(f"DROP TRIGGER {name}")
        for table in ("list_tag_keys", "list_ext_keys", "list_search"):
            await store.db.execute(f"ALTER TABLE {table} RENAME TO {table.replace('list_', 'http_')}")
    async with SqliteStore(path, tz=TZ) as store:
        rows = await store.db.execute_fetchall(
            "SELECT name FROM sqlite_master"
            " WHERE name IN ('http_tag_keys', 'http_ext_keys', 'http_search', 'list_search')"
        )
        assert [r[0] for r in rows] == ["list_search"]
        assert [c.id for c in await store.list_calls(CallQuery(q="c00001"))] == ["c00001"]
