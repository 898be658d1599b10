"""The ``analysis`` integration inside ``salvesti run``: queue each finished call, work the queue.

It subscribes to ``recording_saved`` and to nothing in the media path; the work happens in
worker processes (:mod:`salvesti.plugins.analysis.runner`).  At start, jobs that a stopped or
crashed process left ``running`` go back to the queue, and calls that ended while analysis
was off long ago are not touched (``salvesti analysis run --since`` takes that backlog on
purpose); recent calls that have a recording but no job (a crash between saving and queueing, a
call cut off and repaired at start) are queued.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from salvesti.core import bus as events
from salvesti.core.bus import Event
from salvesti.core.call import Call
from salvesti.core.crypto.access import is_sealed, keyring_of
from salvesti.core.crypto.sealed import SealedError
from salvesti.core.errors import SalvestiError
from salvesti.plugins.analysis.models import ModelNotFound
from salvesti.plugins.analysis.runner import AnalysisRunner

_LOGGER = logging.getLogger(__name__)

#: At start, calls this recent with a recording but no job are queued (older ones: analysis run).
CATCH_UP = timedelta(days=2)


def make_runner(hub: Any, conf: dict[str, Any]) -> AnalysisRunner:
    """A runner wired to a hub's store, notices and bus (also used by the CLI's bare hub)."""
    return AnalysisRunner(
        store=hub.store,
        conf=conf,
        data_dir=hub.data_dir,
        config_dir=hub.config_dir,
        notices=hub.notices,
        notice_for=hub.notice_for,
        normalize=hub.normalize,
        bus=hub.bus,
        now=hub.now,
        data_key=functools.partial(_data_key, hub),
    )


def _data_key(hub: Any, call: Call) -> bytes | None:
    """The data key of an encrypted recording, None for a plain file (blocking: a keyring read)."""
    path = call.recording.path if call.recording is not None else ""
    if not path or not is_sealed(path):
        return None
    key = keyring_of(hub).data_key(call.id)
    if key is None:
        raise SealedError("its key was destroyed")
    return bytes(key)


class AnalysisEngine:
    """Implements ``Component``: set up after the store, sinks and notices."""

    def __init__(self, hub: Any, conf: dict[str, Any]) -> None:
        self.hub = hub
        self.conf = conf
        self.id = "analysis"
        self.runner: AnalysisRunner | None = None
        self._task: asyncio.Task[None] | None = None
        self._unsubscribe: Callable[[], None] | None = None

    @classmethod
    def from_config(cls, hub: Any, conf: dict[str, Any]) -> AnalysisEngine:
        return cls(hub, conf)

    async def async_setup(self) -> None:
        if self.hub.store is None:
            raise SalvestiError("analysis needs a store")
        runner = make_runner(self.hub, self.conf)
        try:
            await asyncio.to_thread(runner._worker_conf)  # the model is there before the first call
        except ModelNotFound as err:
            raise SalvestiError(f"analysis.transcription.model: {err}") from None
        released = await runner.release_stale()
        if released:
            _LOGGER.info("analysis: %d job(s) cut off by a stop resume now", released)
        caught = await runner.catch_up(self.hub.now() - CATCH_UP)
        if caught:
            _LOGGER.info(
                "analysis: %d recent call(s) were never queued (a crash or a repair); queued now", caught
            )
        self.runner = runner
        self._unsubscribe = self.hub.bus.subscribe(events.RECORDING_SAVED, self._on_saved)
        self._task = self.hub.create_task(runner.serve(), name="analysis scheduler")

    async def _on_saved(self, event: Event) -> None:
        if self.runner is None:
            return
        try:
            call = Call.from_json(event.data)
            await self.runner.enqueue(call)
        except Exception:
            _LOGGER.exception("analysis: could not queue call %s", event.data.get("id"))

    async def async_unload(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        if self.runner is not None:
            self.runner.close()
            try:
                await self.runner.requeue_inflight()
            except Exception:
                _LOGGER.exception("analysis: could not put running jobs back in the queue")
            self.runner = None
