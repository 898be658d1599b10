"""A serial port on the asyncio loop: non-blocking reads and writes on its file descriptor.

pyserial sets the line up (speed, 8N1, raw mode) and is then only a holder of the fd; the
bytes move through ``loop.add_reader``/``add_writer`` so that a stalled USB device never
blocks the event loop.  A read error or end of file (the device was unplugged) calls
``on_lost`` once; the link is closed by then.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable

import serial

_LOGGER = logging.getLogger(__name__)

#: Drop outgoing bytes beyond this (audio a dead device does not take): 4 s of 16 kHz PCM.
MAX_PENDING = 64 * 1024


class SerialLink:
    """One open serial device.  ``on_data(bytes)`` and ``on_lost(reason)`` run on the loop."""

    def __init__(
        self,
        path: str,
        baudrate: int,
        on_data: Callable[[bytes], None],
        on_lost: Callable[[str], None],
        *,
        label: str = "",
    ) -> None:
        self.path = path
        self.baudrate = baudrate
        self.label = label or path
        self._on_data = on_data
        self._on_lost = on_lost
        self._port: serial.Serial | None = None
        self._fd: int | None = None
        self._out = bytearray()
        self._loop: asyncio.AbstractEventLoop | None = None
        self.dropped = 0

    @property
    def is_open(self) -> bool:
        return self._fd is not None

    def open(self) -> None:
        """Open the device; raises OSError / serial.SerialException when it is not there."""
        self._loop = asyncio.get_running_loop()
        port = serial.Serial(self.path, self.baudrate, timeout=0, write_timeout=0, exclusive=True)
        self._port = port
        self._fd = port.fileno()
        os.set_blocking(self._fd, False)
        port.reset_input_buffer()
        self._loop.add_reader(self._fd, self._readable)

    def write(self, data: bytes) -> None:
        """Queue bytes; written as fast as the device takes them, never blocking."""
        if self._fd is None or not data:
            return
        if len(self._out) + len(data) > MAX_PENDING:
            self.dropped += len(data)
            return
        idle = not self._out
        self._out += data
        if idle:
            self._writable()

    @property
    def pending(self) -> int:
        return len(self._out)

    def close(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None and self._loop is not None:
            self._loop.remove_reader(fd)
            self._loop.remove_writer(fd)
        if self._port is not None:
            try:
                self._port.close()
            except (OSError, serial.SerialException):
                pass
            self._port = None
        self._out.clear()

    def _readable(self) -> None:
        if self._fd is None:
            return
        try:
            data = os.read(self._fd, 65536)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as err:
            self._lost(f"read failed: {err.strerror}")
            return
        if not data:
            self._lost("end of file")
            return
        self._on_data(data)

    def _writable(self) -> None:
        if self._fd is None or self._loop is None:
            return
        try:
            n = os.write(self._fd, self._out)
        except (BlockingIOError, InterruptedError):
            n = 0
        except OSError as err:
            self._lost(f"write failed: {err.strerror}")
            return
        del self._out[:n]
        if self._out:
            self._loop.add_writer(self._fd, self._writable)
        else:
            self._loop.remove_writer(self._fd)

    def _lost(self, reason: str) -> None:
        _LOGGER.warning("%s: serial link lost: %s", self.label, reason)
        self.close()
        self._on_lost(reason)
