"""Free finished calls' reference cycles every few calls instead of whenever Python gets to it.

A finished call's objects reference each other: the call lists its legs, a leg's transaction
carries the call as its ``user_data``, the INVITE callbacks close over both.  Reference
counting never frees such a cycle; only Python's full (generation-2) collection does, and
that waits until the objects promoted since the last one reach a quarter of all long-lived
objects.  With ~85,000 objects alive after start-up that was every ~250 calls in a soak, and
once ~450 calls in a row (docs/performance.md, "A one-hour soak"): memory a box holds for
nothing, and RSS keeps whatever high-water mark the longest wait reached.

Collecting after every ``every`` finished calls bounds that to ``every`` calls' objects.  A
full collection stops the event loop for some tens of milliseconds; Python's own would run
anyway (a manual one resets its counters, so it mostly replaces them), and the native RTP
core relays in its own thread meanwhile.
"""

from __future__ import annotations

import gc
import logging
import time
from collections.abc import Callable

_LOGGER = logging.getLogger(__name__)

#: Finished calls between two collections: ~15–30 kB of objects each wait at most this long.
EVERY = 100


class CycleCollector:
    """Counts finished calls and runs a full collection every ``every`` of them (0: never)."""

    def __init__(self, every: int = EVERY, collect: Callable[[], int] = gc.collect) -> None:
        self.every = every
        self._collect = collect
        self._ended = 0
        #: (objects found, milliseconds) of the last collection, for diagnostics and tests.
        self.last: tuple[int, float] | None = None

    def call_ended(self) -> None:
        if self.every <= 0:
            return
        self._ended += 1
        if self._ended < self.every:
            return
        self._ended = 0
        started = time.perf_counter()
        found = self._collect()
        self.last = (found, (time.perf_counter() - started) * 1000)
        _LOGGER.debug("collected %d objects of finished calls in %.1f ms", *self.last)
