"""The interfaces that the hub expects from each kind of platform.

They are ``Protocol`` classes so that third-party plugins need not inherit anything: a
factory returns any object with these methods.  Keeping them in one place is what lets the
SIP source, the serial source, sinks and stores be written independently.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol, runtime_checkable

from salvesti.core.call import Call, RecordingInfo


@runtime_checkable
class Component(Protocol):
    """Anything with a symmetric setup/unload pair."""

    async def async_setup(self) -> None: ...

    async def async_unload(self) -> None: ...


class CallSource(Component, Protocol):
    """Produces calls (``sources:``).  ``stop_intake`` refuses new calls at shutdown;
    ``active_calls`` lets the hub wait for them to end; ``hangup_all`` ends them."""

    id: str

    def stop_intake(self) -> None: ...

    def active_calls(self) -> int: ...

    async def hangup_all(self) -> None: ...


@dataclass
class CallQuery:
    """Filters for listing calls; ``cursor`` is the keyset (started_at, id) of the last row seen."""

    since: datetime | None = None
    until: datetime | None = None
    number: str | None = None
    direction: str | None = None
    line: str | None = None
    extension: str | None = None
    outcome: str | None = None
    tag: str | None = None
    q: str | None = None
    limit: int = 100
    cursor: tuple[str, str] | None = None


class CallStore(Component, Protocol):
    """Keeps call objects and the deletion log (``store:``)."""

    async def save_call(self, call: Call) -> None: ...

    async def get_call(self, call_id: str) -> Call | None: ...

    async def list_calls(self, query: CallQuery) -> list[Call]: ...

    async def unfinished_calls(self) -> list[Call]: ...

    async def log_deletion(self, call: Call, *, rule: str, reason: str, when: datetime) -> None: ...


class RecordingWriter(Protocol):
    """An open recording: interleaved stereo s16le frames go in, in order, as they are ready."""

    path: Path

    def write_frames(self, frames: bytes) -> None: ...

    def flush(self) -> None: ...


class RecordingSink(Component, Protocol):
    """Stores recordings (``sinks:``).  Blocking file work runs off the event loop."""

    id: str
    format: str

    def open(self, call: Call, sample_rate: int) -> RecordingWriter: ...

    async def finalize(self, call: Call, writer: RecordingWriter) -> RecordingInfo: ...

    async def delete(self, call: Call) -> bool: ...

    async def repair(self, call: Call) -> RecordingInfo | None: ...


class NoticePlayer(Component, Protocol):
    """A recording notice (``notices:``): audio that tells the outside party."""

    id: str
    directions: list[str]
    lines: list[str] | None

    def pcm(self, sample_rate: int) -> bytes:
        """Mono signed 16-bit little-endian audio at ``sample_rate`` (cached)."""
        ...


class RetentionRule(Component, Protocol):
    """How long a call's recording is kept (``retention:``); first match wins."""

    id: str
    days: int

    def matches(self, call: Call) -> bool: ...
