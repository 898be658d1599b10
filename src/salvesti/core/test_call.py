"""The test call: Salvesti rings an extension, plays it the notice and records what it says.

Before the first customer calls, the owner wants to see the whole chain work: the phone
rings, the notice plays, the voice is recorded, the call is listed and its waveform plays
back.  A source whose phones can be rung this way is a :class:`TestCaller`; the web UI
(``POST /api/test-call``) and ``salvesti test-call`` (the control socket) find it by
capability in ``hub.sources``, never by importing the source's code.

The result is an ordinary call object: direction ``internal`` (nobody outside took part),
``extension`` the phone's, ``meta.test_call`` true, recorded whatever ``record_internal``
says, kept by the retention rules like any call.  Its recording has the usual layout with the
phone as the party under test: left = what the phone said, right = what the phone heard
(the notice first, then the beep).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from salvesti.core.bus import CALL_ENDED
from salvesti.core.call import Call
from salvesti.core.errors import SalvestiError

#: Seconds recorded after the beep, unless asked otherwise; at most :data:`MAX_SECONDS`.
DEFAULT_SECONDS = 5.0
MIN_SECONDS = 1.0
MAX_SECONDS = 30.0
#: How long the phone may ring before the test call ends as ``no_answer``.
RING_SECONDS = 30.0
#: The caller ID the phone shows (display name).
CALLER_NAME = "Salvesti test"
#: The ``meta`` key that marks a test call.
META_KEY = "test_call"


class TestCallRefused(SalvestiError):
    """No test call was started; ``reason`` is one of ``unknown_extension``,
    ``not_registered``, ``in_progress``, ``unavailable``, the message says it in words."""

    __test__ = False  # not a pytest class

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class TestTarget:
    """An extension that can be tested, and whether it can be right now."""

    __test__ = False

    extension: str
    name: str | None
    registered: bool
    in_progress: bool

    def to_json(self) -> dict[str, Any]:
        return {
            "extension": self.extension,
            "name": self.name,
            "registered": self.registered,
            "in_progress": self.in_progress,
        }


@runtime_checkable
class TestCaller(Protocol):
    """A source that can place a test call to one of its extensions."""

    id: str

    def can_test(self, extension: str) -> bool:
        """True when ``extension`` is one of this source's (registered or not)."""
        ...

    def test_targets(self) -> list[TestTarget]:
        """The extensions this source can test, in config order."""
        ...

    async def test_call(self, extension: str, *, seconds: float = DEFAULT_SECONDS) -> Call:
        """Ring ``extension``; returns the call once it rings (it goes on in the background:
        watch the bus for its ``call_ended``).  Raises :class:`TestCallRefused` when nothing
        was started: the extension is not registered, or a test call to it is in progress."""
        ...


def callers(hub: Any) -> list[TestCaller]:
    return [src for src in hub.sources.values() if isinstance(src, TestCaller)]


def targets(hub: Any) -> list[TestTarget]:
    """Every testable extension of every source."""
    return [t for caller in callers(hub) for t in caller.test_targets()]


def clamp_seconds(seconds: float | None) -> float:
    if seconds is None:
        return DEFAULT_SECONDS
    return min(max(float(seconds), MIN_SECONDS), MAX_SECONDS)


async def start(
    hub: Any, extension: str, *, seconds: float | None = None, wait: bool = False
) -> dict[str, Any]:
    """Start a test call to ``extension``: ``{"ok": True, "call": {...}}`` or ``{"ok": False,
    "error": words, "reason": ..., "status": HTTP status}``.

    Shared by the HTTP route and the control socket so both say the same.  With ``wait`` the
    call object is the one at its end.
    """
    caller = next((c for c in callers(hub) if c.can_test(extension)), None)
    if caller is None:
        return {
            "ok": False,
            "error": f"extension {extension} is not configured on any source",
            "reason": "unknown_extension",
            "status": 404,
        }
    ended: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
    call_id: list[str] = []

    def on_end(event: Any) -> None:
        if call_id and event.data.get("id") == call_id[0] and not ended.done():
            ended.set_result(event.data)

    unsubscribe = hub.bus.subscribe(CALL_ENDED, on_end)
    try:
        try:
            call = await caller.test_call(extension, seconds=clamp_seconds(seconds))
        except TestCallRefused as err:
            status = 404 if err.reason == "unknown_extension" else 409
            return {"ok": False, "error": str(err), "reason": err.reason, "status": status}
        call_id.append(call.id)
        if not wait:
            return {"ok": True, "call": call.to_json()}
        limit = RING_SECONDS + MAX_SECONDS + 120  # ringing, the notice, recording, finalising
        try:
            return {"ok": True, "call": await asyncio.wait_for(ended, limit)}
        except TimeoutError:
            return {"ok": True, "call": call.to_json()}
    finally:
        unsubscribe()


def outcome_words(call: dict[str, Any]) -> str:
    """How a finished test call went, in plain words (the CLI; the web UI has its own strings)."""
    disposition = call.get("disposition")
    ext = call.get("extension")
    if disposition == "answered":
        rec = call.get("recording") or {}
        if rec.get("path"):
            return f"extension {ext} answered; recording saved: {rec['path']}"
        return f"extension {ext} answered, but no recording was saved"
    if disposition == "no_answer":
        return f"extension {ext} did not answer within {RING_SECONDS:.0f} s"
    if disposition == "busy":
        return f"extension {ext} is busy"
    cause = (call.get("meta") or {}).get("sip", {}).get("hangup_cause")
    return f"the test call to extension {ext} failed" + (f" ({cause})" if cause else "")
