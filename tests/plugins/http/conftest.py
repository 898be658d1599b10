"""Fixtures for the HTTP plugin tests (helpers live in http_env.py, imported by name so they
never clash with other folders' conftest modules)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import aiohttp
import pytest
from http_env import Env, LiveServer, start_env


@pytest.fixture
async def env(tmp_path: Path) -> AsyncIterator[Env]:
    e = await start_env(tmp_path)
    try:
        yield e
    finally:
        await e.hub.async_stop(call_timeout=0.1)


@pytest.fixture
async def http(env: Env) -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(env.url) as session:
        yield session


@pytest.fixture
def live(tmp_path: Path) -> Iterator[tuple[LiveServer, Env]]:
    server = LiveServer(tmp_path)
    with server as e:
        yield server, e


@pytest.fixture(scope="module")
def pg_dsn() -> Iterator[str]:
    """A fresh PostgreSQL database for the module (tests empty it with ``postgres.truncate``)."""
    from salvesti.testing import postgres

    dsn = postgres.create_database("salvesti_http")
    try:
        yield dsn
    finally:
        postgres.drop_database(dsn)
