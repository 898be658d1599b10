"""A throwaway PostgreSQL database for tests: made on the server at ``SALVESTI_TEST_PG``, dropped after.

The server is the machine's own (``test.sh`` installs and starts it); the default is
``postgresql://postgres@127.0.0.1:5432/postgres`` (trust auth).  ``create_database`` and
``drop_database`` run their own event loop in a worker thread, so a module-scoped (sync)
fixture can use them whatever loop scope the tests have, even from inside a running loop.
``truncate`` empties every table between tests, far cheaper than a database per test.
"""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from urllib.parse import urlsplit, urlunsplit

import asyncpg

ADMIN_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"


def admin_dsn() -> str:
    """The DSN of a database on the test server that may create and drop others."""
    return os.environ.get("SALVESTI_TEST_PG", ADMIN_DSN)


def with_database(dsn: str, name: str) -> str:
    """``dsn`` pointing at database ``name`` instead."""
    parts = urlsplit(dsn)
    return urlunsplit(parts._replace(path="/" + name))


async def _admin(sql: str) -> None:
    try:
        conn = await asyncpg.connect(admin_dsn(), timeout=10)
    except (OSError, asyncpg.PostgresError) as err:
        raise RuntimeError(
            f"PostgreSQL for the tests is not answering at {admin_dsn()} ({err}); "
            "./test.sh installs and starts it, or set SALVESTI_TEST_PG"
        ) from err
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def _run_apart(sql: str) -> None:
    with ThreadPoolExecutor(1, thread_name_prefix="pg-admin") as pool:
        pool.submit(asyncio.run, _admin(sql)).result(timeout=60)


def create_database(prefix: str = "salvesti_test") -> str:
    """Create an empty database with a fresh name; return its DSN."""
    name = f"{prefix}_{secrets.token_hex(4)}"
    _run_apart(f'CREATE DATABASE "{name}"')
    return with_database(admin_dsn(), name)


def drop_database(dsn: str) -> None:
    """Drop the database ``dsn`` names, closing whatever is still connected to it."""
    name = urlsplit(dsn).path.lstrip("/")
    _run_apart(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def truncate(dsn: str) -> None:
    """Empty every table of the public schema except the migration record."""
    conn = await asyncpg.connect(dsn, timeout=10)
    try:
        tables = await conn.fetch(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'schema_migrations'"
        )
        if tables:
            names = ", ".join(f'"{t["tablename"]}"' for t in tables)
            await conn.execute(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
    finally:
        await conn.close()


@contextmanager
def temporary_database(prefix: str = "salvesti_test") -> Iterator[str]:
    """A fresh database's DSN for the ``with`` block; dropped after it, whatever happened."""
    dsn = create_database(prefix)
    try:
        yield dsn
    finally:
        drop_database(dsn)
