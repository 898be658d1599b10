"""Outbound calls through the device (``Dialer``): ``salvesti dial`` and ``POST /api/calls/dial``.

The profile's ``dial`` commands place the call (``{number}`` filled in).  How the answer
shows depends on the device, and the profile says which (``messages.dial_final_on_answer``):

- the final result of ``ATD`` waits for the answer (Quectel with ``+COLP=1``, V.253
  ``VCON``): ``OK``/``VCON`` is the answer, ``BUSY`` busy, ``NO ANSWER`` / ``NO CARRIER``
  no answer, anything else a failure;
- ``ATD`` answers ``OK`` at once (SIMCom): the answer is the ``VOICE CALL: BEGIN`` URC (or a
  ``+CLCC`` line of an outgoing call in state 0, active); ``BUSY``, ``NO ANSWER``,
  ``NO CARRIER`` or ``VOICE CALL: END`` before it end the attempt.

After the answer the callee hears the whole notice (it starts the recording, direction
``outbound``, left = the callee, right = what the callee heard), then, with an extension,
that phone rings and is bridged (``bridge.py``); without one the call is recorded until
hang-up.  No answer within ``dial_timeout`` seconds hangs up: ``no_answer``.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from salvesti.core.call import Call, Direction, Disposition, new_call_id
from salvesti.core.errors import SalvestiError
from salvesti.core.protocols.at import CommandDone, Urc

from .bridge import find_ringer

if TYPE_CHECKING:
    from .source import SerialAtSource

_LOGGER = logging.getLogger(__name__)
#: Hang-up reasons that mean the callee was busy / did not answer.
_BUSY = ("BUSY",)
_NO_ANSWER = ("NO ANSWER", "NO CARRIER", "VOICE CALL: END", "+CLCC state 6")


class DialError(SalvestiError):
    """The call cannot be placed now (line in use, device away, bad number, no notice)."""


def is_dial_answer(event: Any) -> bool:
    """A URC saying our outgoing call was answered (SIMCom-style devices)."""
    if not isinstance(event, Urc):
        return False
    if event.kind == "VOICE CALL":
        return bool(event.fields) and event.fields[0] == "BEGIN"
    if event.kind == "+CLCC":  # <idx>,<dir 0 = mobile originated>,<stat 0 = active>
        return len(event.fields) > 2 and event.fields[1] == "0" and event.fields[2] == "0"
    return False


def _dialable(number: str) -> str:
    cleaned = "".join(ch for ch in number if ch not in " -()./")
    body = cleaned[1:] if cleaned.startswith("+") else cleaned
    if not body or not all(ch.isdigit() or ch in "*#" for ch in body) or len(body) > 32:
        raise DialError(f"not a phone number: {number!r}")
    return cleaned


async def place_call(source: SerialAtSource, number: str, extension: str | None) -> Call:
    """Start an outbound call; returns once ``call_started`` is published."""
    dialled = _dialable(number)
    if not source.connected:
        raise DialError(f"{source.device} is not connected")
    if extension is not None and find_ringer(source.hub, [extension]) is None:
        raise DialError(f"extension {extension!r} is not an extension of any sip_trunk source")
    if source.call is not None:
        raise DialError(f"line {source.line} is in use")
    now = source.hub.now()
    call = Call(
        id=new_call_id(now),
        source=source.id,
        direction=Direction.OUTBOUND,
        line=source.line,
        remote_number=source.hub.normalize(dialled) or dialled,
        started_at=now,
    )
    if source.hub.notice_for(call) is None and not source.conf.get("no_notice"):
        raise DialError(f"no recording notice for outbound calls on line {source.line}")
    call.meta["profile"] = source.profile.name
    if extension:
        call.meta["dial_extension"] = extension
    source.call = call
    source.hangup_event = asyncio.Event()
    source.dial_answered = asyncio.Event()
    await source.hub.call_started(call)
    source._call_task = source.hub.create_task(_run(source, call, dialled, extension), f"{source.label} dial")
    return call


async def _dial(source: SerialAtSource, call: Call, dialled: str) -> Disposition | None:
    """Send the dial commands and wait for the answer; None when answered."""
    final_on_answer = bool(source.profile.messages.get("dial_final_on_answer"))
    for cmd in source.profile.dial_commands(dialled):
        result = await source.command(cmd)
        if isinstance(result, CommandDone) and result.ok:
            continue
        final = getattr(result, "final", "timeout")
        call.meta.setdefault("hangup", final)
        if final in _BUSY:
            return Disposition.BUSY
        if final in _NO_ANSWER or final == "timeout":
            return Disposition.NO_ANSWER
        call.meta["dial_failed"] = final
        return Disposition.FAILED
    if final_on_answer:
        return None
    timeout = float(source.conf.get("dial_timeout", 60.0))
    answered = asyncio.ensure_future(source.dial_answered.wait())
    hung_up = asyncio.ensure_future(source.hangup_event.wait())
    try:
        await asyncio.wait([answered, hung_up], timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (answered, hung_up):
            task.cancel()
        await asyncio.gather(answered, hung_up, return_exceptions=True)
    if source.dial_answered.is_set():
        return None
    if not source.hangup_event.is_set():
        call.meta.setdefault("hangup", "dial timeout")
        return Disposition.NO_ANSWER
    reason = call.meta.get("hangup", "")
    if reason in _BUSY:
        return Disposition.BUSY
    if reason == "device lost":
        return Disposition.FAILED
    return Disposition.NO_ANSWER


async def _run(source: SerialAtSource, call: Call, dialled: str, extension: str | None) -> None:
    disposition = Disposition.FAILED
    try:
        refused = await _dial(source, call, dialled)
        source.dial_answered = None
        if refused is not None:
            disposition = refused
            return
        await source.converse(call, [extension] if extension else [])
    finally:
        source.dial_answered = None
        if source.call is call:  # refused, or something failed before the answer
            await source._end(call, disposition, None, hangup=True)
