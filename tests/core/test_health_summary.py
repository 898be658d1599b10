"""The daily health summary through a real hub and SQLite store, on a fake clock: a day
passes in no time, and the summary counts the last 24 h's unhealthy recordings by reason."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from salvesti.core.bus import HEALTH_SUMMARY, Event
from salvesti.core.call import Call, Direction, HealthProblem, HealthReason
from salvesti.core.health_summary import next_midnight, run_daily
from salvesti.core.hub import Hub
from salvesti.core.plugins import PluginManager

TZ = ZoneInfo("Europe/Tallinn")
T0 = datetime(2026, 12, 7, 22, 30, tzinfo=TZ)


class FakeClock:
    """Time moves only by :meth:`advance`; a sleeper wakes when its time has come."""

    def __init__(self, now: datetime) -> None:
        self.t = now
        self.sleepers: list[tuple[datetime, asyncio.Event]] = []
        #: One item per sleep begun, so a test waits for the task to be asleep, not a guess.
        self.asleep: asyncio.Queue[datetime] = asyncio.Queue()

    def now(self) -> datetime:
        return self.t

    async def sleep(self, seconds: float) -> None:
        woken = asyncio.Event()
        self.sleepers.append((self.t + timedelta(seconds=seconds), woken))
        self.asleep.put_nowait(self.t + timedelta(seconds=seconds))
        await woken.wait()

    def advance(self, delta: timedelta) -> None:
        self.t += delta
        for when, woken in list(self.sleepers):
            if when <= self.t:
                self.sleepers.remove((when, woken))
                woken.set()


def next_of(queue: asyncio.Queue) -> object:
    """The next item, within five seconds."""
    return asyncio.wait_for(queue.get(), 5)


@pytest.fixture
async def hub(tmp_path):
    plugins = PluginManager()
    plugins.load(entry_points_too=False)
    config = {
        "salvesti": {
            "data_dir": str(tmp_path / "data"),
            "timezone": "Europe/Tallinn",
            "purpose": "test",
            "node": "box-a",
        },
        "store": {"platform": "sqlite"},
    }
    hub = Hub(config, config_path=tmp_path / "config.yaml", plugins=plugins)
    await hub.async_start()
    yield hub
    await hub.async_stop(call_timeout=0)


def call(n: int, started: datetime, *reasons: HealthReason, node: str = "box-a") -> Call:
    c = Call(f"c{n}", "office", Direction.INBOUND, "+3726000000", "+3725551234", started, node=node)
    c.answered_at, c.ended_at = started, started + timedelta(minutes=1)
    c.health = [HealthProblem(r, "test", "outside" if r is HealthReason.SILENT else None) for r in reasons]
    return c


async def test_summary_at_midnight_counts_the_last_24_hours_by_reason(hub) -> None:
    for c in [
        call(1, T0 - timedelta(hours=25), HealthReason.NO_RECORDING),  # the day before: not counted
        call(2, T0 - timedelta(hours=20), HealthReason.SILENT, HealthReason.PACKET_LOSS),
        call(3, T0 - timedelta(hours=3), HealthReason.SILENT),
        call(4, T0 - timedelta(hours=1)),  # healthy
        call(5, T0 - timedelta(hours=2), HealthReason.NO_RECORDING, node="box-b"),  # the other node's
    ]:
        await hub.store.save_call(c)
    summaries: asyncio.Queue[Event] = asyncio.Queue()
    hub.bus.subscribe(HEALTH_SUMMARY, summaries.put_nowait)
    clock = FakeClock(T0)
    task = hub.create_task(run_daily(hub.store, hub.bus, hub.node, clock), name="test summary")
    assert await next_of(clock.asleep) == datetime(2026, 12, 8, 0, 0, tzinfo=TZ)
    clock.advance(timedelta(minutes=89))  # 23:59: not yet
    assert clock.sleepers and summaries.empty()
    clock.advance(timedelta(minutes=1))
    first = await next_of(summaries)
    assert first.data == {
        "since": "2026-12-07T00:00:00+02:00",
        "until": "2026-12-08T00:00:00+02:00",
        "node": "box-a",
        "calls": 3,
        "unhealthy": 2,
        "by_reason": {
            "no_recording": 0,
            "recording_short": 0,
            "channel_no_audio": 0,
            "channel_silent": 2,
            "packet_loss": 1,
        },
    }
    # The next day, with nothing wrong, is a summary of zeros (the proof it still watches).
    assert await next_of(clock.asleep) == datetime(2026, 12, 9, 0, 0, tzinfo=TZ)
    clock.advance(timedelta(days=1))
    second = await next_of(summaries)
    assert second.data["unhealthy"] == 0 and second.data["calls"] == 0
    assert set(second.data["by_reason"].values()) == {0}
    task.cancel()


def test_next_midnight_over_a_dst_change() -> None:
    before = datetime(2026, 10, 24, 23, 30, tzinfo=TZ)  # the night EEST ends
    assert next_midnight(before) == datetime(2026, 10, 25, 0, 0, tzinfo=TZ)
    night = datetime(2026, 10, 25, 12, 0, tzinfo=TZ)
    assert next_midnight(night).isoformat() == "2026-10-26T00:00:00+02:00"


async def test_the_hub_runs_the_summary(hub) -> None:
    assert "health summary" in {t.get_name() for t in asyncio.all_tasks()}
