"""A small synchronous AT client for the simulator tests: pyserial moves the bytes,
:class:`ATCommander` does the protocol (so these tests exercise both over a real pty)."""

from __future__ import annotations

import time

import serial

from salvesti.core.protocols.at import ATCommander, CommandDone, CommandTimeout, Event


class SerialAT:
    def __init__(self, path: str, baudrate: int = 115200) -> None:
        self.port = serial.Serial(path, baudrate, timeout=0.02)
        self.cmdr = ATCommander()
        self.events: list[Event] = []

    def close(self) -> None:
        self.port.close()

    def pump(self, seconds: float = 0.05) -> list[Event]:
        """Move bytes for ``seconds``; return the new events."""
        new: list[Event] = []
        deadline = time.monotonic() + seconds
        while True:
            out = self.cmdr.data_to_send()
            if out:
                self.port.write(out)
            data = self.port.read(4096)
            now = time.monotonic()
            if data:
                new += self.cmdr.feed(data, now)
            new += self.cmdr.handle_timer(now)
            if now >= deadline:
                break
        self.events += new
        return new

    def cmd(self, command: str, timeout: float = 2.0) -> CommandDone | CommandTimeout:
        handle = self.cmdr.send(command, timeout, time.monotonic())
        deadline = time.monotonic() + timeout + 1.0
        while not handle.done and time.monotonic() < deadline:
            self.pump(0.01)
        assert handle.result is not None, f"{command}: no result"
        return handle.result

    def wait(self, predicate, timeout: float = 3.0) -> list[Event]:
        """Pump until an event matches ``predicate``; return all events seen meanwhile."""
        seen: list[Event] = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            seen += self.pump(0.01)
            if any(predicate(e) for e in seen):
                return seen
        raise AssertionError(f"no matching event within {timeout}s; saw {seen}")
