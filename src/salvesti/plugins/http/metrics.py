"""Prometheus metrics of one hub, counted from its bus events and read live at each scrape.

Each hub gets its own :class:`~prometheus_client.CollectorRegistry` (never the process-wide
default): tests and ``salvesti`` tools may run several hubs in one process, and a shared registry
would mix their counts or refuse the second hub's metric names.  Counters move in bus handlers
(memory only, nothing that can delay a call); what is true *now* (active calls, disk free) is
asked at scrape time by :class:`_LiveCollector`; what needs the store (queue lengths, its
latency, recording ages) by :mod:`.metrics_scrape`, awaited in :meth:`HubMetrics.refresh`.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from salvesti.core import bus as events
from salvesti.core.bus import Event, EventBus
from salvesti.core.call import HealthReason
from salvesti.core.health import CHANNELS
from salvesti.plugins.http.metrics_scrape import LATENCY_BUCKETS, MetricsHub, ScrapeCollector, ScrapeProbe

_LOGGER = logging.getLogger(__name__)


class _LiveCollector(Collector):
    """Active calls per source and free disk space where the data and recordings live."""

    def __init__(self, hub: MetricsHub) -> None:
        self.hub = hub

    def collect(self) -> Iterator[GaugeMetricFamily]:
        active = GaugeMetricFamily("salvesti_active_calls", "Calls in progress", labels=["source"])
        for source_id, source in self.hub.sources.items():
            try:
                active.add_metric([source_id], float(source.active_calls()))
            except Exception:  # a source that is not set up has no calls to count
                active.add_metric([source_id], 0.0)
        yield active
        free = GaugeMetricFamily(
            "salvesti_disk_free_bytes", "Free space on the file system of each folder", labels=["folder"]
        )
        for name, folder in self._folders().items():
            try:
                free.add_metric([name], float(shutil.disk_usage(folder).free))
            except OSError:
                continue  # not created yet, or unmounted: no sample rather than a wrong one
        yield free

    def _folders(self) -> dict[str, Path]:
        folders = {"data_dir": Path(self.hub.data_dir)}
        for sink_id, sink in self.hub.sinks.items():
            root = getattr(sink, "root", None)
            if root is not None:
                folders[f"sink:{sink_id}"] = Path(root)
        return folders


class HubMetrics:
    """The registry of one hub and the bus handlers that keep its counters."""

    def __init__(self, hub: MetricsHub) -> None:
        self.hub = hub
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.calls = Counter(
            "salvesti_calls", "Calls that ended", ["source", "direction", "disposition"], registry=r
        )
        self.recordings_failed = Counter(
            "salvesti_recordings_failed", "Recordings whose sink failed", registry=r
        )
        self.unhealthy = Counter(
            "salvesti_recordings_unhealthy",
            "Calls whose recording failed the after-call health check, by reason",
            ["reason"],
            registry=r,
        )
        self.rtp_received = Counter(
            "salvesti_rtp_packets_received", "RTP packets received, by channel", ["channel"], registry=r
        )
        self.rtp_lost = Counter(
            "salvesti_rtp_packets_lost", "RTP packets lost (expected, not received)", ["channel"], registry=r
        )
        self.last_sweep = Gauge(
            "salvesti_retention_last_sweep_timestamp_seconds",
            "When the retention sweep last finished without an error (Unix time; 0: not yet)",
            registry=r,
        )
        for reason in HealthReason:
            self.unhealthy.labels(str(reason))
        for channel in CHANNELS:
            self.rtp_received.labels(channel)
            self.rtp_lost.labels(channel)
        self.store_latency = Histogram(
            "salvesti_store_latency_seconds",
            "Round trip of a one-row store lookup, pinged at each scrape",
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.probe = ScrapeProbe(hub, self.store_latency)
        r.register(_LiveCollector(hub))
        r.register(ScrapeCollector(self.probe))

    def subscribe(self, bus: EventBus) -> list[Callable[[], None]]:
        """Start counting; returns the unsubscribe functions."""
        handlers = {
            events.CALL_ENDED: self._on_ended,
            events.RECORDING_FAILED: self._on_failed,
            events.RECORDING_UNHEALTHY: self._on_unhealthy,
            events.RETENTION_SWEPT: self._on_swept,
        }
        return [bus.subscribe(name, handler) for name, handler in handlers.items()]

    async def refresh(self) -> None:
        """Ask the store and the queues (bounded by a deadline) before :meth:`render`."""
        await self.probe.refresh()

    def render(self) -> bytes:
        """The Prometheus text format of everything in this hub's registry."""
        return generate_latest(self.registry)

    # -- bus handlers ----------------------------------------------------------------------
    def _on_ended(self, event: Event) -> None:
        call = event.data
        self.calls.labels(
            str(call.get("source")), str(call.get("direction")), str(call.get("disposition"))
        ).inc()
        for channel, counts in ((call.get("meta") or {}).get("rtp") or {}).items():
            self.rtp_received.labels(channel).inc(max(0, int(counts.get("received", 0))))
            self.rtp_lost.labels(channel).inc(max(0, int(counts.get("lost", 0))))

    def _on_failed(self, event: Event) -> None:
        self.recordings_failed.inc()

    def _on_unhealthy(self, event: Event) -> None:
        for reason in dict.fromkeys(p["reason"] for p in event.data.get("health") or []):
            self.unhealthy.labels(reason).inc()

    def _on_swept(self, event: Event) -> None:
        try:
            self.last_sweep.set(datetime.fromisoformat(event.data["at"]).timestamp())
        except (KeyError, TypeError, ValueError):
            _LOGGER.warning("metrics: retention_swept without a valid 'at': %r", event.data)
