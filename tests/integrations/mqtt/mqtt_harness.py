"""Helpers for the mqtt integration tests: watchers on a real broker, a real Hub, relays.

Kept out of conftest.py under a name unique in the tests tree, so test modules import them
as ``from mqtt_harness import ...`` without depending on which ``conftest`` is loaded.
The real Mosquitto listens on 127.0.0.1:1883; every test uses its own topic prefixes.
"""

from __future__ import annotations

import asyncio
import contextlib
import getpass
import json
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiomqtt

from salvesti.core.hub import Hub
from salvesti.core.plugins import Platform, PluginManager, hookimpl

BROKER = ("127.0.0.1", 1883)
WAIT = 5.0


@dataclass
class Seen:
    topic: str
    payload: bytes
    retain: bool

    def json(self) -> Any:
        return json.loads(self.payload)


@dataclass
class Watcher:
    """A real MQTT client that records everything under the given filters."""

    client: aiomqtt.Client
    messages: list[Seen] = field(default_factory=list)
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    async def wait(
        self, topic: str, check: Callable[[Seen], bool] = lambda m: True, *, after: int = 0
    ) -> Seen:
        """The first message on ``topic`` (at index ``after`` or later) that passes ``check``."""
        deadline = time.monotonic() + WAIT
        while True:
            for message in self.messages[after:]:
                if message.topic == topic and check(message):
                    return message
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                seen = [(m.topic, m.payload[:200]) for m in self.messages[after:]]
                raise AssertionError(f"nothing on {topic} passed the check within {WAIT} s; saw {seen}")
            self.changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.changed.wait(), remaining)

    async def json_on(self, topic: str, *, after: int = 0, **expect: Any) -> dict[str, Any]:
        """The first JSON message on ``topic`` whose keys include ``expect``."""

        def check(message: Seen) -> bool:
            data = message.json()
            return all(data.get(k) == v for k, v in expect.items())

        return (await self.wait(topic, check, after=after)).json()

    def on(self, topic: str) -> list[Seen]:
        return [m for m in self.messages if m.topic == topic]


#: Watchers currently connected (their tasks are not the hub's).
OPEN_WATCHERS: list[Watcher] = []


@contextlib.asynccontextmanager
async def watch(
    *filters: str, host: str = BROKER[0], port: int = BROKER[1], **login: str
) -> AsyncIterator[Watcher]:
    async with aiomqtt.Client(host, port, identifier=f"watch-{uuid.uuid4().hex[:8]}", **login) as client:
        watcher = Watcher(client)
        for topic in filters:
            await client.subscribe(topic, qos=1)

        async def collect() -> None:
            async for message in client.messages:
                payload = (
                    message.payload if isinstance(message.payload, bytes) else str(message.payload).encode()
                )
                watcher.messages.append(Seen(str(message.topic), payload, bool(message.retain)))
                watcher.changed.set()

        task = asyncio.create_task(collect())
        OPEN_WATCHERS.append(watcher)
        try:
            yield watcher
        finally:
            OPEN_WATCHERS.remove(watcher)
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, aiomqtt.MqttError):
                await task


async def clear_retained(prefixes: list[str], host: str = BROKER[0], port: int = BROKER[1]) -> None:
    """Delete every retained message under ``prefixes`` (an empty retained payload)."""
    async with watch(*(f"{p}/#" for p in prefixes), host=host, port=port) as watcher:
        await asyncio.sleep(0.3)
        for topic in {m.topic for m in watcher.messages if m.retain and m.payload}:
            await watcher.client.publish(topic, b"", qos=1, retain=True)


@dataclass
class Prefixes:
    discovery: str
    topics: str

    def conf(self, **extra: Any) -> dict[str, Any]:
        return {
            "platform": "mqtt",
            "id": "ha",
            "broker": f"{BROKER[0]}:{BROKER[1]}",
            "discovery_prefix": self.discovery,
            "topic_prefix": self.topics,
            **extra,
        }


class LineSource:
    """A minimal call source: it owns lines and has no calls; the tests publish the events."""

    def __init__(self, hub: Any, conf: dict[str, Any]) -> None:
        self.id = conf["id"]

    async def async_setup(self) -> None:
        """Nothing to connect."""

    async def async_unload(self) -> None:
        """Nothing to close."""

    def stop_intake(self) -> None:
        """No calls to refuse."""

    def active_calls(self) -> int:
        return 0

    async def hangup_all(self) -> None:
        """No calls to end."""


class _TestPlugin:
    @hookimpl
    def register_call_sources(self, register: Any) -> None:
        register(Platform(kind="source", name="test_lines", schema=lambda c: c, factory=LineSource))


@contextlib.asynccontextmanager
async def running_hub(tmp_path: Path, integration: dict[str, Any], **sections: Any) -> AsyncIterator[Hub]:
    """A real Hub (sqlite store in ``tmp_path``) with one mqtt integration and optional sources."""
    config = {
        "salvesti": {"data_dir": str(tmp_path / "data"), "timezone": "Europe/Tallinn", "purpose": "test"},
        "integrations": [integration],
        **sections,
    }
    plugins = PluginManager()
    plugins.load(entry_points_too=False, extra=[_TestPlugin()])
    hub = Hub(config, config_path=tmp_path / "config.yaml", plugins=plugins)
    before = asyncio.all_tasks()
    await hub.async_start()
    try:
        yield hub
    finally:
        await asyncio.wait_for(hub.async_stop(call_timeout=1.0), 10)
        left: list[asyncio.Task[Any]] = []
        for _ in range(5):  # a cancelled task needs a loop turn or two to finish
            await asyncio.sleep(0)
            left = [
                t for t in asyncio.all_tasks() - before if t is not asyncio.current_task() and not t.done()
            ]
            if not left:
                break
        if OPEN_WATCHERS:  # a watcher's own tasks come and go; judge ours by their names
            left = [t for t in left if "mqtt(" in t.get_name()]
        assert left == [], f"the hub left tasks behind: {left}"


async def settled(hub: Hub, integration_id: str = "ha") -> None:
    """Wait until the integration is connected and has nothing left to send."""
    connection = hub.integrations[integration_id].connection
    deadline = time.monotonic() + WAIT
    while not (connection.synced and connection.pending == 0):
        assert time.monotonic() < deadline, "the integration did not connect and flush in time"
        await asyncio.sleep(0.02)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Mosquitto:
    """A private Mosquitto on a free loopback port that a test starts when it wants."""

    def __init__(self, tmp_path: Path, port: int) -> None:
        self.port = port
        self.tmp_path = tmp_path
        self.conf = tmp_path / "mosquitto.conf"
        self.conf.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n")
        self.proc: subprocess.Popen[bytes] | None = None

    def require_password(self, username: str, password: str) -> None:
        """Only ``username``/``password`` may connect (takes effect at the next start)."""
        binary = shutil.which("mosquitto_passwd")
        assert binary, "mosquitto_passwd is not installed (apt install mosquitto)"
        passwords = self.tmp_path / "passwords"
        subprocess.run([binary, "-b", "-c", str(passwords), username, password], check=True, timeout=10)
        passwords.chmod(0o600)
        # Run as whoever runs the tests: as root, mosquitto would otherwise switch to its own
        # user, which cannot read a password file in pytest's private temporary folder.
        self.conf.write_text(
            f"listener {self.port} 127.0.0.1\nallow_anonymous false\npassword_file {passwords}\n"
            f"persistence false\nuser {getpass.getuser()}\n"
        )

    def launch(self) -> None:
        binary = shutil.which("mosquitto") or shutil.which("mosquitto", path="/usr/sbin:/usr/local/sbin")
        assert binary, "mosquitto is not installed (apt install mosquitto)"
        self.proc = subprocess.Popen([binary, "-c", str(self.conf)], stderr=subprocess.DEVNULL)

    async def start(self) -> None:
        """Launch it and wait (bounded) until it accepts connections."""
        self.launch()
        for _ in range(100):
            with contextlib.suppress(OSError):
                _, writer = await asyncio.open_connection("127.0.0.1", self.port)
                writer.close()
                await writer.wait_closed()
                return
            await asyncio.sleep(0.05)
        raise AssertionError("private mosquitto did not start listening")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(5)


class TcpProxy:
    """A loopback TCP relay to the broker whose connections a test can cut abruptly."""

    def __init__(self, port: int = 0) -> None:
        self.transports: list[asyncio.StreamWriter] = []
        self.server: asyncio.Server | None = None
        self.port = port
        self.accepted = 0
        self._pipes: set[asyncio.Task[None]] = set()
        self.frozen = False

    async def start(self) -> None:
        """Listen (on ``port``, or a free one); until then connecting is refused like a down broker."""
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", self.port)
        self.port = self.server.sockets[0].getsockname()[1]

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.accepted += 1
        up_reader, up_writer = await asyncio.open_connection(*BROKER)
        self.transports += [writer, up_writer]
        for src, dst in ((reader, up_writer), (up_reader, writer)):
            task = asyncio.create_task(self._pipe(src, dst))
            self._pipes.add(task)
            task.add_done_callback(self._pipes.discard)

    async def _pipe(self, src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError, ConnectionError):
            while data := await src.read(65536):
                if self.frozen:
                    continue  # swallowed: the peer hears nothing, the socket stays open
                dst.write(data)
                await dst.drain()
        dst.close()

    def freeze(self) -> None:
        """From now on relay nothing, but keep the sockets open: a broker that hangs."""
        self.frozen = True

    def cut(self) -> None:
        """Drop every relayed connection without an MQTT DISCONNECT (as a crash or cable pull)."""
        for writer in self.transports:
            writer.transport.abort()
        self.transports.clear()

    async def close(self) -> None:
        self.cut()
        for task in list(self._pipes):
            task.cancel()
        await asyncio.gather(*self._pipes, return_exceptions=True)
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()
