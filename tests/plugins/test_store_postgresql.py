"""What only the PostgreSQL store has: migrations serialised across nodes, clear connect errors.

The store protocol itself is tested against every backend in test_store_shared.py.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator

import asyncpg
import pytest

from salvesti.plugins import store_postgresql_migrations as migrations
from salvesti.plugins.store_postgresql import SCHEMA, MigrationError, PostgresStore, StoreError
from salvesti.testing import postgres


@pytest.fixture(scope="module")
def server_dsn() -> Iterator[str]:
    """One database for the module; each test below makes what it needs inside it."""
    dsn = postgres.create_database()
    try:
        yield dsn
    finally:
        postgres.drop_database(dsn)


@pytest.fixture
async def empty_dsn(server_dsn: str) -> str:
    """``server_dsn`` with every table dropped: a database no node has opened yet."""
    conn = await asyncpg.connect(server_dsn)
    try:
        await conn.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    finally:
        await conn.close()
    return server_dsn


@pytest.fixture
def registry(monkeypatch):
    """A private copy of the registry so test migrations do not leak into other tests."""
    monkeypatch.setattr(migrations, "_MIGRATIONS", migrations.registered())
    return migrations


async def test_nodes_starting_together_create_the_schema_once(empty_dsn):
    stores = [PostgresStore(empty_dsn, pool_size=1) for _ in range(4)]
    try:
        await asyncio.gather(*(s.async_setup() for s in stores))
        # (plugins imported by other tests, such as the HTTP plugin, add namespaces of their own)
        rows = await stores[0].pool.fetch("SELECT namespace, version FROM schema_migrations")
        assert sorted(tuple(r) for r in rows if r["namespace"] == "core") == [("core", 1)]
    finally:
        await asyncio.gather(*(s.async_unload() for s in stores))


async def test_plugin_migrations_apply_in_order_once(registry, empty_dsn):
    registry.register_migration("plugin_x", 2, "ALTER TABLE px_users ADD COLUMN role TEXT DEFAULT 'agent';")
    registry.register_migration("plugin_x", 1, "CREATE TABLE px_users (name TEXT PRIMARY KEY);")
    with pytest.raises(ValueError, match="already registered"):
        registry.register_migration("plugin_x", 1, "SELECT 1;")
    async with PostgresStore(empty_dsn) as store:
        async with store.write() as conn:
            await conn.execute("INSERT INTO px_users (name) VALUES ('mari')")
        assert [tuple(r) for r in await store.pool.fetch("SELECT name, role FROM px_users")] == [
            ("mari", "agent")
        ]
    async with PostgresStore(empty_dsn) as store:  # reopening applies nothing twice
        rows = await store.pool.fetch(
            "SELECT namespace, version FROM schema_migrations"
            " WHERE namespace IN ('core', 'plugin_x') ORDER BY 1, 2"
        )
        assert [tuple(r) for r in rows] == [("core", 1), ("plugin_x", 1), ("plugin_x", 2)]


async def test_failed_migration_rolls_back_and_says_which(registry, empty_dsn):
    registry.register_migration("broken", 1, "CREATE TABLE ok_table (a int); CREATE TABLE (;")
    with pytest.raises(MigrationError, match="migration broken v1 failed"):
        async with PostgresStore(empty_dsn):
            pass
    registry._MIGRATIONS.pop("broken")
    async with PostgresStore(empty_dsn) as store:
        assert await store.pool.fetchval("SELECT to_regclass('ok_table')") is None


async def test_database_from_a_newer_version_is_refused(empty_dsn):
    async with PostgresStore(empty_dsn) as store:
        await store.pool.execute("INSERT INTO schema_migrations VALUES ('core', 99, now())")
    with pytest.raises(MigrationError, match="core schema v99, newer than this Salvesti knows"):
        async with PostgresStore(empty_dsn):
            pass


async def test_an_unreachable_server_is_a_store_error_without_the_password():
    with socket.socket() as sock:  # a loopback port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    store = PostgresStore(f"postgresql://salvesti:s3cret@127.0.0.1:{port}/salvesti", connect_timeout=5)
    with pytest.raises(StoreError, match=rf"postgresql\(127.0.0.1:{port}/salvesti\): cannot connect") as err:
        await store.async_setup()
    assert "s3cret" not in str(err.value)


def test_config_needs_a_postgresql_dsn():
    assert SCHEMA({"platform": "postgresql", "dsn": "postgresql://db/x"})["pool_size"] == 10
    with pytest.raises(Exception, match="dsn must be postgresql"):
        SCHEMA({"platform": "postgresql", "dsn": "mysql://db/x"})
