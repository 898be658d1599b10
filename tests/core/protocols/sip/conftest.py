"""Shared fixtures for the SIP protocol tests: golden message files."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from salvesti.core.protocols.sip.events import TransactionEvent
from salvesti.core.protocols.sip.message import is_keepalive, parse_message
from salvesti.core.protocols.sip.transaction import TransactionLayer

GOLDEN_DIR = Path(__file__).parent / "golden"


@pytest.fixture
def golden() -> Callable[[str], bytes]:
    """Read one golden message by file name."""

    def read(name: str) -> bytes:
        return (GOLDEN_DIR / name).read_bytes()

    return read


@pytest.fixture
def udp_loop() -> Callable[..., None]:
    """A bounded blocking loop that moves datagrams between one UDP socket and a
    TransactionLayer, calling ``on_event(event, now)`` until ``done()`` is true."""
    return _run


def _run(
    sock: socket.socket,
    layer: TransactionLayer,
    on_event: Callable[[TransactionEvent, float], None],
    done: Callable[[], bool],
    limit: float = 15.0,
) -> None:
    """Bounded event loop: flush output, wait for a datagram or the next timer, repeat."""
    start = time.monotonic()
    while not done():
        now = time.monotonic()
        assert now - start < limit, "peer did not finish in time"
        for data, addr, _transport in layer.datagrams_to_send():
            sock.sendto(data, addr)
        deadline = layer.next_timer()
        sock.settimeout(max(0.001, min(0.2, (deadline - now) if deadline else 0.2)))
        try:
            data, addr = sock.recvfrom(65535)
        except TimeoutError:
            for event in layer.handle_timer(time.monotonic()):
                on_event(event, time.monotonic())
            continue
        if is_keepalive(data):
            continue
        for event in layer.receive(parse_message(data), addr, "UDP", time.monotonic()):
            on_event(event, time.monotonic())
    for data, addr, _transport in layer.datagrams_to_send():
        sock.sendto(data, addr)
