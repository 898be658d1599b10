"""Real parts for the migration tests: one SeaweedFS with auth for the module's session, and a
fresh PostgreSQL database per test (created and dropped here)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from salvesti.testing import postgres
from salvesti.testing.seaweedfs import WeedServer, running


@pytest.fixture(scope="session")
def weed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WeedServer]:
    with running(tmp_path_factory.mktemp("weed")) as server:
        yield server


@pytest.fixture
def pg_dsn() -> Iterator[str]:
    dsn = postgres.create_database("salvesti_migrate")
    try:
        yield dsn
    finally:
        postgres.drop_database(dsn)
