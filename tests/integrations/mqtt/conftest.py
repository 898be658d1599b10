"""Fixtures for the mqtt integration tests against the real Mosquitto on 127.0.0.1:1883.

Every test gets its own discovery and topic prefixes so tests never see each other's
retained messages, and every retained message a test caused is cleared afterwards (the
broker persists them).  Helpers live in ``mqtt_harness``.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from mqtt_harness import Mosquitto, Prefixes, TcpProxy, clear_retained, free_port

from salvesti.integrations.mqtt.client import MqttConnection


@pytest.fixture
async def prefixes() -> AsyncIterator[Prefixes]:
    uid = uuid.uuid4().hex[:10]
    p = Prefixes(f"hatest-{uid}", f"salvtest-{uid}")
    yield p
    await clear_retained([p.discovery, p.topics])


@pytest.fixture
def fast_reconnect(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(MqttConnection, "RECONNECT_MIN", 0.1)
    monkeypatch.setattr(MqttConnection, "RECONNECT_MAX", 0.4)


@pytest.fixture
def private_broker(tmp_path: Path) -> Iterator[Mosquitto]:
    broker = Mosquitto(tmp_path, free_port())
    yield broker
    broker.stop()


@pytest.fixture
async def proxy() -> AsyncIterator[TcpProxy]:
    relay = TcpProxy()
    await relay.start()
    yield relay
    await relay.close()
