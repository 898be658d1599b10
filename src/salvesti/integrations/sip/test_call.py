"""The test call flow (``core.test_call``): ring a phone, play it the notice, beep, record, hang up.

Read top to bottom like the flows in ``flows.py``, on the same phases:

1. ring every registration of the extension for :data:`salvesti.core.test_call.RING_SECONDS`
   with "Salvesti test" as the caller's name (``CallPhases.ring``; busy and no answer end the
   call as ``busy`` / ``no_answer``, as for any call);
2. on the answer the recording starts, with the phone as the recorded party: left = what the
   phone said, right = what it heard;
3. the phone hears the notice of the line it answers for (the extension's ``line``, else the
   first line that rings it, else the source's first line: what a caller on that line hears);
4. then a 1 kHz beep, then ``seconds`` of whatever the person says;
5. Salvesti hangs up; the call is finished and saved like any other.

One test call per extension at a time.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import TYPE_CHECKING, Any

import numpy as np

from salvesti.core import test_call
from salvesti.core.call import Call, Direction, Disposition
from salvesti.core.test_call import CALLER_NAME, META_KEY, TestCallRefused, TestTarget
from salvesti.integrations.sip.call import B2BCall, Leg
from salvesti.integrations.sip.phases import RATE, CallOver

if TYPE_CHECKING:
    from salvesti.integrations.sip.source import SipTrunkSource

_LOGGER = logging.getLogger(__name__)

#: The From user of a test call's INVITE (the display name is ``CALLER_NAME``).
CALLER_USER = "salvesti"


def beep(seconds: float = 0.4, hz: float = 1000.0, rate: int = RATE) -> bytes:
    """A ``hz`` tone of ``seconds`` with 10 ms ramps (no clicks), then 100 ms of silence."""
    n = int(seconds * rate)
    t = np.arange(n) / rate
    ramp = np.minimum(1.0, np.minimum(np.arange(n), np.arange(n)[::-1]) / (0.01 * rate))
    tone = (0.3 * 32767 * ramp * np.sin(2 * np.pi * hz * t)).astype("<i2")
    return tone.tobytes() + bytes(2 * rate // 10)


class TestCallFlows:
    """Mixed into ``flows.Flows``: the test call's start and its coroutine."""

    __test__ = False  # not a pytest class
    src: SipTrunkSource
    hub: Any
    label: str

    def __init__(self, source: SipTrunkSource) -> None:
        super().__init__(source)  # type: ignore[call-arg]
        #: The test call in progress per extension.
        self.testing: dict[str, B2BCall] = {}
        self._beep = beep()

    # -- what can be tested ----------------------------------------------------------------
    def test_targets(self) -> list[TestTarget]:
        now = time.monotonic()
        return [
            TestTarget(
                extension=user,
                name=conf.get("name"),
                registered=bool(self.src.registrar.bindings_for(user, now)),
                in_progress=user in self.testing,
            )
            for user, conf in self.src.extensions.items()
        ]

    def notice_line(self, extension: str) -> str | None:
        """The line whose notice the extension's user should hear."""
        src = self.src
        line = src.extensions.get(extension, {}).get("line")
        if line:
            return str(line)
        for candidate, users in src.inbound.items():
            if extension in users:
                return candidate
        return src.lines[0] if src.lines else None

    # -- starting --------------------------------------------------------------------------
    def start_test_call(self, extension: str, seconds: float) -> Call:
        """Check that the extension can be rung now, then ring it in the background."""
        src = self.src
        if extension not in src.extensions:
            raise TestCallRefused("unknown_extension", f"extension {extension} is not configured")
        if not src.b2bua.accepting:
            raise TestCallRefused("unavailable", f"{self.label} is shutting down")
        if not src.registrar.bindings_for(extension, time.monotonic()):
            raise TestCallRefused(
                "not_registered",
                f"extension {extension} is not registered: is the phone on and signed in to Salvesti?",
            )
        if extension in self.testing:
            raise TestCallRefused(
                "in_progress", f"a test call to extension {extension} is already in progress"
            )
        line = self.notice_line(extension)
        call = self._new_call(Direction.INTERNAL, None, None)  # type: ignore[attr-defined]
        rec = call.record
        rec.add_extension(extension)
        rec.meta[META_KEY] = True
        rec.meta["test"] = {"seconds": seconds, "notice_line": line}
        self.testing[extension] = call
        self._spawn(call, self._test_call(call, extension, seconds, line))  # type: ignore[attr-defined]
        assert call.task is not None
        call.task.add_done_callback(lambda _t: self._tested(extension, call))
        _LOGGER.info("%s: test call %s rings extension %s", self.label, rec.id, extension)
        return rec

    def _tested(self, extension: str, call: B2BCall) -> None:
        if self.testing.get(extension) is call:
            del self.testing[extension]

    # -- the call --------------------------------------------------------------------------
    async def _test_call(self, call: B2BCall, extension: str, seconds: float, line: str | None) -> None:
        rec = call.record
        await self.hub.call_started(rec)
        phone = await self.ring(  # type: ignore[attr-defined]
            call,
            [extension],
            caller=CALLER_USER,
            display=CALLER_NAME,
            prefer=None,
            ringback=False,
            remote=False,
            ring_seconds=test_call.RING_SECONDS,
        )
        assert isinstance(phone, Leg)
        rec.answered_at = self.hub.now()
        self.start_recording(call, phone, always=True)  # type: ignore[attr-defined]
        sip = rec.meta.setdefault("sip", {})
        sip["inside_call_id"] = phone.call_id
        if phone.codec:
            sip["inside_codec"] = phone.codec[1].name
        await self.hub.call_answered(rec)
        like = Call(id=rec.id, source=rec.source, direction=Direction.INBOUND, line=line,
                    remote_number=None, started_at=rec.started_at)  # fmt: skip
        await self.play_notice(call, like=like)  # type: ignore[attr-defined]
        await self._play(call, self._beep)
        await self._listen(call, seconds)
        raise CallOver(Disposition.ANSWERED, "test call done", "salvesti")

    async def _play(self, call: B2BCall, pcm: bytes) -> None:
        """Play ``pcm`` to the phone while the call's events keep being handled."""
        media = call.media
        if media is None:
            return
        task = asyncio.get_running_loop().create_task(media.play(pcm, RATE), name=f"{self.label} beep")
        task.add_done_callback(lambda t: call.post("beep_done", None, t))
        try:
            while True:
                ev = await call.next()
                if ev is None:
                    continue
                if ev.kind == "beep_done":
                    if not ev.data.cancelled() and ev.data.exception() is not None:
                        _LOGGER.warning(
                            "%s: call %s: beep failed: %s", self.label, call.record.id, ev.data.exception()
                        )
                    return
                self.common(call, ev)  # type: ignore[attr-defined]
        except BaseException:
            media.stop_playback()
            await asyncio.gather(task, return_exceptions=True)
            raise

    async def _listen(self, call: B2BCall, seconds: float) -> None:
        """Record for ``seconds``; the phone hanging up first ends the call as usual."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while (left := deadline - loop.time()) > 0:
            ev = await call.next(left)
            if ev is not None:
                self.common(call, ev)  # type: ignore[attr-defined]
