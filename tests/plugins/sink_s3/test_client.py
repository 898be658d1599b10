"""The S3 client against a real SeaweedFS with authentication on."""

from __future__ import annotations

import hashlib

import pytest

from salvesti.plugins.sink_s3.client import S3Client, S3Credentials, S3Error


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


async def test_put_head_get_range_delete(weed):
    client = weed.client()
    try:
        body = bytes(range(256)) * 40
        etag = await client.put_object("t/a b.bin", body, sha256=sha(body), meta={"sha256": sha(body)})
        assert etag == hashlib.md5(body).hexdigest()
        head = await client.head_object("t/a b.bin")
        assert head is not None and head["bytes"] == len(body) and head["meta"]["sha256"] == sha(body)
        async with client.request("GET", "t/a b.bin", headers={"Range": "bytes=10-19"}, ok=(206,)) as r:
            assert await r.read() == body[10:20]
            assert r.headers["Content-Range"] == f"bytes 10-19/{len(body)}"
        await client.delete_object("t/a b.bin")
        assert await client.head_object("t/a b.bin") is None
    finally:
        await client.close()


async def test_a_wrong_secret_is_refused(weed):
    client = S3Client(weed.endpoint, "recordings", S3Credentials(weed.credentials.access_key, "wrong"))
    try:
        with pytest.raises(S3Error, match="HTTP 403") as err:
            await client.put_object("x", b"x", sha256=sha(b"x"), meta={})
        assert err.value.status == 403 and type(err.value) is S3Error
    finally:
        await client.close()


async def test_a_body_that_is_not_the_hashed_one_is_refused(weed):
    client = weed.client()
    try:
        with pytest.raises(S3Error, match="BadDigest"):
            await client.put_object("bad", b"what was sent", sha256=sha(b"what was hashed"), meta={})
        assert await client.head_object("bad") is None
    finally:
        await client.close()
