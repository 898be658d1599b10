"""One SeaweedFS for the whole session (started on first use, SIGKILLed at the end)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from salvesti.testing.seaweedfs import WeedServer, running


@pytest.fixture(scope="session")
def weed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WeedServer]:
    with running(tmp_path_factory.mktemp("weed")) as server:
        yield server
