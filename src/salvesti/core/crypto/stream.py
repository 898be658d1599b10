"""A sealed recording answered as HTTP wants it: 200 or 206 with Content-Range, decrypted lazily.

Only the chunks a range touches are decrypted, a piece at a time in a worker thread, so a
player seeking in an hour-long call costs a second of AES, not the whole file.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass

from salvesti.core.crypto.access import parse_range
from salvesti.core.crypto.sealed import SealedFile

#: Bytes decrypted per worker-thread hop while streaming.
PIECE = 256 * 1024


@dataclass
class RecordingStream:
    """The shape of ``core.components.RecordingStream`` (the HTTP route reads these three)."""

    status: int
    headers: dict[str, str]
    chunks: AsyncIterator[bytes]


def stream_range(sealed: SealedFile, byte_range: str | None) -> RecordingStream:
    size = sealed.size
    headers = {"Content-Type": "audio/wav", "Accept-Ranges": "bytes"}
    try:
        span = parse_range(byte_range, size)
    except ValueError:
        return RecordingStream(416, {**headers, "Content-Range": f"bytes */{size}"}, _empty())
    if span is None:
        return RecordingStream(200, {**headers, "Content-Length": str(size)}, _body(sealed, 0, size))
    start, end = span
    headers |= {"Content-Range": f"bytes {start}-{end}/{size}", "Content-Length": str(end - start + 1)}
    return RecordingStream(206, headers, _body(sealed, start, end + 1))


async def _body(sealed: SealedFile, start: int, stop: int) -> AsyncIterator[bytes]:
    pos = start
    while pos < stop:
        piece = await asyncio.to_thread(sealed.read, pos, min(PIECE, stop - pos))
        if not piece:
            return
        yield piece
        pos += len(piece)


async def _empty() -> AsyncIterator[bytes]:
    for piece in ():
        yield piece
