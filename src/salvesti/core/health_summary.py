"""The daily recording-health summary: how many recordings went wrong in the last 24 h, and why.

One ``recording_unhealthy`` event per bad call is easy to miss or to filter away; a summary
once a day that says "3 recordings unhealthy yesterday: 2 channel_silent, 1 no_recording"
(or "0") is what shows a recorder is quietly failing, and a zero every day is the proof it
is not. Published on the bus as ``health_summary`` just after local midnight; MQTT and the
webhooks carry it on. Counted from the store, so a restart during the day loses nothing;
each node counts the calls it took (several nodes share one store).

Time comes through a :class:`Clock` so tests run a day in no time.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from salvesti.core.bus import HEALTH_SUMMARY, EventBus
from salvesti.core.call import HealthReason
from salvesti.core.components import CallQuery, CallStore

if TYPE_CHECKING:
    from salvesti.core.hub import Hub

_LOGGER = logging.getLogger(__name__)
WINDOW = timedelta(hours=24)


@dataclass(frozen=True)
class HealthSummary:
    """Unhealthy recordings among the calls that started in ``[since, until)`` on ``node``.

    ``by_reason`` has every reason, zeros included (a dashboard or a rule needs the key);
    a call with two problems counts once in ``unhealthy`` and once under each reason.
    """

    since: datetime
    until: datetime
    node: str
    calls: int
    unhealthy: int
    by_reason: Mapping[HealthReason, int]

    def to_json(self) -> dict[str, Any]:
        return {
            "since": self.since.isoformat(),
            "until": self.until.isoformat(),
            "node": self.node,
            "calls": self.calls,
            "unhealthy": self.unhealthy,
            "by_reason": {str(reason): self.by_reason.get(reason, 0) for reason in HealthReason},
        }


async def summarise(store: CallStore, until: datetime, node: str) -> HealthSummary:
    """Count the last :data:`WINDOW` before ``until`` from the store."""
    since = until - WINDOW
    calls = [
        c
        for c in await store.list_calls(CallQuery(since=since, until=until, limit=0))
        if c.node in (None, node) and c.started_at < until
    ]
    counts = dict.fromkeys(HealthReason, 0)
    unhealthy = 0
    for call in calls:
        reasons = {problem.reason for problem in call.health}
        unhealthy += bool(reasons)
        for reason in reasons:
            counts[reason] += 1
    return HealthSummary(since, until, node, len(calls), unhealthy, counts)


class Clock(Protocol):
    """Wall-clock time and waiting: the hub's in service, a fake one in tests."""

    def now(self) -> datetime: ...

    async def sleep(self, seconds: float) -> None: ...


class HubClock:
    """The real clock: the hub's aware local time and asyncio's sleep."""

    def __init__(self, now: Callable[[], datetime]) -> None:
        self._now = now

    def now(self) -> datetime:
        return self._now()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


def next_midnight(now: datetime) -> datetime:
    """The next local midnight after ``now`` (aware; DST days are 23 or 25 hours long)."""
    return (now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)


async def run_daily(store: CallStore, bus: EventBus, node: str, clock: Clock) -> None:
    """Publish a summary at every local midnight until cancelled (a hub task)."""
    while True:
        now = clock.now()
        midnight = next_midnight(now)
        # timestamps, not aware-datetime subtraction, which ignores a DST change in between
        await clock.sleep(max(0.0, midnight.timestamp() - now.timestamp()))
        try:
            summary = await summarise(store, midnight, node)
        except asyncio.CancelledError:
            raise
        except Exception:
            _LOGGER.exception("health summary: could not count the day's calls; next one tomorrow")
            continue
        _LOGGER.info(
            "health summary: %d of %d recording(s) unhealthy in the 24 h to %s",
            summary.unhealthy,
            summary.calls,
            midnight.isoformat(),
        )
        bus.publish(HEALTH_SUMMARY, summary.to_json())


def start(hub: Hub) -> asyncio.Task[None] | None:
    """Register the daily summary as a hub task (nothing to count without a store)."""
    if hub.store is None:
        return None
    return hub.create_task(run_daily(hub.store, hub.bus, hub.node, HubClock(hub.now)), name="health summary")
