"""The ``webhook`` integration: listed bus events become signed POSTs, retried until delivered.

Bus handlers only start a small task that writes the delivery to the outbox (the store), so
a slow or absent receiver never delays a call.  One delivery task per hook sends what is due,
then sleeps until the next retry is due or a new delivery arrives.  The time comes from
``hub.now()``, so a test with a fake clock moves the backoff without waiting for it.

Delivery is at least once: a POST cut off by a stop is sent again after the restart.  Each
carries ``X-Salvesti-Delivery`` (the outbox row id) for receivers that deduplicate.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
from collections.abc import Callable
from typing import Any

import aiohttp

from salvesti import __version__
from salvesti.core import bus as events
from salvesti.core.bus import Event
from salvesti.integrations.webhook.outbox import Delivery, Outbox, WebhookOutbox
from salvesti.integrations.webhook.outbox_postgresql import CLAIM_LIMIT, PgOutbox
from salvesti.integrations.webhook.schema import SCHEMA

_LOGGER = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Salvesti-Signature"


def sign(secret: str, body: bytes) -> str:
    """``sha256=<hex HMAC-SHA256 of body>``, the value of ``X-Salvesti-Signature``."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def open_outbox(store: Any, hook: str, *, lease_s: float) -> WebhookOutbox:
    """The outbox in ``store``: a shared, claimed table on PostgreSQL, else the SQLite one."""
    from salvesti.plugins.store_postgresql import PostgresStore

    if isinstance(store, PostgresStore):
        return PgOutbox(store.pool, hook, lease_s=lease_s)
    return Outbox(store, hook)


class WebhookIntegration:
    """A :class:`~salvesti.core.components.Component` POSTing call events to one URL."""

    def __init__(self, hub: Any, conf: dict[str, Any]) -> None:
        conf = SCHEMA(dict(conf))
        self.hub = hub
        self.id: str = conf["id"]
        self.label = f"webhook({self.id})"
        self.queue_name = f"webhook:{self.id}"
        self.url: str = conf["url"]
        self.secret: str = conf["secret"]
        self.events: list[str] = conf["events"]
        self.timeout_s: float = conf["timeout_s"]
        self.timeout = aiohttp.ClientTimeout(total=self.timeout_s)
        self.outbox: WebhookOutbox | None = None
        self._session: aiohttp.ClientSession | None = None
        self._unsubscribe: list[Callable[[], None]] = []
        self._writes: set[asyncio.Task[None]] = set()
        self._wake = asyncio.Event()
        self._sender: asyncio.Task[None] | None = None

    @classmethod
    def from_config(cls, hub: Any, conf: dict[str, Any]) -> WebhookIntegration:
        return cls(hub, conf)

    def now(self) -> float:
        return float(self.hub.now().timestamp())

    async def queue_length(self) -> int:
        """Deliveries still in the outbox (not yet answered 2xx): a ``QueueReporter``."""
        return 0 if self.outbox is None else len(await self.outbox.pending())

    # -- lifecycle -------------------------------------------------------------------------------
    async def async_setup(self) -> None:
        self.outbox = open_outbox(self.hub.store, self.id, lease_s=self.timeout_s * CLAIM_LIMIT + 60)
        self._session = aiohttp.ClientSession(
            timeout=self.timeout, headers={"User-Agent": f"salvesti/{__version__}"}
        )
        self._unsubscribe = [self.hub.bus.subscribe(name, self._on_event) for name in self.events]
        self._sender = self.hub.create_task(self._send_loop(), f"{self.label} delivery")

    async def async_unload(self) -> None:
        """Stop listening, let the outbox writes finish (nothing heard is lost), stop sending."""
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._unsubscribe = []
        if self._writes:
            await asyncio.gather(*self._writes, return_exceptions=True)
        if self._sender is not None:
            self._sender.cancel()
            await asyncio.wait([self._sender])
            self._sender = None
        if self._session is not None:
            await self._session.close()
            self._session = None

    def kick(self) -> None:
        """Look at the outbox now (a new delivery, or a test that moved its clock)."""
        self._wake.set()

    # -- bus → outbox ----------------------------------------------------------------------------
    def _on_event(self, event: Event) -> None:
        task = self.hub.create_task(self._enqueue(event), f"{self.label} enqueue {event.name}")
        self._writes.add(task)
        task.add_done_callback(self._writes.discard)

    async def _enqueue(self, event: Event) -> None:
        try:
            payload = await self._payload_of(event)
            if payload is None:
                _LOGGER.warning("%s: %s for an unknown call, not sent", self.label, event.name)
                return
            body = json.dumps({"event": event.name, **payload}, ensure_ascii=False, default=str).encode()
            assert self.outbox is not None
            await self.outbox.add(event.name, body, self.now())
        except asyncio.CancelledError:
            raise
        except Exception:
            _LOGGER.exception("%s: could not queue %s", self.label, event.name)
            return
        self.kick()

    async def _payload_of(self, event: Event) -> dict[str, Any] | None:
        """``{"call": ...}`` for the call events, ``{"summary": ...}`` for the daily summary."""
        if event.name == events.HEALTH_SUMMARY:
            return {"summary": event.data}
        call = await self._call_of(event)
        return None if call is None else {"call": call}

    async def _call_of(self, event: Event) -> dict[str, Any] | None:
        """The call object as ``calls show --json`` gives it (from the store for analysis_done)."""
        data = event.data
        if event.name != events.ANALYSIS_DONE and "started_at" in data:
            return data
        store = self.hub.store
        call = await store.get_call(str(data.get("call_id") or data.get("id"))) if store else None
        return None if call is None else call.to_json()

    # -- outbox → receiver -----------------------------------------------------------------------
    async def _send_loop(self) -> None:
        assert self.outbox is not None
        while True:
            self._wake.clear()
            try:
                for delivery in await self.outbox.due(self.now()):
                    await self._deliver(delivery)
                next_at = await self.outbox.next_at()
            except asyncio.CancelledError:
                raise
            except Exception:  # the store busy or closing: look again in a while
                _LOGGER.exception("%s: outbox unreadable", self.label)
                next_at = self.now() + 60
            delay = None if next_at is None else max(0.0, next_at - self.now())
            if delay == 0.0:
                continue
            try:
                await asyncio.wait_for(self._wake.wait(), delay)
            except TimeoutError:
                pass

    async def _deliver(self, delivery: Delivery) -> None:
        assert self.outbox is not None and self._session is not None
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: sign(self.secret, delivery.body),
            "X-Salvesti-Event": delivery.event,
            "X-Salvesti-Delivery": str(delivery.id),
        }
        try:
            async with self._session.post(
                self.url, data=delivery.body, headers=headers, allow_redirects=False
            ) as response:
                status = response.status
        except asyncio.CancelledError:
            raise
        except (aiohttp.ClientError, TimeoutError, OSError) as err:
            error = f"{type(err).__name__}: {err}"
        else:
            if 200 <= status < 300:
                await self.outbox.delivered(delivery)
                return
            error = f"HTTP {status}"
        when = await self.outbox.failed(delivery, error, self.now())
        _LOGGER.warning(
            "%s: %s delivery %d failed (%s); retry %d in %.0f s",
            self.label,
            delivery.event,
            delivery.id,
            error,
            delivery.attempts + 1,
            when - self.now(),
        )
