"""Put one local file into the object store: one PUT when small, multipart when large.

Each request carries the sha256 of its bytes, which the store checks; the ETags it answers are
compared with the MD5 we computed from the same bytes, and a HEAD confirms the size.  A failed
multipart upload is aborted so no orphan parts are left behind.  File reads and hashing run in
a worker thread.
"""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass
from pathlib import Path

from salvesti.plugins.sink_s3.client import S3Client, S3Error, S3Unavailable

MIB = 1 << 20


@dataclass(frozen=True)
class FileDigest:
    bytes: int
    sha256: str


def digest(path: Path) -> FileDigest:
    """Size and sha256 of a file (blocking)."""
    h = hashlib.sha256()
    size = 0
    with open(path, "rb") as fh:
        while block := fh.read(MIB):
            h.update(block)
            size += len(block)
    return FileDigest(size, h.hexdigest())


def _read_part(path: Path, offset: int, size: int) -> tuple[bytes, str, str]:
    with open(path, "rb") as fh:
        fh.seek(offset)
        data = fh.read(size)
    return data, hashlib.sha256(data).hexdigest(), hashlib.md5(data).hexdigest()


async def upload_file(
    client: S3Client,
    key: str,
    path: Path,
    *,
    expect: FileDigest,
    part_size: int = 8 * MIB,
    threshold: int = 16 * MIB,
) -> None:
    """Upload ``path`` to ``key``; raise :class:`S3Error` unless the store holds exactly ``expect``."""
    meta = {"sha256": expect.sha256}
    if expect.bytes <= threshold:
        data, sha, md5 = await asyncio.to_thread(_read_part, path, 0, expect.bytes + 1)
        if len(data) != expect.bytes or sha != expect.sha256:
            raise S3Error(f"{path} changed since it was hashed")
        etag = await client.put_object(key, data, sha256=sha, meta=meta)
        _check_etag(key, etag, md5)
    else:
        await _multipart(client, key, path, expect, part_size, meta)
    head = await client.head_object(key)
    if head is None or head["bytes"] != expect.bytes:
        raise S3Unavailable(f"{key}: the store holds {head and head['bytes']} bytes, not {expect.bytes}")


async def _multipart(
    client: S3Client, key: str, path: Path, expect: FileDigest, part_size: int, meta: dict[str, str]
) -> None:
    upload_id = await client.create_multipart(key, meta=meta)
    try:
        etags: list[str] = []
        md5s: list[bytes] = []
        whole = hashlib.sha256()
        for number, offset in enumerate(range(0, expect.bytes, part_size), start=1):
            data, sha, md5 = await asyncio.to_thread(_read_part, path, offset, part_size)
            whole.update(data)
            etag = await client.upload_part(key, upload_id, number, data, sha)
            _check_etag(key, etag, md5)
            etags.append(etag)
            md5s.append(bytes.fromhex(md5))
        if whole.hexdigest() != expect.sha256:
            raise S3Error(f"{path} changed since it was hashed")
        final = await client.complete_multipart(key, upload_id, etags)
        combined = hashlib.md5(b"".join(md5s)).hexdigest() + f"-{len(md5s)}"
        if final and "-" in final:
            _check_etag(key, final, combined)
    except BaseException:
        try:
            await client.abort_multipart(key, upload_id)
        except S3Error:
            pass  # the store is down; its own lifecycle rules clean incomplete uploads
        raise


def _check_etag(key: str, etag: str, md5: str) -> None:
    if etag and etag != md5:
        raise S3Error(f"{key}: the store answered ETag {etag}, the bytes sent have MD5 {md5}")
