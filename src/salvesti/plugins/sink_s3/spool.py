"""The local spool: finished recordings that wait for the object store, and the retry loop.

A recording that could not be uploaded when its call ended stays on local disk under
``<data_dir>/spool/<sink id>/`` as ``<call id>.<ext>`` plus ``<call id>.json`` (what the
upload needs: key, sha256, the RecordingInfo to publish).  The JSON is written last and
atomically, so a file without one is a recording still in progress (or cut off by a crash).

:class:`SpoolWorker` retries the entries with capped exponential backoff (1, 2, 4 … 30 s), so a
recording reaches the store within about half a minute of it answering again.  Its ``sleep``
is injected: tests pass a fake clock and step the loop without waiting on the wall clock.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from salvesti.plugins.sink_s3.client import S3Error

_LOGGER = logging.getLogger(__name__)

BACKOFF_BASE = 1.0
BACKOFF_CAP = 30.0


def backoff(attempt: int, *, base: float = BACKOFF_BASE, cap: float = BACKOFF_CAP) -> float:
    """Seconds to wait before retry number ``attempt`` (0, 1, 2 …): doubling, capped."""
    return min(cap, base * (2 ** min(attempt, 30)))


@dataclass(frozen=True)
class SpoolEntry:
    """One finished recording waiting for upload."""

    call_id: str
    file: Path
    meta: dict[str, Any]

    @property
    def key(self) -> str:
        return str(self.meta["key"])


class Spool:
    """The spool folder of one sink."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def work_path(self, call_id: str, ext: str) -> Path:
        return self.folder / f"{call_id}.{ext}"

    def _meta_path(self, call_id: str) -> Path:
        return self.folder / f"{call_id}.json"

    def add(self, call_id: str, file: Path, meta: dict[str, Any]) -> SpoolEntry:
        """Mark ``file`` (already in the folder) as finished and waiting: write its JSON atomically."""
        meta = {**meta, "file": file.name}
        tmp = self._meta_path(call_id).with_suffix(".json.part")
        tmp.write_text(json.dumps(meta))
        os.replace(tmp, self._meta_path(call_id))
        return SpoolEntry(call_id, file, meta)

    def pending(self) -> list[SpoolEntry]:
        """Every finished entry, oldest first."""
        entries = []
        for meta_path in sorted(self.folder.glob("*.json"), key=lambda p: p.stat().st_mtime):
            try:
                meta = json.loads(meta_path.read_text())
            except (OSError, ValueError):
                _LOGGER.warning("spool %s: unreadable entry %s, skipped", self.folder, meta_path.name)
                continue
            entries.append(SpoolEntry(meta_path.stem, self.folder / meta["file"], meta))
        return entries

    def get(self, call_id: str) -> SpoolEntry | None:
        return next((e for e in self.pending() if e.call_id == call_id), None)

    def remove(self, call_id: str) -> bool:
        """Forget ``call_id``: its JSON and every file of it; True if anything was there."""
        gone = False
        for path in self.folder.glob(f"{call_id}.*"):
            path.unlink(missing_ok=True)
            gone = True
        return gone


#: Upload one entry and publish it; False when it cannot be finished yet (try again later).
Handler = Callable[[SpoolEntry], Awaitable[bool]]


class SpoolWorker:
    """Retries spooled entries until each is uploaded; backoff while the store does not answer."""

    def __init__(
        self,
        spool: Spool,
        handle: Handler,
        *,
        name: str,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
    ) -> None:
        self.spool = spool
        self.handle = handle
        self.name = name
        self.sleep = sleep
        self.attempt = 0
        self.last_error: str | None = None
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """Something was spooled: look now (if not sleeping off a failure)."""
        self._wake.set()

    async def run(self) -> None:
        """The loop (a hub task; cancelled at unload)."""
        while True:
            self._wake.clear()
            entries = await asyncio.to_thread(self.spool.pending)
            if not entries:
                self.attempt = 0
                await self._wake.wait()
                continue
            if await self._round(entries):
                self.attempt = 0
                continue
            delay = backoff(self.attempt)
            self.attempt += 1
            await self.sleep(delay)

    async def _round(self, entries: list[SpoolEntry]) -> bool:
        """Try each entry; True when every one is done (no need to back off)."""
        for entry in entries:
            try:
                if not await self.handle(entry):
                    return False
            except S3Error as err:
                if self.last_error != str(err):
                    _LOGGER.warning(
                        "%s: %d recording(s) waiting in the spool: %s", self.name, len(entries), err
                    )
                self.last_error = str(err)
                return False
            except Exception:
                _LOGGER.exception("%s: spooled recording of call %s failed", self.name, entry.call_id)
                return False
        if self.last_error is not None:
            _LOGGER.info("%s: the object store answers again; spool uploaded", self.name)
            self.last_error = None
        return True
