"""What ``/metrics`` has to ask the store and the queues for, fetched before each scrape.

A prometheus-client collector is synchronous and the store is async, so the route awaits
:meth:`ScrapeProbe.refresh` first and :class:`ScrapeCollector` then only reads its snapshot.
Every question runs concurrently under one short deadline (``DEADLINE_S``): a store that hangs
or is gone costs the scrape at most that long and leaves its samples out (Prometheus shows
a gap, an alert on ``absent()`` fires) instead of failing the whole page with a 500.  Each
failing part is logged once when it starts failing and once when it recovers, not per scrape.

Store latency is a ping at scrape time (one primary-key lookup of a call id that does not
exist), not a timing of the hub's own store calls: wrapping those would put code on the call
path for a number only the scraper reads, while the ping goes through the same connection,
thread and lock, so it grows when real operations queue up.  The oldest recording per
retention rule is one grouped query, cached for ``AGES_TTL_S`` so a 5-second scrape interval
does not turn into a table read every 5 seconds.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Protocol, TypeVar

from prometheus_client import Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from salvesti.core.components import CallSource, CallStore, RecordingSink, RetentionRule
from salvesti.core.queues import QueueReporter
from salvesti.core.retention import RecordingAges

_LOGGER = logging.getLogger(__name__)
T = TypeVar("T")

#: Longest a scrape waits for the store (Prometheus' own default timeout is 10 s).
DEADLINE_S = 2.0
#: How long the oldest-recording ages are reused before the store is asked again.
AGES_TTL_S = 60.0
#: A call id no call has: the ping's lookup finds nothing, through the primary key.
PING_ID = "salvesti-metrics-ping"
#: Store round trips are milliseconds when healthy; the top buckets catch a stalled disk.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0)


class MetricsHub(Protocol):
    """The parts of :class:`~salvesti.core.hub.Hub` the metrics read."""

    data_dir: Path
    store: CallStore | None
    sources: Mapping[str, CallSource]
    sinks: Mapping[str, RecordingSink]
    retention_rules: list[RetentionRule]
    integrations: Mapping[str, object]

    def now(self) -> datetime: ...

    def monotonic(self) -> float: ...


@dataclass
class Snapshot:
    """The answers of the last refresh; a missing key is a part that did not answer."""

    queues: dict[str, int] = field(default_factory=dict)
    ages: dict[str, float] = field(default_factory=dict)


class ScrapeProbe:
    """Asks the store and every :class:`QueueReporter`, each under the deadline."""

    def __init__(self, hub: MetricsHub, latency: Histogram, *, deadline_s: float = DEADLINE_S) -> None:
        self.hub = hub
        self.latency = latency
        self.deadline_s = deadline_s
        self.snapshot = Snapshot()
        self._failing: set[str] = set()
        self._oldest: dict[str, datetime] | None = None
        self._oldest_at = 0.0

    async def refresh(self) -> None:
        """Fill :attr:`snapshot` for the scrape that follows."""
        components = (*self.hub.integrations.values(), *self.hub.sinks.values())
        reporters = [c for c in components if isinstance(c, QueueReporter)]
        analysis, _, oldest, *lengths = await asyncio.gather(
            self._guarded("analysis queue", self._analysis_queue),
            self._guarded("store ping", self._ping),
            self._guarded("oldest recordings", self._oldest_recordings),
            *(self._guarded(r.queue_name, r.queue_length) for r in reporters),
        )
        snapshot = Snapshot(queues=dict(analysis or {}))
        for reporter, length in zip(reporters, lengths, strict=True):
            if isinstance(length, int):
                snapshot.queues[reporter.queue_name] = length
        now = self.hub.now()
        ages = (oldest or {}).items()
        snapshot.ages = {rule: max(0.0, (now - when).total_seconds()) for rule, when in ages}
        self.snapshot = snapshot

    async def _guarded(self, part: str, ask: Callable[[], Awaitable[T]]) -> T | None:
        """``ask()`` under the deadline; None (and one log line per outage) when it fails."""
        try:
            result = await asyncio.wait_for(ask(), self.deadline_s)
        except asyncio.CancelledError:
            raise
        except Exception as err:  # a dead store must not turn the scrape into a 500
            if part not in self._failing:
                self._failing.add(part)
                _LOGGER.warning("metrics: %s unavailable, its samples are left out: %r", part, err)
            return None
        if part in self._failing:
            self._failing.discard(part)
            _LOGGER.info("metrics: %s answers again", part)
        return result

    async def _analysis_queue(self) -> dict[str, int]:
        if self.hub.store is None:
            return {}
        counts = (await self.hub.store.analysis.queue_summary())["counts"]
        return {
            "analysis_pending": int(counts.get("queued", 0)),
            "analysis_running": int(counts.get("running", 0)),
        }

    async def _ping(self) -> None:
        if self.hub.store is None:
            return
        started = self.hub.monotonic()
        await self.hub.store.get_call(PING_ID)
        self.latency.observe(max(0.0, self.hub.monotonic() - started))

    async def _oldest_recordings(self) -> dict[str, datetime]:
        store = self.hub.store
        if not isinstance(store, RecordingAges):
            return {}
        fresh = self._oldest is not None and self.hub.monotonic() - self._oldest_at < AGES_TTL_S
        if not fresh:
            self._oldest = await store.oldest_recordings()
            self._oldest_at = self.hub.monotonic()
        assert self._oldest is not None
        return self._oldest


class ScrapeCollector(Collector):
    """Queue lengths and recording ages from the probe's snapshot, and each rule's limit."""

    def __init__(self, probe: ScrapeProbe) -> None:
        self.probe = probe

    def collect(self) -> Iterator[GaugeMetricFamily]:
        snapshot = self.probe.snapshot
        queues = GaugeMetricFamily(
            "salvesti_queue_length",
            "Items waiting: analysis jobs pending/running, webhook deliveries, spooled recordings",
            labels=["queue"],
        )
        for name, length in sorted(snapshot.queues.items()):
            queues.add_metric([name], float(length))
        yield queues
        ages = GaugeMetricFamily(
            "salvesti_oldest_recording_age_seconds",
            "Age (since its call ended) of the oldest recording still kept under each retention rule",
            labels=["rule"],
        )
        for rule, age in sorted(snapshot.ages.items()):
            ages.add_metric([rule], age)
        yield ages
        limits = GaugeMetricFamily(
            "salvesti_retention_max_age_seconds",
            "How long each retention rule keeps a recording after its call ended",
            labels=["rule"],
        )
        for rule in self.probe.hub.retention_rules:
            limits.add_metric([rule.id], float(rule.days) * 86400.0)
        yield limits
