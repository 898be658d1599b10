"""The event bus: how sources, the store, sinks and integrations hear about calls.

Events are the ones named in CONTRACT.md.  Handlers are plain callables or coroutines;
a failing handler is logged and never breaks the publisher (a broken MQTT integration
must not stop a call from being recorded).
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

_LOGGER = logging.getLogger(__name__)

CALL_STARTED = "call_started"
CALL_ANSWERED = "call_answered"
NOTICE_PLAYED = "notice_played"
CALL_ENDED = "call_ended"
RECORDING_SAVED = "recording_saved"
RECORDING_DELETED = "recording_deleted"
RECORDING_FAILED = "recording_failed"
SOURCE_STATUS = "source_status"
#: A call's analysis finished (payload: call_id, status, flags).
ANALYSIS_DONE = "analysis_done"
#: The analysis did not find the recording notice in a call that should have played it.
NOTICE_UNVERIFIED = "notice_unverified"
#: After call_ended: the recording does not match the signalling (payload: the call object,
#: whose ``health`` lists every problem found).
RECORDING_UNHEALTHY = "recording_unhealthy"
#: Once a day after local midnight: unhealthy recordings of the last 24 h by reason (payload:
#: salvesti.core.health_summary.HealthSummary.to_json()).
HEALTH_SUMMARY = "health_summary"
#: A retention sweep finished with no deletion failing (payload: at, deleted).
RETENTION_SWEPT = "retention_swept"
#: A call's recording was paused / resumed (payload: call_id, by, pauses; resumed also carries
#: the ended ``pause``; ``by`` is ``auto`` when ``salvesti.pause_max_s`` ran out).
RECORDING_PAUSED = "recording_paused"
RECORDING_RESUMED = "recording_resumed"

EVENTS = (
    CALL_STARTED,
    CALL_ANSWERED,
    NOTICE_PLAYED,
    CALL_ENDED,
    RECORDING_SAVED,
    RECORDING_DELETED,
    RECORDING_FAILED,
    SOURCE_STATUS,
    ANALYSIS_DONE,
    NOTICE_UNVERIFIED,
    RECORDING_UNHEALTHY,
    HEALTH_SUMMARY,
    RETENTION_SWEPT,
    RECORDING_PAUSED,
    RECORDING_RESUMED,
)

Handler = Callable[["Event"], Awaitable[None] | None]


@dataclass(frozen=True)
class Event:
    """One published event: its name and a JSON-able payload."""

    name: str
    data: dict[str, Any] = field(default_factory=dict)


class EventBus:
    """In-process publish/subscribe; ``"*"`` subscribes to every event."""

    def __init__(self) -> None:
        self._handlers: dict[str, list[Handler]] = {}
        self._pending: set[asyncio.Task[None]] = set()

    def subscribe(self, name: str, handler: Handler) -> Callable[[], None]:
        """Register ``handler``; returns a function that unsubscribes it."""
        self._handlers.setdefault(name, []).append(handler)

        def unsubscribe() -> None:
            handlers = self._handlers.get(name, [])
            if handler in handlers:
                handlers.remove(handler)

        return unsubscribe

    def publish(self, name: str, data: dict[str, Any] | None = None) -> None:
        """Deliver an event to every handler without waiting for async ones."""
        event = Event(name, dict(data or {}))
        for handler in [*self._handlers.get(name, []), *self._handlers.get("*", [])]:
            try:
                result = handler(event)
            except Exception:
                _LOGGER.exception("event handler for %s failed", name)
                continue
            if inspect.isawaitable(result):
                task = asyncio.ensure_future(self._guard(name, result))
                self._pending.add(task)
                task.add_done_callback(self._pending.discard)

    @staticmethod
    async def _guard(name: str, awaitable: Awaitable[None]) -> None:
        try:
            await awaitable
        except asyncio.CancelledError:
            raise
        except Exception:
            _LOGGER.exception("event handler for %s failed", name)

    async def drain(self) -> None:
        """Wait for handlers still running (used at shutdown and in tests)."""
        while self._pending:
            await asyncio.gather(*list(self._pending), return_exceptions=True)
