"""The bus delivers every event to sync and async handlers and survives failing ones."""

import asyncio

from salvesti.core.bus import CALL_ENDED, EventBus


async def test_sync_and_async_handlers_receive_events() -> None:
    bus = EventBus()
    got: list[tuple[str, dict]] = []

    def sync_handler(event):
        got.append(("sync", event.data))

    async def async_handler(event):
        await asyncio.sleep(0)
        got.append(("async", event.data))

    bus.subscribe(CALL_ENDED, sync_handler)
    bus.subscribe("*", async_handler)
    bus.publish(CALL_ENDED, {"id": "c1"})
    await bus.drain()
    assert sorted(got, key=lambda x: x[0]) == [("async", {"id": "c1"}), ("sync", {"id": "c1"})]


async def test_failing_handler_does_not_break_publisher(caplog) -> None:
    bus = EventBus()
    got = []

    def broken(event):
        raise RuntimeError("boom")

    async def broken_async(event):
        raise RuntimeError("async boom")

    bus.subscribe(CALL_ENDED, broken)
    bus.subscribe(CALL_ENDED, broken_async)
    bus.subscribe(CALL_ENDED, lambda e: got.append(e.name))
    bus.publish(CALL_ENDED, {})
    await bus.drain()
    assert got == [CALL_ENDED]
    assert "boom" in caplog.text and "async boom" in caplog.text


async def test_unsubscribe() -> None:
    bus = EventBus()
    got = []
    unsubscribe = bus.subscribe(CALL_ENDED, lambda e: got.append(1))
    unsubscribe()
    bus.publish(CALL_ENDED, {})
    assert got == []
