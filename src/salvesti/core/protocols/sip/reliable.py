"""Reliable provisional responses, the UAC side (RFC 3262 §4), sans-IO.

A carrier that answers ``Require: 100rel`` in a 18x retransmits it until our PRACK comes,
and may put its SDP answer (early media) in it.  Which 18x to PRACK and which to drop is
decided here, per INVITE: the first reliable one of each early dialog (To tag) opens its
RSeq space, the next must be exactly one higher; a repeat (its PRACK was lost or is on
its way, and our PRACK transaction retransmits by itself) or one that overtook a lost
predecessor is dropped, never handed to the call a second time.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from .message import SipResponse

OPTION_TAG = "100rel"
_RSEQ_MAX = 2**31 - 1


class Reliability(enum.Enum):
    UNRELIABLE = "unreliable"  # a plain 18x: take it, no PRACK
    NEW = "new"  # the next reliable 18x: take it and PRACK it with ``rack``
    REPEAT = "repeat"  # an RSeq already PRACKed: drop it
    OUT_OF_ORDER = "out_of_order"  # RSeq skipped ahead: drop it, the missing one will come
    MALFORMED = "malformed"  # Require: 100rel with no usable RSeq: take it, cannot PRACK


@dataclass(frozen=True)
class Provisional:
    """The verdict on one 18x: what to do, the RAck header value for a PRACK, and why (for
    the log) when it is malformed."""

    kind: Reliability
    rack: str | None = None
    problem: str | None = None

    @property
    def take(self) -> bool:
        """Hand the response to the call (show ringing, take early SDP)."""
        return self.kind in (Reliability.UNRELIABLE, Reliability.NEW, Reliability.MALFORMED)


def option_tags(response: SipResponse, name: str) -> set[str]:
    """The option tags of every ``Require`` / ``Supported`` header, lower case."""
    tags: set[str] = set()
    for value in response.headers.get_all(name):
        tags.update(t.strip().lower() for t in value.split(",") if t.strip())
    return tags


def parse_rseq(value: str | None) -> int:
    """RSeq (RFC 3262 §7.1): 1 to 2**31-1; ValueError with what was wrong otherwise."""
    text = (value or "").strip()
    if not text.isdigit():
        raise ValueError(f"RSeq {value!r} is not a number")
    number = int(text)
    if not 1 <= number <= _RSEQ_MAX:
        raise ValueError(f"RSeq {number} is outside 1..2**31-1")
    return number


@dataclass
class ReliableProvisionals:
    """The RSeq state of one INVITE's early dialogs: To tag → the last RSeq PRACKed."""

    last: dict[tuple[int, str | None], int] = field(default_factory=dict)

    def classify(self, response: SipResponse) -> Provisional:
        if not 100 < response.status < 200 or OPTION_TAG not in option_tags(response, "Require"):
            return Provisional(Reliability.UNRELIABLE)
        try:
            rseq = parse_rseq(response.headers.get("RSeq"))
        except ValueError as err:
            return Provisional(Reliability.MALFORMED, problem=str(err))
        number, method = response.cseq
        key = (number, response.to_addr.tag)
        last = self.last.get(key)
        if last is not None and rseq <= last:
            return Provisional(Reliability.REPEAT)
        if last is not None and rseq != last + 1:
            return Provisional(Reliability.OUT_OF_ORDER)
        self.last[key] = rseq
        return Provisional(Reliability.NEW, rack=f"{rseq} {number} {method}")
