"""One store of either backend for tests that run the same cases on SQLite and PostgreSQL.

A parametrised fixture asks for ``"sqlite"`` or ``"postgresql"``; the PostgreSQL database is
the caller's (one per module, :func:`salvesti.testing.postgres.create_database`) and is emptied
when the store opens, so each test starts from nothing on either backend.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from datetime import UTC, tzinfo
from pathlib import Path

import pytest

from salvesti.plugins.store_postgresql import PostgresStore
from salvesti.plugins.store_sqlite import SqliteStore
from salvesti.testing import postgres


@pytest.fixture(scope="module")
def pg_dsn() -> Iterator[str]:
    """A fresh PostgreSQL database for the test module (import this fixture by name)."""
    dsn = postgres.create_database()
    try:
        yield dsn
    finally:
        postgres.drop_database(dsn)


@asynccontextmanager
async def either_store(
    backend: str, sqlite_path: Path, dsn: Callable[[], str], *, tz: tzinfo = UTC
) -> AsyncIterator[SqliteStore | PostgresStore]:
    """An open, empty store of ``backend``; ``dsn`` is called only for PostgreSQL."""
    if backend == "sqlite":
        async with SqliteStore(sqlite_path, tz=tz) as s:
            yield s
        return
    url = dsn()
    async with PostgresStore(url, tz=tz, pool_size=2) as s:
        await postgres.truncate(url)
        yield s
