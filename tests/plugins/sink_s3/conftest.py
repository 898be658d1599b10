"""One SeaweedFS for the whole session (started on first use, SIGKILLed at the end)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from salvesti.testing.seaweedfs import WeedServer


def _ready(server: WeedServer) -> None:
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, server.wait_ready()).result(timeout=120)


@pytest.fixture(scope="session")
def weed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WeedServer]:
    server = WeedServer(tmp_path_factory.mktemp("weed"))
    server.start()
    try:
        _ready(server)
        yield server
    finally:
        server.kill()
