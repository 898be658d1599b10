"""A thin aiomqtt wrapper that never lets a broker outage reach the calls.

``publish`` only appends to an in-memory queue; one background task owns the connection,
reconnects with exponential backoff and drains the queue.  Calls are recorded whether the
broker is up, down, slow or refusing us.

What survives an outage: retained state is not queued while we are offline, because on every
(re)connect the owner's ``snapshot()`` re-publishes the current state of everything (and
discovery), which supersedes it.  Events (non-retained) are kept, up to :attr:`EVENT_BACKLOG`
of them and no older than :attr:`EVENT_MAX_AGE` seconds when the broker comes back, so a
"missed call" during a broker restart still reaches Home Assistant but a stale "incoming"
does not start a "phone is ringing" automation minutes late.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections import deque
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from salvesti.integrations.mqtt.discovery import OFFLINE, ONLINE

if TYPE_CHECKING:  # aiomqtt (and paho) load when a connection is first made, not at start-up
    import aiomqtt

_LOGGER = logging.getLogger(__name__)

#: (topic, payload, retain) as produced by the owner's snapshot.
Outgoing = tuple[str, str, bool]


@dataclass(eq=False)
class _Message:
    topic: str
    payload: str
    retain: bool
    queued_at: float = field(default_factory=time.monotonic)


class MqttConnection:
    """One broker connection with a last will on ``status_topic`` and a publish queue."""

    RECONNECT_MIN = 1.0
    RECONNECT_MAX = 60.0
    EVENT_BACKLOG = 200
    EVENT_MAX_AGE = 300.0
    QUEUE_MAX = 10_000
    KEEPALIVE = 30
    STOP_TIMEOUT = 2.0

    def __init__(
        self,
        *,
        label: str,
        host: str,
        port: int,
        status_topic: str,
        snapshot: Callable[[], list[Outgoing]],
        username: str | None = None,
        password: str | None = None,
        client_id: str | None = None,
        birth_topic: str | None = None,
        commands: tuple[str, Callable[[str, str], None]] | None = None,
    ) -> None:
        self.label = label
        self.host = host
        self.port = port
        self.status_topic = status_topic
        self.birth_topic = birth_topic
        #: (topic filter, handler(topic, payload)) for commands from Home Assistant.
        self.commands = commands
        self._snapshot = snapshot
        self._username = username
        self._password = password
        self._client_id = client_id
        self._queue: deque[_Message] = deque()
        self._wake = asyncio.Event()
        self._client: aiomqtt.Client | None = None
        self._task: asyncio.Task[None] | None = None
        self.connected = False
        #: True once the current connection has re-sent the snapshot (discovery and state).
        self.synced = False
        #: Connection attempts that failed since the last success (for logs and tests).
        self.failures = 0
        self.connects = 0

    @property
    def pending(self) -> int:
        """Messages queued and not yet acknowledged by the broker."""
        return len(self._queue)

    # -- what the owner calls ----------------------------------------------------------------------
    def publish(self, topic: str, payload: str, *, retain: bool = False) -> None:
        """Queue a message; never blocks and never raises because of the broker."""
        if retain and not self.connected:
            return  # the snapshot on the next connect carries the current state
        if not retain and not self.connected:
            backlog = [m for m in self._queue if not m.retain]
            if len(backlog) >= self.EVENT_BACKLOG:
                self._queue.remove(backlog[0])
        if len(self._queue) >= self.QUEUE_MAX:
            _LOGGER.warning("%s: publish queue full, dropping the oldest message", self.label)
            self._queue.popleft()
        self._queue.append(_Message(topic, payload, retain))
        self._wake.set()

    def resync(self) -> None:
        """Replace queued retained messages with a fresh snapshot, ahead of queued events."""
        now = time.monotonic()
        events = [m for m in self._queue if not m.retain and now - m.queued_at <= self.EVENT_MAX_AGE]
        fresh = [_Message(topic, payload, retain) for topic, payload, retain in self._snapshot()]
        self._queue = deque([*fresh, *events])
        self._wake.set()

    def start(self, create_task: Callable[[Coroutine[Any, Any, Any], str], asyncio.Task[Any]]) -> None:
        self._task = create_task(self._run(), f"{self.label} connection")

    async def stop(self) -> None:
        """Flush what is queued (briefly), say ``offline`` ourselves, then disconnect.

        A clean DISCONNECT suppresses the last will, so the retained ``offline`` is published
        explicitly; after a timeout we give up and let the broker's will do it.
        """
        import aiomqtt

        client = self._client
        if client is not None and self.connected:
            with contextlib.suppress(TimeoutError, aiomqtt.MqttError):
                async with asyncio.timeout(self.STOP_TIMEOUT):
                    while self._queue and self.connected:  # noqa: ASYNC110 - bounded by the timeout
                        await asyncio.sleep(0.01)
                    await client.publish(self.status_topic, OFFLINE, qos=1, retain=True)
        if self._task is not None:
            await finish(self._task)
            self._task = None

    # -- the connection task ----------------------------------------------------------------------
    async def _run(self) -> None:
        import aiomqtt

        delay = self.RECONNECT_MIN
        while True:
            client = aiomqtt.Client(
                self.host,
                self.port,
                username=self._username,
                password=self._password,
                identifier=self._client_id,
                will=aiomqtt.Will(self.status_topic, OFFLINE, qos=1, retain=True),
                keepalive=self.KEEPALIVE,
                timeout=10,
            )
            try:
                async with client:
                    self._connected(client)
                    delay = self.RECONNECT_MIN
                    await self._serve(client)
            except aiomqtt.MqttError as err:
                self._lost(err, delay)
            except Exception as err:
                _LOGGER.error("%s: connection task failed", self.label, exc_info=err)
                self._lost(err, delay)
            finally:
                self.connected = self.synced = False
                self._client = None
                _abandon(client)
            await asyncio.sleep(delay * random.uniform(0.8, 1.2))
            delay = min(delay * 2, self.RECONNECT_MAX)

    async def _serve(self, client: aiomqtt.Client) -> None:
        """Run the session and the reader until either ends, then stop the other.

        The reader is what notices a dropped connection (aiomqtt's publish and subscribe wait
        for their acknowledgement until a timeout, not for the disconnect), so it runs from
        the first moment.  Plain tasks rather than a TaskGroup: on Python 3.11 a TaskGroup
        whose child fails leaves a cancel request on the parent task.
        """
        import aiomqtt

        tasks = [
            asyncio.create_task(self._session(client), name=f"{self.label} writer"),
            asyncio.create_task(self._reader(client), name=f"{self.label} reader"),
        ]
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        for task in done:
            task.result()  # re-raise the reason the connection ended
        raise aiomqtt.MqttError("connection closed")

    def _connected(self, client: aiomqtt.Client) -> None:
        self._client = client
        self.connected = True
        self.connects += 1
        if self.failures:
            _LOGGER.info(
                "%s: connected to %s:%d after %d failed attempt(s)",
                self.label,
                self.host,
                self.port,
                self.failures,
            )
        else:
            _LOGGER.info("%s: connected to %s:%d", self.label, self.host, self.port)
        self.failures = 0

    def _lost(self, err: BaseException, delay: float) -> None:
        was_connected = self.connected
        self.connected = False
        self.failures += 1
        if was_connected:
            _LOGGER.warning(
                "%s: lost the broker %s:%d: %s; reconnecting", self.label, self.host, self.port, err
            )
        elif self.failures == 1:
            # A refused login (wrong password, ACL) is retried too: fixing the broker's side
            # should not need a Salvesti restart.
            from aiomqtt.exceptions import MqttConnectError

            problem = "refused the login" if isinstance(err, MqttConnectError) else "is unreachable"
            _LOGGER.warning(
                "%s: broker %s:%d %s: %s; retrying in %.1f s, then less often (calls are not affected)",
                self.label,
                self.host,
                self.port,
                problem,
                err,
                delay,
            )
        else:
            _LOGGER.debug("%s: attempt %d failed: %s", self.label, self.failures, err)

    async def _session(self, client: aiomqtt.Client) -> None:
        """Announce ``online``, listen for Home Assistant's birth, re-send everything, then drain."""
        await client.publish(self.status_topic, ONLINE, qos=1, retain=True)
        if self.birth_topic:
            await client.subscribe(self.birth_topic, qos=1)
        if self.commands is not None:
            await client.subscribe(self.commands[0], qos=1)
        self.resync()
        self.synced = True
        while True:
            while not self._queue:
                self._wake.clear()
                await self._wake.wait()
            message = self._queue[0]
            await client.publish(message.topic, message.payload, qos=1, retain=message.retain)
            with contextlib.suppress(ValueError):  # a resync may already have dropped it
                self._queue.remove(message)

    async def _reader(self, client: aiomqtt.Client) -> None:
        """Answers Home Assistant's birth message and its commands; also notices a dropped
        connection while idle."""
        async for message in client.messages:
            if (
                self.birth_topic
                and message.topic.matches(self.birth_topic)
                and _text(message.payload) == ONLINE
            ):
                _LOGGER.debug("%s: Home Assistant came online, re-sending discovery", self.label)
                self.resync()
            elif self.commands is not None and message.topic.matches(self.commands[0]) and not message.retain:
                try:  # a retained command would replay an old switch flip at every connect
                    self.commands[1](str(message.topic), _text(message.payload))
                except Exception:
                    _LOGGER.exception("%s: command on %s failed", self.label, message.topic)


def _abandon(client: aiomqtt.Client) -> None:
    """Close a socket that aiomqtt left open.

    When connecting fails or is cancelled before the CONNACK (a broker that accepts TCP and
    then says nothing), aiomqtt raises without closing paho's socket or stopping its
    housekeeping task, and paho's ``disconnect()`` then trips over aiomqtt's cancelled
    connect future.  Paho's ``_sock_close()`` runs the socket-close callback, which removes
    the reader and cancels that task.  Both attributes are private, hence the guards: at
    worst the socket lingers until paho's keepalive gives up on it.
    """
    paho = getattr(client, "_client", None)
    close = getattr(paho, "_sock_close", None)
    if paho is not None and close is not None and paho.socket() is not None:
        close()


async def finish(task: asyncio.Task[Any]) -> None:
    """Cancel ``task`` and wait for it, without swallowing a cancellation of the caller."""
    task.cancel()
    await asyncio.wait([task])
    if not task.cancelled() and task.exception() is not None:
        _LOGGER.error("task %s had failed", task.get_name(), exc_info=task.exception())


def _text(payload: Any) -> str:
    if isinstance(payload, bytes | bytearray):
        return payload.decode("utf-8", "replace")
    return str(payload)
