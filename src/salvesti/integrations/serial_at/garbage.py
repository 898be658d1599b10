"""Saying clearly, but not too often, that a device sent bytes nobody can read.

Cheap USB modems and their cables emit noise: NUL bytes after a reset, half a line when
the port opens mid-transmission, a line thousands of bytes long from a confused firmware.
The commander drops such bytes as :class:`ProtocolError` and keeps going; the user should
still learn that the device or cable misbehaves (it explains a missed caller ID), without
a noisy line filling the log, so the first one is a warning and later ones are summed up
at most once a minute.
"""

from __future__ import annotations

import logging

from salvesti.core.protocols.at import ProtocolError

#: Seconds between two warnings about garbage from the same device.
GARBAGE_LOG_INTERVAL = 60.0


class GarbageLog:
    """Counts unreadable data from one device and logs it rate-limited."""

    def __init__(self, logger: logging.Logger, label: str, device: str) -> None:
        self.logger = logger
        self.label = label
        self.device = device
        self.total = 0
        self._unlogged = 0
        self._last: float | None = None

    def add(self, event: ProtocolError, now: float) -> None:
        self.total += 1
        if self._last is not None and now - self._last < GARBAGE_LOG_INTERVAL:
            self._unlogged += 1
            self.logger.debug("%s: %s: %r", self.label, event.reason, event.data[:64])
            return
        more = f" (and {self._unlogged} more since the last warning)" if self._unlogged else ""
        self.logger.warning(
            "%s: ignored garbage from %s: %s %r%s; the line keeps working, "
            "but check the device and its cable if this repeats",
            self.label,
            self.device,
            event.reason,
            event.data[:32],
            more,
        )
        self._last = now
        self._unlogged = 0
