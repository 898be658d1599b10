"""The native RTP core behind a typed facade, and the choice between it and Python.

``_rtpcore`` is a C extension built by ``pip install`` when a compiler is there (setup.py,
optional).  :func:`load_core` applies the source's ``media_core`` option: ``auto`` uses it
when it was built, ``python`` never does (the pure-Python relay, also the reference the
tests compare it with), ``native`` insists and makes a missing build a start-up error.
A core is one epoll set, run one of two ways (``media_workers``):

- ``0``: pumped by the event loop, which watches the epoll descriptor and calls ``pump``;
- ``N >= 1``: ``N`` cores, each relaying in its own worker thread that never takes the GIL,
  so RTP costs the event loop nothing and the relay spreads over the machine's CPU cores.
  A bridged call's two legs always share one core (each relays to the other); calls go to
  the core with the fewest legs.  ``auto`` is one worker per CPU core this process may run
  on, less the one the event loop needs, and at least one.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Protocol

from salvesti.core.audio.g711 import ALAW_TO_LINEAR, ULAW_TO_LINEAR
from salvesti.core.errors import SalvestiError

_LOGGER = logging.getLogger(__name__)

#: Codecs the core relays and decodes (same codec on both legs, 8 kHz).
NATIVE_CODECS = {
    "PCMU": ULAW_TO_LINEAR.astype("<i2").tobytes(),
    "PCMA": ALAW_TO_LINEAR.astype("<i2").tobytes(),
}


class NativeCoreMissing(SalvestiError):
    """``media_core: native`` but the C extension was not built."""


class _Core(Protocol):
    """What ``_rtpcore.Core`` offers (the C type has no stubs)."""

    def fileno(self) -> int: ...
    def count(self) -> int: ...
    def add(self, **state: Any) -> None: ...
    def remove(self, fd: int) -> tuple[dict[str, Any], dict[str, Any], list[tuple[float, bytes]]]: ...
    def drain(self, fd: int) -> list[tuple[float, bytes]]: ...
    def stats(self, fd: int) -> dict[str, Any]: ...
    def state(self, fd: int) -> dict[str, Any]: ...
    def pump(self) -> int: ...
    def start(self, batch_us: int = 0) -> None: ...
    def stop(self) -> None: ...
    def running(self) -> bool: ...
    def pause(self) -> None: ...
    def send(self, fd: int, payload: bytes, pt: int, ts_step: int, marker: bool) -> None: ...
    def resume(self) -> None: ...
    def counters(self) -> dict[str, int]: ...


#: Worker sleep after each wake-up, so the next finds many sockets ready (see _rtpcore.c);
#: SALVESTI_MEDIA_BATCH_US sets it for measurements (bench/calls.py --batch-us).
DEFAULT_BATCH_US = int(os.environ.get("SALVESTI_MEDIA_BATCH_US") or 0)


def auto_workers() -> int:
    """One worker per CPU core this process may use, less one for the event loop, at least one."""
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    return max(1, cores - 1)


def built() -> bool:
    """True when the C extension is importable."""
    try:
        from salvesti.integrations.sip import _rtpcore  # noqa: F401
    except ImportError:
        return False
    return True


class NativeCore:
    """One native relay: the legs CallMedia hands over, pumped by the loop or in its own thread."""

    def __init__(self, *, threaded: bool = False, batch_us: int = DEFAULT_BATCH_US) -> None:
        from salvesti.integrations.sip import _rtpcore

        self._core: _Core = _rtpcore.Core()
        self._loop: asyncio.AbstractEventLoop | None = None
        self.threaded = threaded
        if threaded:
            self._core.start(batch_us)

    def table(self, codec: str) -> bytes:
        return NATIVE_CODECS[codec]

    def relays(self, codec: str | None, clock_rate: int) -> bool:
        """Whether the core can carry a bridge of this codec on both legs."""
        return codec in NATIVE_CODECS and clock_rate == 8000

    def _watch(self) -> None:
        if self.threaded:
            return
        loop = asyncio.get_running_loop()
        if self._loop is not loop:
            if self._loop is not None and not self._loop.is_closed():
                self._loop.remove_reader(self._core.fileno())
            loop.add_reader(self._core.fileno(), self._core.pump)
            self._loop = loop

    def add(self, **state: Any) -> None:
        self._watch()
        self._core.add(**state)

    def remove(self, fd: int) -> tuple[dict[str, Any], dict[str, Any], list[tuple[float, bytes]]]:
        return self._core.remove(fd)

    def drain(self, fd: int) -> list[tuple[float, bytes]]:
        return self._core.drain(fd)

    def stats(self, fd: int) -> dict[str, Any]:
        return self._core.stats(fd)

    def state(self, fd: int) -> dict[str, Any]:
        return self._core.state(fd)

    def pump(self) -> int:
        """Relay what is ready now (the loop calls the C method directly; this is for tests)."""
        return self._core.pump()

    @property
    def legs(self) -> int:
        return self._core.count()

    @property
    def running(self) -> bool:
        """True while this core's worker thread relays (always False for a pumped core)."""
        return self._core.running()

    def send(self, fd: int, payload: bytes, pt: int, ts_step: int, *, marker: bool) -> None:
        """One generated packet (a notice frame) into a leg the core holds, on its stream."""
        self._core.send(fd, payload, pt, ts_step, marker)

    @contextmanager
    def handing_over(self) -> Iterator[None]:
        """Both legs of a call change hands inside this: the worker reads neither meanwhile."""
        self._core.pause()
        try:
            yield
        finally:
            self._core.resume()

    def counters(self) -> dict[str, int]:
        """Wake-ups and ready sockets served so far: how many sockets one wake-up finds."""
        return self._core.counters()

    def close(self) -> None:
        if self.threaded:
            self._core.stop()
        if self._loop is not None and not self._loop.is_closed():
            self._loop.remove_reader(self._core.fileno())
        self._loop = None


class NativePool:
    """Every native core of one media relay; :meth:`pick` chooses one for a call."""

    def __init__(self, workers: int = 0, *, batch_us: int = DEFAULT_BATCH_US) -> None:
        if workers < 0:
            raise ValueError("media_workers must be 0 (pumped by the loop) or more")
        self.workers = workers
        self.cores = [NativeCore(threaded=True, batch_us=batch_us) for _ in range(workers)] or [NativeCore()]

    def relays(self, codec: str | None, clock_rate: int) -> bool:
        return self.cores[0].relays(codec, clock_rate)

    def pick(self) -> NativeCore:
        """The core with the fewest legs (a call's two legs go to the same one)."""
        return min(self.cores, key=lambda core: core.legs)

    @property
    def legs(self) -> int:
        return sum(core.legs for core in self.cores)

    def close(self) -> None:
        for core in self.cores:
            core.close()


def load_core(choice: str, workers: int | str = 0) -> NativePool | None:
    """The cores for ``media_core: choice`` and ``media_workers``; None means the Python relay."""
    if choice == "python":
        return None
    if not built():
        if choice == "native":
            raise NativeCoreMissing(
                "media_core is native, but the C relay core was not built (install gcc and the "
                "Python headers, e.g. apt install gcc python3-dev, then reinstall Salvesti)"
            )
        _LOGGER.info("the native RTP core was not built; relaying in Python")
        return None
    return NativePool(auto_workers() if workers == "auto" else int(workers))
