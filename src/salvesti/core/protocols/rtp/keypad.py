"""A keypad code the other party must not hear (``salvesti.pause_code``), sans-IO.

A phone sends each digit as RFC 4733 events; the relay asks :meth:`KeypadCode.feed` once per
new digit what to do with that digit's packets.  While the digits so far could still become
the code they are withheld; when they cannot, they are released (the relay sends them on,
late but in order); when they are the code, they are swallowed and the owner acts.  A digit
that is no prefix of the code at all passes untouched, so a menu ("press 1") costs nothing.
A withheld prefix is released after a pause the owner times (:meth:`expire`).
"""

from __future__ import annotations

from dataclasses import dataclass

from salvesti.core.protocols.rtp.dtmf import DIGITS


@dataclass(frozen=True)
class Forward:
    """Pass this digit's packets on as they are."""


@dataclass(frozen=True)
class Withhold:
    """Keep this digit back: it may be the start of the code."""


@dataclass(frozen=True)
class Release:
    """Not the code after all: send ``digits`` on now (this digit's packets are not passed)."""

    digits: str


@dataclass(frozen=True)
class Matched:
    """The code: swallow it and act."""


Decision = Forward | Withhold | Release | Matched


def valid_code(code: str) -> bool:
    return 1 <= len(code) <= 8 and all(d in DIGITS for d in code.upper())


class KeypadCode:
    def __init__(self, code: str) -> None:
        if not valid_code(code):
            raise ValueError(f"a keypad code is 1-8 of {DIGITS!r}, not {code!r}")
        self.code = code.upper()
        self.pending = ""

    def feed(self, digit: str) -> Decision:
        digit = digit.upper()
        candidate = self.pending + digit
        if candidate == self.code:
            self.pending = ""
            return Matched()
        if self.code.startswith(candidate):
            self.pending = candidate
            return Withhold()
        held, self.pending = self.pending, ""
        if self.code.startswith(digit):  # the start of a new try: it waits, the rest goes
            self.pending = digit
            return Release(held)
        if not held:
            return Forward()
        return Release(held + digit)

    def expire(self) -> Release:
        """The phone stopped mid-code: what was withheld goes on."""
        held, self.pending = self.pending, ""
        return Release(held)
