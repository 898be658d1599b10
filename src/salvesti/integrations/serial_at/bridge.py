"""After the notice: ring the SIP ``extensions:`` and bridge the line to the one that answers.

The serial source knows nothing of SIP: it looks in ``hub.sources`` for a component that
is a ``core.components.ExtensionRinger`` and has these extensions, and asks it to ring them.
Meanwhile the caller on the line hears a ringback tone (425 Hz, 1 s on, 4 s off, as the
sip_trunk source plays to trunk callers), which the recording keeps on the right channel
because the caller heard it.  When a phone answers, the device's audio goes to the phone
(``InsideConnection.send``) and the phone's audio to the device and to the recording's
right channel; a hang-up on either side ends both.

No phone answers within ``extension_timeout`` (or all are busy, or none is registered):
the call stays ``answered`` (the line was answered and told it is recorded) and is kept as
a message until the caller hangs up; ``meta.bridge`` says why nobody took it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING, Any

import numpy as np

from salvesti.core.call import Call
from salvesti.core.components import ExtensionRinger, InsideConnection

if TYPE_CHECKING:
    from .media import DleMedia, PortMedia
    from .source import SerialAtSource

_LOGGER = logging.getLogger(__name__)


def ringback(rate: int) -> bytes:
    """One cadence of the European ringback: 425 Hz for 1 s, then 4 s of silence."""
    t = np.arange(rate) / rate
    tone = (0.25 * 32767 * np.sin(2 * np.pi * 425 * t)).astype("<i2")
    return tone.tobytes() + bytes(2 * 4 * rate)


def find_ringer(hub: Any, users: list[str]) -> ExtensionRinger | None:
    """The first source in the hub that can ring any of ``users`` (found by capability)."""
    for component in getattr(hub, "sources", {}).values():
        if isinstance(component, ExtensionRinger) and component.has_extensions(users):
            return component
    return None


async def _first(*aws: Any) -> None:
    """Wait until the first of ``aws`` finishes; the others are cancelled."""
    tasks = [asyncio.ensure_future(a) for a in aws]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            if not task.done():
                task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def ring_and_bridge(
    source: SerialAtSource, call: Call, media: PortMedia | DleMedia, users: list[str] | None = None
) -> None:
    """Ring ``users`` (default: the source's ``extensions``) and, if one answers, bridge it
    until either side hangs up."""
    users = list(source.conf.get("extensions") or []) if users is None else users
    hangup = source.hangup_event
    if not users or hangup.is_set():
        return
    if not media.full_duplex:
        call.meta["bridge"] = "half_duplex"
        _LOGGER.warning(
            "%s: call %s: a half-duplex modem cannot be bridged: kept as a message", source.label, call.id
        )
        return
    ringer = find_ringer(source.hub, users)
    if ringer is None:
        call.meta["bridge"] = "no_sip_source"
        _LOGGER.warning("%s: no sip_trunk source has extensions %s", source.label, ", ".join(users))
        return
    stop = asyncio.Event()
    tone = ringback(media.rate)

    async def ring_tone() -> None:
        for _ in range(1000):  # bounded: 1000 cadences is over an hour
            if stop.is_set() or not await media.play(tone, stop):
                return

    async def stop_on_hangup() -> None:
        await hangup.wait()
        stop.set()

    tone_task = asyncio.ensure_future(ring_tone())
    watch = asyncio.ensure_future(stop_on_hangup())
    ring = asyncio.ensure_future(
        ringer.ring_extensions(
            call,
            users,
            on_audio=media.send_pcm,
            ring_seconds=float(source.conf.get("extension_timeout", 30.0)),
            sample_rate=media.rate,
        )
    )
    try:
        await asyncio.wait([ring, watch], return_when=asyncio.FIRST_COMPLETED)
    finally:
        stop.set()
        watch.cancel()
        if not ring.done():  # the caller hung up while it rang: cancel the phones
            ring.cancel()
        await asyncio.gather(tone_task, watch, ring, return_exceptions=True)
    if ring.cancelled() or ring.exception() is not None:
        if ring.done() and not ring.cancelled():
            call.meta["bridge"] = "failed"
            _LOGGER.error("%s: call %s: ringing failed", source.label, call.id, exc_info=ring.exception())
        return
    result = ring.result()
    if not isinstance(result, InsideConnection):
        call.meta["bridge"] = str(result)
        _LOGGER.info("%s: call %s: extensions did not take it (%s): a message", source.label, call.id, result)
        return
    await _talk(source, call, media, result)


async def _talk(
    source: SerialAtSource, call: Call, media: PortMedia | DleMedia, conn: InsideConnection
) -> None:
    call.meta["bridge"] = "answered"
    await source.hub.call_updated(call)
    media.receiver.tap = conn.send
    try:
        await _first(conn.ended.wait(), source.hangup_event.wait())
        if conn.ended.is_set() and not source.hangup_event.is_set():
            call.meta.setdefault("hangup", "extension hung up")
            source.hangup_event.set()
    finally:
        media.receiver.tap = None
        with contextlib.suppress(Exception):
            await conn.hangup()
