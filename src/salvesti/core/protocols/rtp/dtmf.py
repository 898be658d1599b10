"""Telephone events (RFC 4733 section 2.3): DTMF digits carried as RTP payload.

Payload format::

     0                   1                   2                   3
     0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
    |     event     |E|R| volume    |          duration             |

The relay passes these packets through untouched except for the payload type, so this
type is for tests, logs and any source that must synthesise events.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from salvesti.core.protocols.rtp.packet import RtpError

_EVENT = struct.Struct("!BBH")

#: Event codes 0-15 of RFC 4733 3.2, as the digits a phone shows.
DIGITS = "0123456789*#ABCD"


@dataclass(frozen=True)
class TelephoneEvent:
    event: int
    end: bool = False
    volume: int = 10
    duration: int = 0

    @property
    def digit(self) -> str | None:
        """The DTMF digit for events 0-15, else None (other tones, RFC 4734)."""
        return DIGITS[self.event] if self.event < len(DIGITS) else None

    @classmethod
    def parse(cls, payload: bytes) -> TelephoneEvent:
        """Parse the first event of a payload (redundant events after it are ignored)."""
        if len(payload) < 4:
            raise RtpError(f"telephone-event payload too short: {len(payload)} bytes")
        event, flags, duration = _EVENT.unpack_from(payload)
        return cls(event=event, end=bool(flags & 0x80), volume=flags & 0x3F, duration=duration)

    def to_bytes(self) -> bytes:
        return _EVENT.pack(
            self.event & 0xFF, (0x80 if self.end else 0) | (self.volume & 0x3F), self.duration & 0xFFFF
        )

    @classmethod
    def from_digit(cls, digit: str, **kwargs: int | bool) -> TelephoneEvent:
        return cls(event=DIGITS.index(digit.upper()), **kwargs)  # type: ignore[arg-type]
