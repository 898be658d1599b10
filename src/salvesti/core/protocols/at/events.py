"""Events that the AT protocol objects hand back to whoever drives them.

Every event is a frozen dataclass so tests can compare lists of events for equality and
golden logs can print them.  Nothing here knows about serial ports or time sources: the
driver (a call source, the simulator's tests) moves bytes and reads these.
"""

from __future__ import annotations

from dataclasses import dataclass, field


class Event:
    """Base class of everything :class:`ATCommander` and the voice decoder return."""


@dataclass(frozen=True)
class CommandDone(Event):
    """A command got its final result code.

    ``ok`` is true for ``OK``, ``CONNECT`` and ``VCON``; ``lines`` are the information
    lines between the echo and the final result code, in order; ``final`` is the final
    result code line exactly as received (``+CME ERROR: 10`` keeps its detail).
    """

    cmd: str
    ok: bool
    lines: tuple[str, ...]
    final: str


@dataclass(frozen=True)
class CommandTimeout(Event):
    """No final result code came before the command's deadline.

    The commander forgets the command and sends the next one; ``lines`` is what had
    arrived so far, which is often the best clue to what went wrong.
    """

    cmd: str
    lines: tuple[str, ...] = ()


@dataclass(frozen=True)
class Urc(Event):
    """An unsolicited result code the commander has no richer event for (or in addition
    to one, for +CLCC and VOICE CALL so that call state can be followed).

    ``kind`` is the prefix without the colon (``+CLCC``, ``VOICE CALL``, ``MISSED_CALL``,
    ``+CRING``) or ``UNKNOWN`` for a line that matched nothing; ``fields`` are the
    comma separated values with the quotes removed.
    """

    kind: str
    fields: tuple[str, ...] = ()


@dataclass(frozen=True)
class Ring(Event):
    """One ring of an incoming call (``RING`` or ``+CRING: <type>``)."""

    call_type: str | None = None


@dataclass(frozen=True)
class CallerId(Event):
    """Who is calling, from +CLIP, +CLCC or a V.253 caller-ID block.

    ``validity`` is ``valid``, ``withheld`` (the caller hid the number) or
    ``unavailable`` (the network did not give it); ``number`` is as the device gave it,
    not yet normalised to E.164 (that needs the line's country, which the source knows).
    """

    number: str | None
    name: str | None = None
    validity: str = "valid"
    extra: tuple[tuple[str, str], ...] = field(default=())


@dataclass(frozen=True)
class HangupDetected(Event):
    """The far end is gone or the call failed to start.

    ``reason`` names the signal, e.g. ``NO CARRIER``, ``BUSY``, ``NO ANSWER``,
    ``VOICE CALL: END``, ``+CLCC state 6``, ``MISSED_CALL``, ``DLE b`` (busy tone in
    voice data), ``DLE s`` (silence) or ``DLE l`` (loop current interruption).
    """

    reason: str


@dataclass(frozen=True)
class ProtocolError(Event):
    """Bytes that could not be understood: garbage, NUL bytes, an overlong line, an
    unknown DLE code.  The stream goes on; the driver may log it or count it.
    """

    reason: str
    data: bytes = b""


@dataclass(frozen=True)
class VoiceData(Event):
    """Audio bytes from a V.253 voice data state, DLE shielding already removed."""

    data: bytes


@dataclass(frozen=True)
class DleEvent(Event):
    """A shielded event code from the voice data stream (``DLE`` + one character).

    ``code`` is the character (``b``, ``d``, ``5``, ``#``…); ``name`` says what V.253
    defines it as (``busy``, ``dial_tone``, ``dtmf``, …).
    """

    code: str
    name: str


@dataclass(frozen=True)
class Dtmf(Event):
    """A DTMF digit the modem detected on the line (``DLE`` + ``0-9*#A-D``)."""

    digit: str


@dataclass(frozen=True)
class VoiceStreamEnded(Event):
    """``DLE ETX`` from the modem: the voice data state is over, command mode follows."""
