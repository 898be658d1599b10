"""Copy one finished recording file into the target's S3 sink, byte for byte, and prove it arrived.

The bytes are not converted or decrypted: a sealed (encrypted) recording stays sealed, and
the call's ``bytes``/``sha256`` keep describing the stored file.  Before the upload the file
must still match the sha256 saved with the call (else it changed on disk: reported, not
copied).  An object already at the key with the same size and sha256 is a copy made by an
interrupted run; one with other content is a conflict and is left alone.  After the upload
the object is read back and hashed: the call is pointed at it only when that matches.
"""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass
from pathlib import Path

from salvesti.core.call import Call
from salvesti.migrate.target import Outcome
from salvesti.plugins.sink_s3.sink import S3Sink
from salvesti.plugins.sink_s3.upload import FileDigest, digest, upload_file

_CHUNK = 1 << 20


class RecordingProblem(Exception):
    """This call's recording cannot be copied as it is; the message says why."""


@dataclass(frozen=True)
class Placed:
    outcome: Outcome
    url: str
    bytes: int


class RecordingCopier:
    """Puts recordings into ``sink``'s bucket under its prefix and date folders."""

    def __init__(self, sink: S3Sink, *, dry_run: bool) -> None:
        self.sink = sink
        self.dry_run = dry_run

    def key(self, call: Call, file: Path) -> str:
        """The sink's key for the call, with the file's own name (its format and any sealing)."""
        return self.sink.key(call).rsplit("/", 1)[0] + "/" + file.name

    async def copy(self, call: Call, file: Path) -> Placed:
        rec = call.recording
        try:
            found = await asyncio.to_thread(digest, file)
        except OSError as err:
            raise RecordingProblem(f"{file} cannot be read: {err.strerror or err}") from None
        if rec is not None and rec.sha256 and found.sha256 != rec.sha256:
            raise RecordingProblem(f"{file} no longer matches the sha256 saved with the call")
        key = self.key(call, file)
        url = self.sink.url(key)
        head = await self.sink.client.head_object(key)
        if head is not None:
            same = head["bytes"] == found.bytes and head["meta"].get("sha256") == found.sha256
            return Placed("same" if same else "conflict", url, found.bytes)
        if not self.dry_run:
            await upload_file(
                self.sink.client, key, file, expect=found,
                part_size=self.sink.part_size, threshold=self.sink.threshold,
            )  # fmt: skip
            await self._read_back(key, found)
        return Placed("added", url, found.bytes)

    async def _read_back(self, key: str, expect: FileDigest) -> None:
        h, size = hashlib.sha256(), 0
        async with self.sink.client.request("GET", key, ok=(200,)) as resp:
            async for block in resp.content.iter_chunked(_CHUNK):
                h.update(block)
                size += len(block)
        if size != expect.bytes or h.hexdigest() != expect.sha256:
            await self.sink.client.delete_object(key)
            raise RecordingProblem(f"s3 object {key} read back differs from the file (deleted again)")
