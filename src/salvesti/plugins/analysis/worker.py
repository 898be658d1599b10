"""The worker-process side of analysis: build the steps once, then analyse one call per job.

Runs in processes of their own (``spawn``: nothing of the parent's event loop, sockets or
threads is inherited) at low priority (``os.nice``), so a transcription backlog takes the CPU
the calls leave over and never a packet from the media path.  Jobs and results are plain
picklable data; the parent writes results to the store.
"""

from __future__ import annotations

import ctypes
import logging
import multiprocessing
import os
import signal
import sys
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from salvesti.core.analyzers import AnalysisError, Analyzer, CallMedia

_LOGGER = logging.getLogger(__name__)

_STEPS: list[Analyzer] | None = None


@dataclass
class Job:
    call_id: str
    call: dict[str, Any]
    path: str
    notice_pcm: bytes | None = None
    notice_rate: int = 8000
    #: The data key of an encrypted recording (decrypted in this process's memory only).
    key: bytes | None = None


@dataclass
class JobResult:
    call_id: str
    ok: bool
    #: A failure that trying again cannot fix (missing or broken file).
    permanent: bool = False
    error: str | None = None
    result: dict[str, Any] = field(default_factory=dict)
    lines: list[dict[str, Any]] = field(default_factory=list)
    terms: set[str] = field(default_factory=set)
    flags: set[str] = field(default_factory=set)
    seconds: float = 0.0


def build_steps(conf: dict[str, Any]) -> list[Analyzer]:
    """Every registered step that has something to do with ``conf``, in order."""
    from salvesti.core.plugins import PluginManager

    plugins = PluginManager()
    plugins.load()
    steps: list[Analyzer] = []
    for spec in plugins.analyzers():
        step = spec.factory(conf)
        if step is not None:
            steps.append(step)
    return steps


def _die_with_parent() -> None:
    """Ask Linux to kill this worker when the service dies, even by SIGKILL or a crash.

    Without it a killed ``salvesti run`` leaves its workers behind, each holding a loaded
    speech model (hundreds of MB on a Pi) and nobody to hand results to.
    """
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    parent = multiprocessing.parent_process()
    if parent is not None and os.getppid() != parent.pid:  # it died before the prctl
        os._exit(1)


def init_worker(conf: dict[str, Any], nice: int) -> None:
    """Process initializer: lower our priority, stay offline, build the steps."""
    global _STEPS
    _die_with_parent()
    if nice:
        try:
            os.nice(nice)
        except OSError:
            pass
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    _STEPS = build_steps(conf)


def analyse(job: Job, steps: list[Analyzer]) -> JobResult:
    """Run ``steps`` on one call's recording (in this process)."""
    from salvesti.plugins.analysis.media import read_stereo

    started = time.perf_counter()
    try:
        rate, left, right = read_stereo(job.path, job.key)
        notice = None
        if job.notice_pcm:
            notice = np.frombuffer(job.notice_pcm, dtype="<i2")
            if job.notice_rate != rate:
                notice = _resample(notice, job.notice_rate, rate)
        media = CallMedia(call=job.call, rate=rate, outside=left, agent=right, notice_pcm=notice)
        media.notice_span = _reported_notice_span(job.call, notice, rate)
        for step in steps:
            step.analyze(media)
    except AnalysisError as err:
        return JobResult(job.call_id, ok=False, permanent=True, error=str(err))
    except MemoryError:
        return JobResult(job.call_id, ok=False, error="out of memory")
    media.result.setdefault("trackers", [])
    media.result["flags"] = sorted(media.flags)
    media.result["duration_s"] = round(media.duration_s, 3)
    return JobResult(
        job.call_id,
        ok=True,
        result=media.result,
        lines=[line.to_json() for line in media.transcript],
        terms=set(media.terms),
        flags=set(media.flags),
        seconds=time.perf_counter() - started,
    )


def run_job(job: Job) -> JobResult:
    """The function the process pool runs."""
    global _STEPS
    if _STEPS is None:
        _STEPS = build_steps({})
    try:
        return analyse(job, _STEPS)
    except Exception as err:  # a bug in a step: the job is retried, the worker stays up
        _LOGGER.exception("analysis of %s failed", job.call_id)
        return JobResult(job.call_id, ok=False, error=f"{type(err).__name__}: {err}")


def _reported_notice_span(
    call: dict[str, Any], notice: np.ndarray | None, rate: int
) -> tuple[float, float] | None:
    """Where the source says the notice played (before the analysis looks for itself)."""
    info = call.get("notice") or {}
    if notice is None or not info.get("played") or not info.get("played_at"):
        return None
    from datetime import datetime

    try:
        played = datetime.fromisoformat(info["played_at"])
        start = datetime.fromisoformat(call.get("answered_at") or call["started_at"])
    except (KeyError, ValueError, TypeError):
        return None
    offset = max(0.0, (played - start).total_seconds())
    return (offset, offset + notice.size / rate)


def _resample(pcm: np.ndarray, src: int, dst: int) -> np.ndarray:
    n_out = round(pcm.size * dst / src)
    x = np.interp(np.arange(n_out) * (src / dst), np.arange(pcm.size), pcm.astype(np.float64))
    return np.clip(np.round(x), -32768, 32767).astype(np.int16)
