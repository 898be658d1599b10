"""Unsolicited result codes about calls, turned into events.

Sources of the formats (3GPP TS 27.007 for +CLIP/+CLCC/+CRING; ITU-T V.253 §9.2.3 for
the caller-ID block; the SIMCom SIM7500/SIM7600 AT manual for VOICE CALL and
MISSED_CALL)::

    RING
    +CRING: VOICE
    +CLIP: "<number>",<type>[,<subaddr>,<satype>[,"<alpha>"[,<CLI validity>]]]
    +CLCC: <idx>,<dir>,<stat>,<mode>,<mpty>[,"<number>",<type>[,"<alpha>"]]
    VOICE CALL: BEGIN
    VOICE CALL: END: <hhmmss duration>
    MISSED_CALL: <hh:mm AM/PM> <number>
    DATE = MMDD / TIME = HHMM / NMBR = <number|P|O> / NAME = <name|P|O> / MESG = <hex>

+CLCC ``stat``: 0 active, 1 held, 2 dialling, 3 alerting, 4 incoming, 5 waiting,
6 disconnected (SIMCom reports 6 when a call ends).
"""

from __future__ import annotations

import re

from .events import CallerId, Event, HangupDetected, Ring, Urc
from .framing import split_fields

#: +CLIP <CLI validity> (27.007 §7.6).
CLI_VALIDITY = {"0": "valid", "1": "withheld", "2": "unavailable"}
#: V.253 caller-ID block keys.
CID_KEYS = ("DATE", "TIME", "NMBR", "NAME", "MESG", "DDN_NMBR")
_CID_LINE = re.compile(r"^(DATE|TIME|NMBR|NAME|MESG|DDN_NMBR)\s*=\s?(.*)$")
#: Prefixes that are URCs even while a command is waiting for its answer (unless the
#: command itself asked for them, e.g. ``AT+CLCC`` for ``+CLCC:`` lines).
URC_PREFIXES = ("RING", "+CRING:", "+CLIP:", "+CLCC:", "VOICE CALL:", "MISSED_CALL:")


def parse_cid_line(line: str) -> tuple[str, str] | None:
    """``('NMBR', '5551234')`` for a V.253 caller-ID line, else None."""
    m = _CID_LINE.match(line)
    return (m.group(1), m.group(2).strip()) if m else None


def is_urc(line: str, cmd: str | None) -> bool:
    """Whether ``line`` is unsolicited even though ``cmd`` may be waiting for lines."""
    for prefix in URC_PREFIXES:
        if line == prefix or line.startswith(prefix):
            own = prefix.rstrip(":")
            if cmd is not None and own.startswith("+") and own[1:] in cmd.upper():
                return False
            return prefix != "RING" or line == "RING"
    return parse_cid_line(line) is not None


def parse_urc(line: str) -> list[Event]:
    """Events for one unsolicited line (never raises; unknown lines give ``UNKNOWN``)."""
    if line == "RING":
        return [Ring()]
    head, sep, rest = line.partition(":")
    if not sep:
        return [Urc("UNKNOWN", (line,))]
    head = head.strip()
    rest = rest.strip()
    if head == "+CRING":
        return [Ring(rest or None)]
    if head == "+CLIP":
        return [_clip(split_fields(rest))]
    if head == "+CLCC":
        return _clcc(split_fields(rest))
    if head == "VOICE CALL":
        state, _, duration = rest.partition(":")
        fields = (state.strip(), duration.strip()) if duration else (state.strip(),)
        events: list[Event] = [Urc("VOICE CALL", fields)]
        if fields[0] == "END":
            events.append(HangupDetected("VOICE CALL: END"))
        return events
    if head == "MISSED_CALL":
        when, _, number = rest.rpartition(" ")
        return [Urc("MISSED_CALL", (when.strip(), number.strip())), HangupDetected("MISSED_CALL")]
    return [Urc(head, split_fields(rest) if rest else ())]


def _clip(fields: tuple[str, ...]) -> CallerId:
    number = fields[0] if fields and fields[0] else None
    name = fields[4] if len(fields) > 4 and fields[4] else None
    if len(fields) > 5 and fields[5] in CLI_VALIDITY:
        validity = CLI_VALIDITY[fields[5]]
    else:
        validity = "valid" if number else "unavailable"
    return CallerId(number, name, validity)


def _clcc(fields: tuple[str, ...]) -> list[Event]:
    events: list[Event] = [Urc("+CLCC", fields)]
    if len(fields) < 3:
        return events
    direction, stat = fields[1], fields[2]
    if stat in ("4", "5") and direction == "1":
        number = fields[5] if len(fields) > 5 and fields[5] else None
        name = fields[7] if len(fields) > 7 and fields[7] else None
        events.append(CallerId(number, name, "valid" if number else "unavailable"))
    elif stat == "6":
        events.append(HangupDetected("+CLCC state 6"))
    return events


class CallerIdBlock:
    """Collects the lines of one V.253 caller-ID block into a :class:`CallerId`.

    The block has no end marker, so it is complete when NAME follows NMBR (the order
    V.253 gives), when a line that is not part of it arrives, when a key repeats, or
    when the driver's timer says the modem went quiet.
    """

    def __init__(self) -> None:
        self._fields: dict[str, str] = {}

    def __bool__(self) -> bool:
        return bool(self._fields)

    def add(self, key: str, value: str) -> CallerId | None:
        """Add one line; returns the previous block if ``key`` repeats, or this block
        when it is now complete."""
        done = None
        if key in self._fields:
            done = self.flush()
        self._fields[key] = value
        if key == "NAME" and "NMBR" in self._fields and done is None:
            return self.flush()
        return done

    def flush(self) -> CallerId | None:
        fields, self._fields = self._fields, {}
        if not fields:
            return None
        number = fields.get("NMBR") or fields.get("DDN_NMBR")
        validity = "valid"
        if number in ("P", "PRIVATE"):
            number, validity = None, "withheld"
        elif number in (None, "", "O", "OUT OF AREA"):
            number, validity = None, "unavailable"
        name = fields.get("NAME")
        if name in ("P", "O", ""):
            name = None
        extra = tuple((k, v) for k, v in fields.items() if k not in ("NMBR", "NAME"))
        return CallerId(number, name, validity, extra)
