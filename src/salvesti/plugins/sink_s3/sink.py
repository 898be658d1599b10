"""The ``s3`` recording sink: calls recorded to local disk, then put into an object store.

During the call the sink writes a crash-safe WAV into its spool folder (``<data_dir>/spool/
<id>/``), exactly as the local sink would.  When the call ends the file is converted if
configured, hashed, and uploaded to ``prefix + YYYY/MM/DD/<call id>.<ext>``; the recording's
``path`` is then ``s3://BUCKET/KEY`` and the local copy goes.  When the store does not answer,
the file stays in the spool, the call is saved at once with ``recording.status = "spooled"``
and its local path, and :class:`~salvesti.plugins.sink_s3.spool.SpoolWorker` uploads it later
and updates the call object (publishing ``recording_saved`` then).  Playback streams from the
store in byte ranges (:class:`~salvesti.core.components.RecordingReader`).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from salvesti.core import bus as events
from salvesti.core.audio.convert import FORMATS, convert_wav
from salvesti.core.audio.wav import WavWriter, repair_wav
from salvesti.core.call import Call, RecordingInfo
from salvesti.core.components import RecordingStream
from salvesti.core.errors import SalvestiError
from salvesti.plugins.sink_s3.client import S3Client, S3Credentials, S3Error, S3Unavailable
from salvesti.plugins.sink_s3.spool import Spool, SpoolEntry, SpoolWorker
from salvesti.plugins.sink_s3.upload import MIB, FileDigest, digest, upload_file

_LOGGER = logging.getLogger(__name__)

SPOOLED = "spooled"
_STREAM_CHUNK = 64 * 1024


def _still_spooled(call: Call) -> bool:
    return call.recording is not None and call.recording.status == SPOOLED


class S3Sink:
    """Implements ``RecordingSink`` and ``RecordingReader`` on an S3-compatible bucket."""

    def __init__(self, hub: Any, conf: dict[str, Any]) -> None:
        self.hub = hub
        self.id: str = conf["id"]
        self.format: str = conf.get("format", "wav")
        self.bucket: str = conf["bucket"]
        self.prefix: str = conf.get("prefix", "")
        self.part_size = conf.get("part_size_mib", 8) * MIB
        self.threshold = conf.get("multipart_threshold_mib", 16) * MIB
        self.client = S3Client(
            conf["endpoint"],
            self.bucket,
            S3Credentials(conf["access_key"], conf["secret_key"], conf.get("region", "us-east-1")),
            timeout=conf.get("timeout", 30.0),
        )
        # Bounds memory (a single PUT reads its whole file) and requests at the store when many
        # calls end at once; the spool worker's uploads go one by one and do not take a slot.
        self._uploads = asyncio.Semaphore(conf.get("max_uploads", 8))
        # Set when an upload finds the store unavailable, cleared by the next success: calls
        # queued behind a hanging store go to the spool at once instead of timing out in turn.
        self._down: S3Unavailable | None = None
        self.spool = Spool(Path(hub.data_dir) / "spool" / self.id)
        self.queue_name = f"spool:{self.id}"
        self.worker = SpoolWorker(self.spool, self._upload_spooled, name=repr(self))
        self._task: asyncio.Task[None] | None = None

    @classmethod
    def from_config(cls, hub: Any, conf: dict[str, Any]) -> S3Sink:
        return cls(hub, conf)

    def __repr__(self) -> str:
        return f"s3({self.id})"

    async def queue_length(self) -> int:
        """Recordings waiting in the local spool for the object store: a ``QueueReporter``."""
        if not self.spool.folder.is_dir():
            return 0
        return len(await asyncio.to_thread(self.spool.pending))

    # -- lifecycle ---------------------------------------------------------------------------
    async def async_setup(self) -> None:
        """Make the spool folder and start the worker (it uploads what a previous run left)."""
        try:
            await asyncio.to_thread(self.spool.folder.mkdir, parents=True, exist_ok=True)
        except OSError as err:
            raise SalvestiError(f"{self!r}: cannot create spool folder {self.spool.folder}: {err}") from err
        self._task = self.hub.create_task(self.worker.run(), name=f"{self!r} spool")
        self.worker.wake()

    async def async_unload(self) -> None:
        if self._task is not None:
            task, self._task = self._task, None
            task.cancel()
            await asyncio.wait([task])  # waits for the worker without swallowing our own cancellation
        await self.client.close()

    # -- naming ------------------------------------------------------------------------------
    @property
    def ext(self) -> str:
        return "wav" if self.format == "wav" else FORMATS[self.format][2]

    def key(self, call: Call) -> str:
        tz = getattr(self.hub, "tz", None)
        started = call.started_at.astimezone(tz) if tz is not None else call.started_at
        return f"{self.prefix}{started:%Y}/{started:%m}/{started:%d}/{call.id}.{self.ext}"

    def url(self, key: str) -> str:
        return f"s3://{self.bucket}/{key}"

    def key_of(self, path: str | None) -> str | None:
        """The object key of ``s3://BUCKET/KEY`` in this sink's bucket, else None."""
        head = f"s3://{self.bucket}/"
        return path[len(head) :] if path and path.startswith(head) else None

    # -- RecordingSink -----------------------------------------------------------------------
    def open(self, call: Call, sample_rate: int) -> WavWriter:
        """Create the call's WAV in the spool (small, blocking: a 44-byte header)."""
        self.spool.folder.mkdir(parents=True, exist_ok=True)
        return WavWriter(self.spool.work_path(call.id, "wav"), sample_rate, channels=2)

    async def finalize(self, call: Call, writer: Any) -> RecordingInfo:
        def close() -> Path:
            writer.close(fsync=True)
            return self._convert(call, writer.path)

        final = await asyncio.to_thread(close)
        info = RecordingInfo(
            path="", format=self.format, sample_rate=writer.sample_rate, channels=2,
            duration_s=round(writer.duration_s, 3), status="saved",
        )  # fmt: skip
        return await self._store(call, final, info)

    def _convert(self, call: Call, wav: Path) -> Path:
        final = self.spool.work_path(call.id, self.ext)
        if final != wav:
            tmp = final.with_name(final.name + ".part")
            convert_wav(wav, tmp, self.format)
            os.replace(tmp, final)
            wav.unlink()
        return final

    async def _store(self, call: Call, file: Path, info: RecordingInfo) -> RecordingInfo:
        """Upload now; if the store does not answer, spool and say where the recording is."""
        found = await asyncio.to_thread(digest, file)
        info = dataclasses.replace(info, bytes=found.bytes, sha256=found.sha256)
        key = self.key(call)
        try:
            async with self._uploads:
                if self._down is not None:  # the spool worker tries again and clears it
                    raise S3Unavailable(f"not tried, the last upload failed: {self._down}")
                await self._upload(key, file, found)
        except S3Error as err:
            _LOGGER.warning("%r: call %s: store unavailable, recording spooled: %s", self, call.id, err)
            meta = {"key": key, "info": dataclasses.asdict(dataclasses.replace(info, path=self.url(key)))}
            await asyncio.to_thread(self.spool.add, call.id, file, meta)
            self.worker.wake()
            return dataclasses.replace(
                info, path=str(file), status=SPOOLED, note=f"waiting for the object store: {err}"
            )
        await asyncio.to_thread(file.unlink, missing_ok=True)
        return dataclasses.replace(info, path=self.url(key))

    async def _upload(self, key: str, file: Path, expect: FileDigest) -> None:
        """``upload_file`` with this sink's sizes, keeping note of whether the store answers."""
        try:
            await upload_file(
                self.client, key, file, expect=expect, part_size=self.part_size, threshold=self.threshold
            )
        except S3Unavailable as err:
            self._down = err
            raise
        self._down = None

    async def _upload_spooled(self, entry: SpoolEntry) -> bool:
        """Upload one spooled recording and put its final place on the call object."""
        store = getattr(self.hub, "store", None)
        call = await store.get_call(entry.call_id) if store is not None else None
        rec = call.recording if call is not None else None
        if call is None or rec is None:
            return False  # the hub has not saved the call yet
        if rec.status == "deleted":
            # deleted meanwhile (retention on any node): also an object a last round put up
            await self.client.delete_object(entry.key)
            await asyncio.to_thread(self.spool.remove, entry.call_id)
            return True
        if self.key_of(rec.path) == entry.key:
            await asyncio.to_thread(self.spool.remove, entry.call_id)  # done before a crash
            return True
        if rec.status != SPOOLED:
            return False
        info = RecordingInfo(**entry.meta["info"])
        expect = FileDigest(int(info.bytes or 0), str(info.sha256))
        await self._upload(entry.key, entry.file, expect)
        # Under the store's claim: a sweep on another node may have deleted the recording while
        # it went up, and writing the stale copy back would bring it back to life.
        async with store.claim_call(call.id, _still_spooled) as claim:
            if claim is None:
                return False  # being deleted or changed: the next round looks again
            call = claim.call
            call.recording = info
            await claim.save(call)
        await asyncio.to_thread(self.spool.remove, entry.call_id)
        _LOGGER.info("%r: call %s: spooled recording uploaded to %s", self, call.id, info.path)
        bus = getattr(self.hub, "bus", None)
        if bus is not None:
            bus.publish(events.RECORDING_SAVED, call.to_json())
        return True

    async def delete(self, call: Call) -> bool:
        """Remove the object (and any spooled copy)."""
        key = self.key_of(call.recording.path if call.recording is not None else None)
        if key is not None:
            await self.client.delete_object(key)
        spooled = await asyncio.to_thread(self.spool.remove, call.id)
        return key is not None or spooled

    async def repair(self, call: Call) -> RecordingInfo | None:
        """A crash cut the call off: fix its WAV in the spool and store it like a finished one."""
        entry = await asyncio.to_thread(self.spool.get, call.id)
        if entry is not None:  # finished and spooled before the crash; the worker uploads it
            info = RecordingInfo(**entry.meta["info"])
            return dataclasses.replace(info, path=str(entry.file), status=SPOOLED)
        wav = self.spool.work_path(call.id, "wav")
        if not wav.exists():
            return None
        rate = call.recording.sample_rate if call.recording is not None else 8000
        duration = await asyncio.to_thread(repair_wav, wav, sample_rate=rate, channels=2)
        final = await asyncio.to_thread(self._convert, call, wav)
        info = RecordingInfo(
            path="", format=self.format, sample_rate=rate, channels=2, duration_s=round(duration, 3),
            status="repaired",
        )  # fmt: skip
        return await self._store(call, final, info)

    # -- RecordingReader ---------------------------------------------------------------------
    @asynccontextmanager
    async def open_recording(
        self, call: Call, byte_range: str | None
    ) -> AsyncIterator[RecordingStream | None]:
        """Stream the object from the store, passing the Range through (the store answers 206)."""
        key = self.key_of(call.recording.path if call.recording is not None else None)
        if key is None:
            yield None  # still in the spool: a local file
            return
        headers = {"Range": byte_range} if byte_range else {}
        async with self.client.request("GET", key, headers=headers, ok=(200, 206, 416)) as resp:
            out = {k: resp.headers[k] for k in ("Content-Length", "Content-Range") if k in resp.headers}
            yield RecordingStream(resp.status, out, resp.content.iter_chunked(_STREAM_CHUNK))
