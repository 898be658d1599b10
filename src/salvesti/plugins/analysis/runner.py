"""The parent side of analysis: the queue in the store, worker processes, results back in.

The event loop only schedules: it claims due jobs, hands each to a process pool (``spawn``,
``os.nice``), and writes what comes back.  A job survives a restart (it is a row in the
store; one left ``running`` by a process that is gone goes back to the queue), a failure is
retried with exponential backoff, and a broken or missing file ends as ``failed`` with its
reason.  ``salvesti run`` (through :class:`~salvesti.plugins.analysis.engine.AnalysisEngine`)
and ``salvesti analysis run`` both drive this class.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import multiprocessing
import os
import socket
from collections.abc import Callable
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from salvesti.core import bus as events
from salvesti.core.call import Call
from salvesti.core.components import CallStore, NoticePlayer
from salvesti.plugins.analysis.models import resolve
from salvesti.plugins.analysis.worker import Job, JobResult, init_worker, run_job

_LOGGER = logging.getLogger(__name__)

_RECORDED = ("saved", "repaired")


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def claimer_alive(claimed_by: str) -> bool:
    """Is the process that claimed a job still running?  (Only this host's can be checked.)"""
    host, _, pid = claimed_by.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@dataclass
class Progress:
    done: int = 0
    failed: int = 0
    retrying: int = 0


class AnalysisRunner:
    """Claims jobs, runs them in worker processes, stores results, publishes events."""

    def __init__(
        self,
        *,
        store: CallStore,
        conf: dict[str, Any],
        data_dir: Path,
        config_dir: Path,
        notices: dict[str, NoticePlayer],
        notice_for: Callable[[Call], NoticePlayer | None],
        normalize: Callable[[str | None], str | None] = lambda n: n,
        bus: Any = None,
        now: Callable[[], datetime] | None = None,
        data_key: Callable[[Call], bytes | None] | None = None,
    ) -> None:
        self.store = store
        #: The data key of an encrypted recording (the worker decrypts it in memory).
        self.data_key = data_key or (lambda call: None)
        self.conf = conf
        self.data_dir = data_dir
        self.config_dir = config_dir
        self.notices = notices
        self.notice_for = notice_for
        self.bus = bus
        self.now = now or (lambda: datetime.now().astimezone())
        self.worker = worker_id()
        self.concurrency = int(conf.get("concurrency", 1))
        self.lines = {normalize(x) or x for x in conf.get("lines") or []} or None
        self._pool: concurrent.futures.ProcessPoolExecutor | None = None
        self._inflight: dict[str, asyncio.Future[JobResult]] = {}
        self.wake = asyncio.Event()
        self.progress = Progress()

    # -- what gets analysed -----------------------------------------------------------------
    def wants(self, call: Call) -> bool:
        """A finished call with a recording on an analysed line."""
        if call.in_progress or call.recording is None or call.recording.status not in _RECORDED:
            return False
        return self.lines is None or call.line in self.lines

    async def enqueue(self, call: Call, *, force: bool = False) -> bool:
        if not self.wants(call):
            return False
        queued = await self.store.analysis.enqueue(call.id, force=force)
        if queued:
            self.wake.set()
        return queued

    async def catch_up(self, since: datetime) -> int:
        """Queue recent calls that have a recording but were never queued: a crash between a
        recording's save and its queueing, or a call cut off and repaired at start (repairs
        happen before this integration listens).  Calls already queued or done are left alone."""
        from salvesti.core.components import CallQuery

        queued = 0
        for call in await self.store.list_calls(CallQuery(since=since, limit=0)):
            if self.wants(call):
                queued += await self.enqueue(call)
        return queued

    async def release_stale(self) -> int:
        return await self.store.analysis.release_stale(claimer_alive)

    # -- the pool -----------------------------------------------------------------------------
    def _worker_conf(self) -> dict[str, Any]:
        conf = dict(self.conf)
        if conf.get("transcription"):
            model = resolve(
                conf["transcription"]["model"], config_dir=self.config_dir, data_dir=self.data_dir
            )
            conf["_model_dir"] = str(model)
        return conf

    async def _executor(self) -> concurrent.futures.ProcessPoolExecutor:
        if self._pool is None:
            conf = await asyncio.to_thread(self._worker_conf)
            self._pool = concurrent.futures.ProcessPoolExecutor(
                max_workers=self.concurrency,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=init_worker,
                initargs=(conf, int(self.conf.get("nice", 10))),
            )
        return self._pool

    def close(self) -> None:
        """Stop the worker processes now (a job cut off stays queued for the next start)."""
        pool, self._pool = self._pool, None
        if pool is None:
            return
        processes = list(getattr(pool, "_processes", {}).values())  # the pool offers no kill
        pool.shutdown(wait=False, cancel_futures=True)
        for proc in processes:
            if proc.is_alive():
                proc.terminate()

    # -- running jobs ---------------------------------------------------------------------------
    async def _job(self, call_id: str) -> Job | JobResult:
        call = await self.store.get_call(call_id)
        if call is None or call.recording is None or call.recording.status not in _RECORDED:
            return JobResult(call_id, ok=False, permanent=True, error="the call has no recording any more")
        notice = self._notice(call)
        pcm = None
        rate = call.recording.sample_rate or 8000
        if notice is not None:
            try:
                pcm = await asyncio.to_thread(notice.pcm, rate)
            except Exception as err:  # the notice file went away: analyse without the check
                _LOGGER.warning("call %s: notice %s unreadable: %s", call_id, notice.id, err)
        try:
            key = await asyncio.to_thread(self.data_key, call)
        except Exception as err:  # no readable master key: say so, as for a missing file
            return JobResult(
                call_id, ok=False, permanent=True, error=f"the recording cannot be opened: {err}"
            )
        return Job(call_id, call.to_json(), call.recording.path, pcm, rate, key)

    def _notice(self, call: Call) -> NoticePlayer | None:
        name = call.notice.name
        if call.notice.played and name:
            for key, player in self.notices.items():
                if name in (key, getattr(player, "name", None)):
                    return player
        if call.notice.waived_reason:
            return None
        return self.notice_for(call)

    async def fill(self) -> int:
        """Claim due jobs for free slots and start them; returns how many started."""
        free = self.concurrency - len(self._inflight)
        if free <= 0:
            return 0
        claimed = await self.store.analysis.claim(self.worker, free)
        for call_id, attempts in claimed:
            job = await self._job(call_id)
            if isinstance(job, JobResult):
                await self._finish(job, attempts)
                continue
            pool = await self._executor()
            loop = asyncio.get_running_loop()
            future = loop.run_in_executor(pool, run_job, job)
            self._inflight[call_id] = future
            future.add_done_callback(lambda _f: self.wake.set())
            future.attempts = attempts  # type: ignore[attr-defined]
        return len(claimed)

    async def collect(self) -> list[JobResult]:
        """Store the results of finished jobs."""
        results = []
        for call_id, future in list(self._inflight.items()):
            if not future.done():
                continue
            del self._inflight[call_id]
            attempts = getattr(future, "attempts", 0)
            try:
                result = future.result()
            except BrokenProcessPool:
                self._pool = None  # a worker died (killed, out of memory): a new pool next time
                result = JobResult(call_id, ok=False, error="the analysis worker process died")
            except concurrent.futures.CancelledError:
                result = JobResult(call_id, ok=False, error="cancelled")
            except Exception as err:
                result = JobResult(call_id, ok=False, error=f"{type(err).__name__}: {err}")
            await self._finish(result, attempts)
            results.append(result)
        return results

    async def _finish(self, result: JobResult, attempts: int) -> None:
        if result.ok:
            kept = await self.store.analysis.save_result(
                result.call_id, result.result, result.lines, result.terms, result.flags
            )
            if not kept:
                return
            self.progress.done += 1
            _LOGGER.info("call %s: analysed in %.1f s", result.call_id, result.seconds)
            self._publish(events.ANALYSIS_DONE, result.call_id, "done", result.flags)
            if "notice_unverified" in result.flags:
                self._publish(events.NOTICE_UNVERIFIED, result.call_id, "done", result.flags)
            return
        retries = int(self.conf.get("retries", 3))
        error = result.error or "failed"
        if result.permanent or attempts >= retries:
            await self.store.analysis.fail(result.call_id, error)
            failed = True
        else:
            delay = float(self.conf.get("retry_backoff_s", 60)) * (2**attempts)
            at = self.now() + timedelta(seconds=delay)
            await self.store.analysis.retry_later(result.call_id, error, at)
            failed = False
        if failed:
            self.progress.failed += 1
            _LOGGER.warning("call %s: analysis failed: %s", result.call_id, error)
            self._publish(events.ANALYSIS_DONE, result.call_id, "failed", set(), error)
        else:
            self.progress.retrying += 1
            _LOGGER.info("call %s: analysis will be retried: %s", result.call_id, error)

    def _publish(
        self, name: str, call_id: str, status: str, flags: set[str], error: str | None = None
    ) -> None:
        if self.bus is not None:
            self.bus.publish(
                name, {"call_id": call_id, "status": status, "flags": sorted(flags), "error": error}
            )

    async def _wait(self, seconds: float) -> None:
        self.wake.clear()
        if any(f.done() for f in self._inflight.values()):
            return
        try:
            await asyncio.wait_for(self.wake.wait(), seconds)
        except TimeoutError:
            pass

    async def _seconds_to_next_due(self, cap: float) -> float:
        when = await self.store.analysis.next_due()
        if when is None:
            return cap
        return max(0.05, min(cap, (when - self.now()).total_seconds()))

    async def serve(self) -> None:
        """Forever (a hub task): work the queue as jobs come in and fall due."""
        while True:
            try:
                await self.collect()
                await self.fill()
                await self._wait(await self._seconds_to_next_due(30.0))
            except asyncio.CancelledError:
                raise
            except Exception:
                _LOGGER.exception("analysis scheduler error; going on in 5 s")
                await asyncio.sleep(5)

    async def drain(self, on_progress: Callable[[Progress], None] | None = None) -> Progress:
        """Work until no job is due and none is running (``salvesti analysis run``)."""
        while True:
            await self.collect()
            started = await self.fill()
            if on_progress is not None:
                on_progress(self.progress)
            if not self._inflight and not started:
                return self.progress
            await self._wait(1.0)

    async def requeue_inflight(self) -> None:
        """At stop: jobs still running go back to the queue (the next start resumes them)."""
        ids = list(self._inflight)
        self._inflight.clear()
        if not ids:
            return
        await self.store.analysis.requeue(ids)
