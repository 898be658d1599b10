"""Free space in the recordings' folder against how much is recorded per day and how long it is kept.

The estimate is deliberately simple and errs on the safe side: recordings made in the last
seven days (their ``bytes``) averaged per day, and the free space divided by that is how many
more days fit.  Retention deletes old recordings, so a disk that holds ``days`` of the
longest rule's recordings on top of today's never fills; one that holds fewer may.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from salvesti.core.call import Call
from salvesti.plugins.http.diagnostics.check import Check, State

#: The window the daily average is taken over.
WINDOW = timedelta(days=7)
#: Below this much free space a folder is reported whatever the estimate says.
LOW_BYTES = 500 * 1024**2
#: With no retention rule recordings are kept for ever: warn when fewer days than this fit.
FOREVER_DAYS = 90


@dataclass(frozen=True)
class DiskUsage:
    total: int
    used: int
    free: int


def disk_usage(folder: Path) -> DiskUsage:
    """``shutil.disk_usage`` of ``folder``, or of its nearest existing parent (a sink's
    folder is made with its first recording)."""
    path = folder
    while not path.exists() and path.parent != path:
        path = path.parent
    u = shutil.disk_usage(path)
    return DiskUsage(u.total, u.used, u.free)


def bytes_per_day(calls: Iterable[Call], now: datetime, window: timedelta = WINDOW) -> float | None:
    """Recorded bytes per day over ``window`` (shorter when the oldest call in it is younger,
    but at least a day); None when nothing was recorded in it."""
    since = now - window
    total, oldest = 0, None
    for call in calls:
        rec = call.recording
        if rec is None or not rec.bytes or call.started_at < since:
            continue
        total += rec.bytes
        oldest = call.started_at if oldest is None else min(oldest, call.started_at)
    if oldest is None:
        return None
    span = max(now - oldest, timedelta(days=1))
    return total / (min(span, window) / timedelta(days=1))


def disk_check(
    sink: str, folder: str, usage: DiskUsage, per_day: float | None, retention_days: int | None
) -> Check:
    days_left = usage.free / per_day if per_day else None
    details = {
        "sink": sink,
        "folder": folder,
        "total_bytes": usage.total,
        "free_bytes": usage.free,
        "per_day_bytes": round(per_day) if per_day is not None else None,
        "retention_days": retention_days,
        "days_left": int(days_left) if days_left is not None else None,
    }

    def result(state: State, advice: str) -> Check:
        return Check(f"disk.{sink}", "disk", state, "diag_disk_title", advice, details)

    if days_left is None:
        if usage.free < LOW_BYTES:
            return result(State.WARN, "diag_disk_low")
        return result(State.OK, "diag_disk_no_estimate")
    if days_left < 1:
        return result(State.FAIL, "diag_disk_full_soon")
    if usage.free < LOW_BYTES:
        return result(State.WARN, "diag_disk_low")
    if retention_days is None:
        if days_left < FOREVER_DAYS:
            return result(State.WARN, "diag_disk_forever")
        return result(State.OK, "diag_disk_ok_forever")
    if days_left < retention_days:
        return result(State.WARN, "diag_disk_short")
    return result(State.OK, "diag_disk_ok")
