"""Sending keypad digits we generate as RFC 4733 events on a leg.

Used where Salvesti itself must send digits: a browser agent's keypad (``agent.py``) and
digits held back while they might have been the pause code (``media.py``).  Each digit is
100 ms of event packets with one timestamp and a growing duration, then the end packet three
times (RFC 4733 2.5.1.4), paced at 20 ms.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from salvesti.core.protocols.rtp.dtmf import TelephoneEvent

if TYPE_CHECKING:
    from salvesti.integrations.sip.media_leg import MediaLeg

PTIME_MS = 20


async def send_digits(leg: MediaLeg, payload_type: int, digits: str) -> None:
    step = leg.clock_rate * PTIME_MS // 1000
    for digit in digits:
        for i in range(1, 6):
            if leg.closed:
                return
            event = TelephoneEvent.from_digit(digit, duration=step * i)
            leg.send_frame(event.to_bytes(), payload_type, step if i == 1 else 0, marker=i == 1)
            await asyncio.sleep(PTIME_MS / 1000)
        end = TelephoneEvent.from_digit(digit, end=True, duration=step * 5).to_bytes()
        for _ in range(3):
            leg.send_frame(end, payload_type, 0)
        await asyncio.sleep(PTIME_MS / 1000)  # a gap between digits, as a keypad leaves one
