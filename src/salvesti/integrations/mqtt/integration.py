"""The ``mqtt`` integration: bus events in, Home Assistant entities out.

Setup never waits for the broker: it subscribes to the hub's bus at once (so state is right
from the first call) and starts the connection task, which keeps retrying in the background.
Bus handlers are synchronous and only touch memory, so a slow or absent broker cannot delay
a call, a recording or another bus subscriber.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from salvesti.core import bus as events
from salvesti.core.bus import Event
from salvesti.core.components import CallQuery
from salvesti.integrations.mqtt import discovery
from salvesti.integrations.mqtt.client import MqttConnection, Outgoing, finish
from salvesti.integrations.mqtt.schema import SCHEMA, parse_broker
from salvesti.integrations.mqtt.tracker import CallTracker, Update

_LOGGER = logging.getLogger(__name__)


def _dumps(payload: Any) -> str:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"))


def configured_lines(hub: Any) -> list[str]:
    """Lines named in ``sources:`` (``lines`` lists and single ``line`` keys), in E.164."""
    out: list[str] = []
    for source in hub.config.get("sources") or []:
        values = list(source.get("lines") or [])
        if source.get("line"):
            values.append(source["line"])
        for value in values:
            line = hub.normalize(str(value))
            if line and line not in out:
                out.append(line)
    return out


class MqttIntegration:
    """A :class:`~salvesti.core.components.Component` publishing calls to Home Assistant."""

    def __init__(self, hub: Any, conf: dict[str, Any]) -> None:
        conf = SCHEMA(dict(conf))
        self.hub = hub
        self.id: str = conf["id"]
        self.label = f"mqtt({self.id})"
        self.topics = discovery.Topics(conf["discovery_prefix"], conf["topic_prefix"], self.id)
        self.expose: str = conf["expose_numbers"]
        self.tracker = CallTracker(self.expose, hub.now().date(), discovery.line_key)
        host, port = parse_broker(conf["broker"])
        self.connection = MqttConnection(
            label=self.label,
            host=host,
            port=port,
            status_topic=self.topics.availability,
            snapshot=self.snapshot,
            username=conf.get("username"),
            password=conf.get("password"),
            client_id=conf.get("client_id"),
            birth_topic=self.topics.birth,
            commands=(self.topics.pause_commands, self._on_pause_command),
        )
        self._unsubscribe: list[Callable[[], None]] = []
        self._midnight: asyncio.Task[None] | None = None

    @classmethod
    def from_config(cls, hub: Any, conf: dict[str, Any]) -> MqttIntegration:
        return cls(hub, conf)

    # -- lifecycle -------------------------------------------------------------------------------
    async def async_setup(self) -> None:
        # A fresh tracker each time, so a reload does not count today's calls twice.
        self.tracker = CallTracker(self.expose, self.hub.now().date(), discovery.line_key)
        for line in configured_lines(self.hub):
            self.tracker.add_line(line)
        for entry in getattr(self.hub, "entries", []):
            if entry.kind == "source":
                self.tracker.source_status(
                    {"id": entry.id, "state": str(entry.state), "reason": entry.reason}
                )
        await self._seed_from_store()
        handlers = {
            events.CALL_STARTED: self._on_started,
            events.CALL_ANSWERED: self._on_answered,
            events.NOTICE_PLAYED: self._on_notice,
            events.CALL_ENDED: self._on_ended,
            events.RECORDING_SAVED: self._on_recording_saved,
            events.RECORDING_DELETED: self._on_recording_deleted,
            events.RECORDING_UNHEALTHY: self._on_recording_unhealthy,
            events.HEALTH_SUMMARY: self._on_health_summary,
            events.SOURCE_STATUS: self._on_source_status,
            events.RECORDING_PAUSED: self._on_paused,
            events.RECORDING_RESUMED: self._on_resumed,
        }
        self._unsubscribe = [self.hub.bus.subscribe(name, handler) for name, handler in handlers.items()]
        self.connection.start(self.hub.create_task)
        self._midnight = self.hub.create_task(self._reset_at_midnight(), f"{self.label} midnight")

    async def async_unload(self) -> None:
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._unsubscribe = []
        if self._midnight is not None:
            await finish(self._midnight)
            self._midnight = None
        await self.connection.stop()

    async def _seed_from_store(self) -> None:
        """Today's counters and the last purge survive a restart: read them from the store."""
        store = self.hub.store
        if store is None:
            return
        midnight = self.hub.now().replace(hour=0, minute=0, second=0, microsecond=0)
        try:
            calls = await store.list_calls(CallQuery(since=midnight, limit=0))
            self.tracker.seed([call.to_json() for call in calls])
            list_deletions = getattr(store, "list_deletions", None)
            if list_deletions is not None:
                recent = await list_deletions(limit=50)
                by_rule = [d for d in recent if d.get("rule") not in (None, "manual")]
                if by_rule:
                    self.tracker.purged(by_rule[0]["deleted_at"])
        except asyncio.CancelledError:
            raise
        except Exception:
            _LOGGER.exception(
                "%s: could not read today's calls from the store; counters start at 0", self.label
            )

    # -- what goes out -----------------------------------------------------------------------------
    def snapshot(self) -> list[Outgoing]:
        """Everything retained, current: discovery for every device, then their states."""
        sources = list(self.tracker.sources)
        out: list[Outgoing] = [
            (self.topics.hub_config, _dumps(discovery.hub_discovery(self.topics, sources)), True),
            (self.topics.hub_state, _dumps(self.tracker.hub_payload()), True),
        ]
        for state in self.tracker.lines.values():
            config = discovery.line_discovery(self.topics, state.key, state.line)
            out.append((self.topics.line_config(state.key), _dumps(config), True))
            out.append((self.topics.line_state(state.key), _dumps(state.payload()), True))
        return out

    def _send(self, update: Update | None) -> None:
        if update is None:
            return
        key = update.line.key
        if update.new_line:
            config = discovery.line_discovery(self.topics, key, update.line.line)
            self.connection.publish(self.topics.line_config(key), _dumps(config), retain=True)
        self.connection.publish(self.topics.line_state(key), _dumps(update.line.payload()), retain=True)
        if update.last_call is not None:
            self.connection.publish(self.topics.last_call(key), _dumps(update.last_call))
        for event in update.events:
            event["at"] = self.hub.now().isoformat()
            self.connection.publish(self.topics.event(key), _dumps(event))

    def _send_hub(self, *, rediscover: bool = False) -> None:
        if rediscover:
            config = discovery.hub_discovery(self.topics, list(self.tracker.sources))
            self.connection.publish(self.topics.hub_config, _dumps(config), retain=True)
        self.connection.publish(self.topics.hub_state, _dumps(self.tracker.hub_payload()), retain=True)

    def _roll_day(self) -> None:
        for state in self.tracker.roll_day(self.hub.now().date()):
            self.connection.publish(self.topics.line_state(state.key), _dumps(state.payload()), retain=True)

    async def _reset_at_midnight(self) -> None:
        while True:
            now: datetime = self.hub.now()
            tomorrow = (now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
            # timestamps, not aware-datetime subtraction, which ignores a DST change in between
            await asyncio.sleep(max(1.0, tomorrow.timestamp() - now.timestamp() + 0.5))
            self._roll_day()

    # -- bus handlers (synchronous: memory only) -----------------------------------------------------
    def _on_started(self, event: Event) -> None:
        self._roll_day()
        self._send(self.tracker.started(event.data))

    def _on_answered(self, event: Event) -> None:
        self._send(self.tracker.answered(event.data))

    def _on_notice(self, event: Event) -> None:
        self._send(self.tracker.refreshed(event.data))

    def _on_ended(self, event: Event) -> None:
        self._roll_day()
        self._send(self.tracker.ended(event.data))

    def _on_recording_saved(self, event: Event) -> None:
        self._send(self.tracker.recording_saved(event.data))

    def _on_recording_unhealthy(self, event: Event) -> None:
        self._send(self.tracker.recording_unhealthy(event.data))

    def _on_health_summary(self, event: Event) -> None:
        """Retained: counts only, no numbers, and Home Assistant shows the last one after a restart."""
        self.connection.publish(self.topics.health_summary, _dumps(event.data), retain=True)

    def _on_recording_deleted(self, event: Event) -> None:
        if "reason" not in event.data:
            return  # deleted by hand (HTTP API), not by a retention rule
        self.tracker.purged(self.hub.now().isoformat())
        self._send_hub()

    def _on_paused(self, event: Event) -> None:
        self._send(self.tracker.pause_changed(str(event.data.get("call_id")), True))

    def _on_resumed(self, event: Event) -> None:
        self._send(self.tracker.pause_changed(str(event.data.get("call_id")), False))

    # -- commands from Home Assistant --------------------------------------------------------------
    def _on_pause_command(self, topic: str, payload: str) -> None:
        """The line's "Recording paused" switch: ON pauses every recording in progress on the
        line, OFF resumes them (``by: mqtt``, audited by the web UI like the keypad's)."""
        parts = topic.split("/")
        key = parts[-3] if len(parts) >= 3 else ""
        state = self.tracker.lines.get(key)
        if state is None or payload not in ("ON", "OFF"):
            _LOGGER.warning("%s: ignored %r on %s", self.label, payload[:20], topic)
            return
        recordings = getattr(self.hub, "recordings", {})
        changed = False
        for call_id in list(state.active):
            rec = recordings.get(call_id)
            if rec is None:
                continue
            done = rec.pause("mqtt") if payload == "ON" else rec.resume("mqtt")
            if done:
                changed = True
                self.hub.create_task(self.hub.call_updated(rec.call), f"{self.label} pause")
        if not changed:  # nothing to pause (or already so): say the real state again
            self.connection.publish(self.topics.line_state(key), _dumps(state.payload()), retain=True)

    def _on_source_status(self, event: Event) -> None:
        known = str(event.data.get("id")) in self.tracker.sources
        self.tracker.source_status(event.data)
        self._send_hub(rediscover=not known)
