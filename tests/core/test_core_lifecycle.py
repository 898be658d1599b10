"""Setup/unload with a visible state: retry on NotReady, stop on AuthFailed."""

import asyncio

from salvesti.core.errors import AuthFailed, NotReady
from salvesti.core.lifecycle import Entry, State


class Flaky:
    def __init__(self, failures: int, exc: type[Exception] = NotReady) -> None:
        self.failures = failures
        self.exc = exc
        self.setups = 0
        self.unloads = 0

    async def async_setup(self) -> None:
        self.setups += 1
        if self.setups <= self.failures:
            raise self.exc("trunk unreachable")

    async def async_unload(self) -> None:
        self.unloads += 1


async def test_not_ready_retries_until_loaded(monkeypatch) -> None:
    monkeypatch.setattr(Entry, "RETRY_FIRST", 0.01)
    states: list[State] = []
    comp = Flaky(2)
    entry = Entry("source", "telia", "sip_trunk", comp, on_state=lambda e: states.append(e.state))
    assert await entry.setup() is False
    for _ in range(200):
        if entry.state == State.LOADED:
            break
        await asyncio.sleep(0.01)
    assert entry.state == State.LOADED
    assert comp.setups == 3
    assert State.SETUP_RETRY in states
    await entry.unload()
    assert entry.state == State.NOT_LOADED and comp.unloads == 1


async def test_auth_failed_is_final() -> None:
    comp = Flaky(1, AuthFailed)
    entry = Entry("source", "telia", "sip_trunk", comp)
    assert await entry.setup() is False
    assert entry.state == State.AUTH_FAILED and entry.reason == "trunk unreachable"
    await entry.unload()
    assert comp.unloads == 0


async def test_unload_cancels_pending_retry(monkeypatch) -> None:
    monkeypatch.setattr(Entry, "RETRY_FIRST", 60)
    comp = Flaky(5)
    entry = Entry("source", "x", "p", comp)
    await entry.setup()
    assert entry.state == State.SETUP_RETRY
    await entry.unload()
    assert entry.state == State.NOT_LOADED and comp.setups == 1
