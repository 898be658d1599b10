"""The native RTP core behind a typed facade, and the choice between it and Python.

``_rtpcore`` is a C extension built by ``pip install`` when a compiler is there (setup.py,
optional).  :func:`load_core` applies the source's ``media_core`` option: ``auto`` uses it
when it was built, ``python`` never does (the pure-Python relay, also the reference the
tests compare it with), ``native`` insists and makes a missing build a start-up error.
The core is one epoll set: the event loop watches its descriptor and calls ``pump``, which
relays every ready socket in C (see ``_rtpcore.c``).
"""

from __future__ import annotations

import asyncio
import logging
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


def built() -> bool:
    """True when the C extension is importable."""
    try:
        from salvesti.integrations.sip import _rtpcore  # noqa: F401
    except ImportError:
        return False
    return True


class NativeCore:
    """One native relay for one event loop: the legs CallMedia hands over, pumped by the loop."""

    def __init__(self) -> None:
        from salvesti.integrations.sip import _rtpcore

        self._core: _Core = _rtpcore.Core()
        self._loop: asyncio.AbstractEventLoop | None = None

    def table(self, codec: str) -> bytes:
        return NATIVE_CODECS[codec]

    def relays(self, codec: str | None, clock_rate: int) -> bool:
        """Whether the core can carry a bridge of this codec on both legs."""
        return codec in NATIVE_CODECS and clock_rate == 8000

    def _watch(self) -> None:
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

    def close(self) -> None:
        if self._loop is not None and not self._loop.is_closed():
            self._loop.remove_reader(self._core.fileno())
        self._loop = None


def load_core(choice: str) -> NativeCore | None:
    """The core for ``media_core: choice``; None means the Python relay."""
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
    return NativeCore()
