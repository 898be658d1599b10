"""Namespaced migrations other plugins register, and two connections sharing one file."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from salvesti.core.call import Call, Direction
from salvesti.core.components import CallQuery
from salvesti.plugins import store_sqlite_migrations as migrations
from salvesti.plugins.store_sqlite import MigrationError, SqliteStore, register_migration


@pytest.fixture
def registry(monkeypatch):
    """A private copy of the registry so test migrations do not leak into other tests."""
    monkeypatch.setattr(migrations, "_MIGRATIONS", migrations.registered())
    return migrations


async def test_plugin_migrations_apply_in_order_once(registry, tmp_path):
    register_migration("plugin_x", 2, "ALTER TABLE users ADD COLUMN role TEXT NOT NULL DEFAULT 'agent';")
    register_migration(
        "plugin_x",
        1,
        """
        CREATE TABLE users (name TEXT PRIMARY KEY);
        CREATE TABLE audit (id INTEGER PRIMARY KEY, what TEXT);
        CREATE TRIGGER users_audit AFTER INSERT ON users BEGIN
            INSERT INTO audit (what) VALUES ('user added; ' || new.name);
        END;
        """,
    )
    register_migration("plugin_x", 1, registry.registered()["plugin_x"][1])  # same text again: fine
    with pytest.raises(ValueError, match="already registered"):
        register_migration("plugin_x", 1, "SELECT 1;")
    path = tmp_path / "salvesti.db"
    async with SqliteStore(path) as store:
        async with store.write() as db:
            await db.execute("INSERT INTO users (name) VALUES ('mari')")
        rows = await store.db.execute_fetchall("SELECT name, role FROM users")
        assert [tuple(r) for r in rows] == [("mari", "agent")]
        rows = await store.db.execute_fetchall("SELECT what FROM audit")
        assert [r[0] for r in rows] == ["user added; mari"]
    async with SqliteStore(path) as store:  # reopening applies nothing twice
        rows = await store.db.execute_fetchall(
            "SELECT namespace, version FROM schema_migrations WHERE namespace IN ('core', 'plugin_x')"
            " ORDER BY namespace, version"
        )
        assert [tuple(r) for r in rows] == [("core", 1), ("core", 2), ("plugin_x", 1), ("plugin_x", 2)]


async def test_failed_migration_rolls_back_and_says_which(registry, tmp_path):
    register_migration("broken", 1, "CREATE TABLE ok_table (a); CREATE TABLE (;")
    with pytest.raises(MigrationError, match="migration broken v1 failed"):
        async with SqliteStore(tmp_path / "salvesti.db"):
            pass
    registry._MIGRATIONS.pop("broken")
    async with SqliteStore(tmp_path / "salvesti.db") as store:
        rows = await store.db.execute_fetchall("SELECT name FROM sqlite_master WHERE name = 'ok_table'")
        assert list(rows) == []


async def test_database_from_a_newer_version_is_refused(tmp_path):
    path = tmp_path / "salvesti.db"
    async with SqliteStore(path) as store:
        async with store.write() as db:
            await db.execute("INSERT INTO schema_migrations VALUES ('core', 99, 'later')")
    with pytest.raises(MigrationError, match="core schema v99, newer than this Salvesti knows"):
        async with SqliteStore(path):
            pass


def test_split_statements_keeps_triggers_whole():
    sql = "CREATE TABLE a (x); CREATE TRIGGER t AFTER INSERT ON a BEGIN SELECT 1; SELECT 2; END; ;"
    assert migrations.split_statements(sql) == [
        "CREATE TABLE a (x);",
        "CREATE TRIGGER t AFTER INSERT ON a BEGIN SELECT 1; SELECT 2; END;",
    ]


async def test_a_second_connection_reads_while_the_first_writes(tmp_path):
    path = tmp_path / "salvesti.db"
    call = Call(
        id="c1",
        source="s",
        direction=Direction.INBOUND,
        line=None,
        remote_number="+3725551234",
        started_at=datetime(2026, 1, 1, tzinfo=UTC),
    )
    async with SqliteStore(path) as writer, SqliteStore(path, busy_timeout=5) as reader:
        await writer.save_call(call)
        async with writer.write() as db:  # a long write transaction in progress
            await db.execute("UPDATE calls SET notes = 'pending' WHERE id = 'c1'")
            listed = await asyncio.wait_for(reader.list_calls(CallQuery()), 5)
            assert [c.id for c in listed] == ["c1"]
        await asyncio.wait_for(reader.save_call(call), 5)  # the lock is free again


async def test_opening_an_up_to_date_file_does_not_wait_for_a_writer(tmp_path):
    """``calls list`` opens the store while ``run`` may be inside a write transaction."""
    path = tmp_path / "salvesti.db"
    async with SqliteStore(path) as writer:
        async with writer.write() as db:
            await db.execute("UPDATE calls SET notes = '' WHERE 0")
            start = asyncio.get_running_loop().time()
            async with SqliteStore(path, busy_timeout=5) as reader:
                assert await reader.list_calls(CallQuery()) == []
            assert asyncio.get_running_loop().time() - start < 1.0


async def test_a_file_that_is_not_a_database_gives_a_clear_error(tmp_path):
    from salvesti.plugins.store_sqlite import StoreError

    path = tmp_path / "salvesti.db"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError, match=r"cannot use the database .*salvesti.db: file is not a database"):
        async with SqliteStore(path):
            pass
