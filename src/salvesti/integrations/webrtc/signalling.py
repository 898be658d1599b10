"""The browser phone's signalling, sans-IO: JSON messages in, typed commands out.

The page and the box talk JSON over a WebSocket of the web UI.  This module never touches
a socket or a peer connection: :func:`parse` turns one message into a command or a
:class:`BadMessage`, and :class:`PhoneSession` is the tab's state machine, which decides
whether a command is allowed now (an ``answer`` with nothing ringing, a second ``call``
while one is up).  A refused message changes nothing.  The transport
(``plugins/http/routes_phone.py``) and the media (``peer.py``) are thin around it.

Messages from the page::

    {"type": "hello"}                                   after connecting (this tab takes over)
    {"type": "heartbeat"}                               every 10 s while the tab lives
    {"type": "call", "number": "+3725...", "sdp": OFFER}
    {"type": "answer", "call": ID, "sdp": OFFER}        the page offers, the box answers
    {"type": "decline", "call": ID}
    {"type": "candidate", "candidate": {"candidate": "...", "sdpMid": "0", "sdpMLineIndex": 0}}
    {"type": "hangup"} · {"type": "dtmf", "digit": "5"} · {"type": "hold", "on": true}
    {"type": "transfer", "to": "101"}                   blind: 101 rings, this tab leaves

Messages to the page: ``ready``, ``replaced``, ``incoming``, ``cancelled``, ``sdp``,
``state`` (``trying``, ``ringing``, ``answered``, ``connected``, ``held``, ``ended``
with ``reason``) and ``error`` (``code``, ``message``).
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from typing import Any

MAX_SDP = 64 * 1024
_NUMBER = re.compile(r"^\+?[0-9*#]{1,32}$")
_CALL_ID = re.compile(r"^[0-9A-Za-z_.:-]{1,128}$")


@dataclass(frozen=True)
class Hello:
    pass


@dataclass(frozen=True)
class Heartbeat:
    pass


@dataclass(frozen=True)
class Dial:
    number: str
    sdp: str


@dataclass(frozen=True)
class Answer:
    call: str
    sdp: str


@dataclass(frozen=True)
class Decline:
    call: str


@dataclass(frozen=True)
class Candidate:
    candidate: str
    sdp_mid: str | None
    sdp_mline_index: int | None


@dataclass(frozen=True)
class Hangup:
    pass


@dataclass(frozen=True)
class Dtmf:
    digit: str


@dataclass(frozen=True)
class Hold:
    on: bool


@dataclass(frozen=True)
class Transfer:
    to: str


Command = Hello | Heartbeat | Dial | Answer | Decline | Candidate | Hangup | Dtmf | Hold | Transfer


@dataclass(frozen=True)
class BadMessage:
    """What the page gets back (``{"type": "error", ...}``); nothing else happens."""

    code: str
    message: str

    def to_json(self) -> dict[str, Any]:
        return {"type": "error", "code": self.code, "message": self.message}


def _sdp(msg: dict[str, Any]) -> str | BadMessage:
    sdp = msg.get("sdp")
    if not isinstance(sdp, str) or not sdp.startswith("v=0"):
        return BadMessage("bad_sdp", "sdp must be the page's SDP offer (text starting v=0)")
    if len(sdp) > MAX_SDP:
        return BadMessage("bad_sdp", f"sdp longer than {MAX_SDP} bytes")
    if "m=audio" not in sdp:
        return BadMessage("bad_sdp", "the offer has no audio")
    return sdp


def _call_id(msg: dict[str, Any]) -> str | BadMessage:
    call = msg.get("call")
    if not isinstance(call, str) or not _CALL_ID.match(call):
        return BadMessage("bad_message", "call must be the id from the incoming message")
    return call


def parse(msg: Any) -> Command | BadMessage:
    """One decoded JSON value from the page as a command, or why it is not one."""
    if not isinstance(msg, dict):
        return BadMessage("bad_message", "a message is a JSON object with a type")
    kind = msg.get("type")
    if kind == "hello":
        return Hello()
    if kind == "heartbeat":
        return Heartbeat()
    if kind == "hangup":
        return Hangup()
    if kind == "call":
        number = msg.get("number")
        if not isinstance(number, str) or not _NUMBER.match(number.replace(" ", "")):
            return BadMessage("bad_number", "number must be digits, optionally starting with +")
        sdp = _sdp(msg)
        return sdp if isinstance(sdp, BadMessage) else Dial(number.replace(" ", ""), sdp)
    if kind in ("answer", "decline"):
        call = _call_id(msg)
        if isinstance(call, BadMessage):
            return call
        if kind == "decline":
            return Decline(call)
        sdp = _sdp(msg)
        return sdp if isinstance(sdp, BadMessage) else Answer(call, sdp)
    if kind == "candidate":
        cand = msg.get("candidate")
        if not isinstance(cand, dict) or not isinstance(cand.get("candidate", ""), str):
            return BadMessage("bad_message", "candidate must be an RTCIceCandidate's JSON")
        mid = cand.get("sdpMid")
        index = cand.get("sdpMLineIndex")
        if (mid is not None and not isinstance(mid, str)) or (
            index is not None and not isinstance(index, int)
        ):
            return BadMessage("bad_message", "sdpMid must be text and sdpMLineIndex a number")
        return Candidate(str(cand.get("candidate", ""))[:1024], mid, index)
    if kind == "dtmf":
        digit = msg.get("digit")
        if not isinstance(digit, str) or len(digit) != 1 or digit.upper() not in "0123456789*#ABCD":
            return BadMessage("bad_digit", "digit must be one of 0-9 * # A-D")
        return Dtmf(digit.upper())
    if kind == "hold":
        on = msg.get("on")
        if not isinstance(on, bool):
            return BadMessage("bad_message", "on must be true or false")
        return Hold(on)
    if kind == "transfer":
        to = msg.get("to")
        if not isinstance(to, str) or not re.match(r"^[0-9A-Za-z_.-]{1,32}$", to):
            return BadMessage("bad_message", "to must be the extension to transfer to")
        return Transfer(to)
    return BadMessage("unknown_type", f"unknown message type {kind!r}")


class State(enum.Enum):
    IDLE = "idle"
    RINGING = "ringing"  # an incoming call is offered to this tab
    CONNECTING = "connecting"  # our answer is out, ICE is connecting
    DIALING = "dialing"  # an outside call is being placed
    IN_CALL = "in_call"


class PhoneSession:
    """One tab's state: what it may send now.  ``accept`` checks a command against the
    state and moves it; the owner calls the ``on_*`` methods for what happens elsewhere."""

    def __init__(self) -> None:
        self.state = State.IDLE
        self.ringing: str | None = None  # the call offered to this tab

    def accept(self, cmd: Command) -> BadMessage | None:
        """None when ``cmd`` may run now (the state moved); else why not (no change)."""
        s = self.state
        if isinstance(cmd, Hello | Heartbeat | Candidate):
            return None
        if isinstance(cmd, Dial):
            if s is not State.IDLE:
                return BadMessage("busy", "finish the call in progress first")
            self.state = State.DIALING
            return None
        if isinstance(cmd, Answer | Decline):
            if s is not State.RINGING or cmd.call != self.ringing:
                return BadMessage("not_ringing", "no such call is ringing on this tab")
            self.state = State.CONNECTING if isinstance(cmd, Answer) else State.IDLE
            if isinstance(cmd, Decline):
                self.ringing = None
            return None
        if isinstance(cmd, Hangup):
            if s is State.IDLE:
                return BadMessage("no_call", "there is no call to hang up")
            return None
        if isinstance(cmd, Dtmf | Hold | Transfer):
            if s is not State.IN_CALL:
                return BadMessage("no_call", "keypad and hold work once the call is connected")
            return None
        return BadMessage("unknown_type", "unknown command")

    # -- what happens elsewhere ---------------------------------------------------------------
    def on_ring(self, call: str) -> bool:
        """An incoming call wants this tab; False when it is busy (then it is not rung)."""
        if self.state is not State.IDLE:
            return False
        self.state, self.ringing = State.RINGING, call
        return True

    def on_ring_over(self, call: str) -> None:
        if self.ringing == call and self.state is State.RINGING:
            self.state, self.ringing = State.IDLE, None

    def on_connected(self) -> None:
        self.state = State.IN_CALL

    def on_ended(self) -> None:
        self.state, self.ringing = State.IDLE, None
