"""The data folder's lock: ``<data_dir>/salvesti.lock``, held by ``salvesti run`` for its life.

Why a lock and not a pid file: an ``fcntl`` lock dies with the process that holds it, so a
crash or a power cut never leaves a stale lock behind for someone to delete by hand, and
no pid can be reused by another program.  ``salvesti run`` holds it *shared* (several
processes on one data folder were allowed before this lock existed, and still are);
``salvesti restore`` takes it *exclusive*, so it refuses while anything runs on the folder
and no ``salvesti run`` can start half-way through a restore.  The file itself stays; it is
empty and safe to leave.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

LOCK_NAME = "salvesti.lock"


class DataDirBusy(RuntimeError):
    """Another process holds the data folder's lock in a way that excludes us."""


class DataLock:
    """One hold of ``<data_dir>/salvesti.lock``; release it with :meth:`release` (or ``with``)."""

    def __init__(self, data_dir: Path, *, exclusive: bool) -> None:
        self.path = Path(data_dir) / LOCK_NAME
        self.exclusive = exclusive
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, (fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH) | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            holder = "salvesti run is using it" if exclusive else "a restore is running"
            raise DataDirBusy(f"the data folder {self.path.parent} is in use: {holder}") from None
        self._fd: int | None = fd

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the descriptor drops the lock
            self._fd = None

    def __enter__(self) -> DataLock:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def hold_for_run(data_dir: Path) -> DataLock:
    """The shared hold ``salvesti run`` keeps while it records."""
    return DataLock(data_dir, exclusive=False)


def hold_for_restore(data_dir: Path) -> DataLock:
    """The exclusive hold a restore needs; raises :class:`DataDirBusy` while anything runs."""
    return DataLock(data_dir, exclusive=True)
