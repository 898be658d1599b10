"""What only the SQLite store has: a WAL file on disk and list queries served by its indexes.

The store protocol itself (round-trip, filters, paging, retention) is tested against every
backend in test_store_shared.py.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from salvesti.core.components import CallQuery
from salvesti.plugins.store_sqlite import SqliteStore

TZ = ZoneInfo("Europe/Tallinn")
T0 = datetime(2026, 3, 1, 9, 0, tzinfo=TZ)


@pytest.fixture
async def store(tmp_path):
    async with SqliteStore(tmp_path / "data" / "salvesti.db", tz=TZ) as s:
        yield s


async def test_file_is_created_in_wal_mode_with_migrations_recorded(store, tmp_path):
    assert (tmp_path / "data" / "salvesti.db").exists()
    assert (await store.db.execute_fetchall("PRAGMA journal_mode"))[0][0] == "wal"
    rows = await store.db.execute_fetchall("SELECT namespace, version FROM schema_migrations")
    assert ("core", 1) in [tuple(r) for r in rows]


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
