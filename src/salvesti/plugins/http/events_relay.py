"""Live events between nodes: a call on one node shows up live in every node's web UI.

Each HTTP server fans its own hub's bus events out to its event streams (``/api/events``).
With several nodes on one PostgreSQL store, a call taken by box-a must also appear in a browser
open on box-b, so each server sends the call events its streams show with ``NOTIFY`` on one
channel and ``LISTEN``s on a connection of its own; what another node sent goes to the local
streams as if it had happened here.  Each process tags what it sends with a random id and skips
its own, so a local event is never shown twice (even if two nodes were given one name).

NOTIFY carries at most 8000 bytes: a bigger call object travels as its id, and the receiver
reads the call from the shared store.  This is live refresh only -- an event sent while the
database was away is not replayed (the lists come from the store anyway) -- and the connection
is made again with capped backoff.  SQLite stores have one node, so there is no relay.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import asyncpg

_LOGGER = logging.getLogger(__name__)

CHANNEL = "salvesti_events"
#: How the LISTEN connection shows in ``pg_stat_activity`` (one per node, beside its pool).
APPLICATION_NAME = "salvesti-events"
#: What the event streams show about calls (each filtered per user there); these cross nodes.
CALL_EVENTS = frozenset(
    {
        "call_started",
        "call_answered",
        "notice_played",
        "call_ended",
        "recording_saved",
        "recording_deleted",
        "call_changed",
    }
)
#: NOTIFY's payload limit is 8000 bytes; leave room for the envelope.
PAYLOAD_LIMIT = 7900
BACKOFF_CAP = 30.0
QUEUE_LIMIT = 1000

Deliver = Callable[[str, dict[str, Any]], None]
LoadCall = Callable[[str], Awaitable[dict[str, Any] | None]]


class _Reconnect:
    """Put in the send queue when the connection ends, so the sender loop notices at once."""


class PgEventRelay:
    """Sends this node's call events to the other nodes and delivers theirs here."""

    def __init__(
        self, dsn: str, node: str, deliver: Deliver, load_call: LoadCall, *, timeout: float = 10
    ) -> None:
        self.dsn = dsn
        self.node = node
        self.deliver = deliver
        self.load_call = load_call
        self.timeout = timeout
        self.origin = secrets.token_hex(8)
        #: Set while the LISTEN connection is up (tests and start-up wait on it, bounded).
        self.listening = asyncio.Event()
        #: How many times the LISTEN connection was made (1 + reconnections).
        self.connections = 0
        self._queue: asyncio.Queue[tuple[str, dict[str, Any]] | _Reconnect] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._loads: set[asyncio.Task[None]] = set()

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="http event relay")

    async def stop(self) -> None:
        tasks = [t for t in (self._task, *self._loads) if t is not None]
        self._task = None
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks)

    def send(self, name: str, data: dict[str, Any]) -> None:
        """Queue one event for the other nodes; dropped while not connected (live refresh only:
        an event sent minutes late would show a call starting that ended long ago)."""
        if self.listening.is_set() and self._queue.qsize() < QUEUE_LIMIT:
            self._queue.put_nowait((name, data))

    # -- the connection ------------------------------------------------------------------------
    async def _run(self) -> None:
        """Connect, listen and send until cancelled; after a failure, again with backoff."""
        import asyncpg

        loop = asyncio.get_running_loop()
        attempt = 0
        while True:
            started = loop.time()
            try:
                conn = await asyncpg.connect(
                    self.dsn, timeout=self.timeout, server_settings={"application_name": APPLICATION_NAME}
                )
            except (OSError, TimeoutError, asyncpg.PostgresError) as err:
                _LOGGER.warning("live events to other nodes: cannot connect: %s", err)
            else:
                try:
                    await self._serve(conn)
                except asyncio.CancelledError:
                    raise
                except Exception as err:  # whatever ends the connection, the relay goes on
                    _LOGGER.warning("live events to other nodes: connection lost: %s", err)
                finally:
                    self.listening.clear()
                    with contextlib.suppress(Exception):
                        await asyncio.wait_for(conn.close(), 2)
            # a connection that served a while is made again at once; one failing fast backs off
            attempt = 0 if loop.time() - started > BACKOFF_CAP else attempt + 1
            if attempt:
                await asyncio.sleep(min(BACKOFF_CAP, 2.0 ** (attempt - 1)))

    async def _serve(self, conn: asyncpg.Connection) -> None:
        conn.add_termination_listener(lambda _conn: self._queue.put_nowait(_Reconnect()))
        await conn.add_listener(CHANNEL, self._on_notify)
        self.connections += 1
        self.listening.set()
        while True:
            item = await self._queue.get()
            if isinstance(item, _Reconnect):
                return
            await conn.execute("SELECT pg_notify($1, $2)", CHANNEL, self._payload(*item))

    def _payload(self, name: str, data: dict[str, Any]) -> str:
        envelope = {"origin": self.origin, "node": self.node, "event": name}
        text = json.dumps({**envelope, "data": data}, default=str, ensure_ascii=False)
        if len(text.encode()) <= PAYLOAD_LIMIT:
            return text
        return json.dumps({**envelope, "call_id": str(data.get("id") or "")})

    # -- what arrives ----------------------------------------------------------------------------
    def _on_notify(self, _conn: object, _pid: int, _channel: str, payload: str) -> None:
        try:
            message = json.loads(payload)
            if message.get("origin") == self.origin:
                return
            name = str(message["event"])
        except (ValueError, KeyError, AttributeError, TypeError):
            _LOGGER.debug("live events: ignored a malformed notification %r", payload[:200])
            return
        if isinstance(message.get("data"), dict):
            self.deliver(name, message["data"])
        elif message.get("call_id"):
            task = asyncio.get_running_loop().create_task(self._deliver_loaded(name, str(message["call_id"])))
            self._loads.add(task)
            task.add_done_callback(self._loads.discard)

    async def _deliver_loaded(self, name: str, call_id: str) -> None:
        data = await self.load_call(call_id)
        if data is not None:
            self.deliver(name, data)


def relay_for(hub: Any, deliver: Deliver) -> PgEventRelay | None:
    """A relay when the hub's store is PostgreSQL (several nodes may share it), else None."""
    from salvesti.plugins.store_postgresql import PostgresStore

    store = hub.store
    if not isinstance(store, PostgresStore):
        return None

    async def load_call(call_id: str) -> dict[str, Any] | None:
        call = await store.get_call(call_id)
        return call.to_json() if call is not None else None

    return PgEventRelay(store.dsn, str(hub.node), deliver, load_call, timeout=store.connect_timeout)
