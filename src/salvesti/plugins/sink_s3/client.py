"""A small S3 client on aiohttp: the calls the ``s3`` sink makes, path-style, SigV4-signed.

Failures are sorted the way the sink acts on them: :class:`S3Unavailable` (refused, timed out,
5xx) means "keep the recording in the spool and try again later"; :class:`S3Error` (4xx: bad
credentials, no such bucket) is a configuration problem, also retried but logged as such.
Every upload request carries the sha256 of its body (``x-amz-checksum-sha256``, signed), which
S3 and SeaweedFS check: bytes that differ from the ones we hashed are refused (400 BadDigest).
"""

from __future__ import annotations

import base64
import hashlib
import html
import re
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import aiohttp

from salvesti.plugins.sink_s3.sigv4 import EMPTY_SHA256, canonical_query, quote_key, sign


class S3Error(RuntimeError):
    """The object store answered, and refused (4xx)."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class S3Unavailable(S3Error):
    """The object store did not answer usefully: refused, timed out, or 5xx."""


@dataclass(frozen=True)
class S3Credentials:
    access_key: str
    secret_key: str
    region: str = "us-east-1"


_ETAG = re.compile(r"<ETag>([^<]+)</ETag>")
_UPLOAD_ID = re.compile(r"<UploadId>([^<]+)</UploadId>")
_CODE = re.compile(r"<Code>([^<]+)</Code>")


class S3Client:
    """Path-style requests to ``endpoint/bucket/key`` (works for AWS, MinIO, SeaweedFS, Garage)."""

    def __init__(
        self,
        endpoint: str,
        bucket: str,
        credentials: S3Credentials,
        *,
        timeout: float = 30.0,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.endpoint = endpoint.rstrip("/")
        self.bucket = bucket
        self.credentials = credentials
        self.timeout = aiohttp.ClientTimeout(total=None, connect=timeout, sock_read=timeout)
        self._now = now
        self._session: aiohttp.ClientSession | None = None

    def url(self, key: str = "") -> str:
        return f"{self.endpoint}/{self.bucket}" + (f"/{quote_key(key)}" if key else "")

    async def close(self) -> None:
        if self._session is not None:
            session, self._session = self._session, None
            await session.close()

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None:
            # auto_decompress off: a ranged body must reach the player byte for byte.
            self._session = aiohttp.ClientSession(timeout=self.timeout, auto_decompress=False)
        return self._session

    @asynccontextmanager
    async def request(
        self,
        method: str,
        key: str = "",
        *,
        query: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        body: bytes | None = None,
        body_sha256: str | None = None,
        ok: tuple[int, ...] = (200,),
    ) -> AsyncIterator[aiohttp.ClientResponse]:
        """One signed request; yields the response once its status is in ``ok``."""
        url = self.url(key)
        payload = body_sha256 or (EMPTY_SHA256 if not body else _sha256(body))
        signed = sign(
            method, url, headers=dict(headers or {}), payload_sha256=payload, query=query,
            access_key=self.credentials.access_key, secret_key=self.credentials.secret_key,
            region=self.credentials.region, now=self._now(),
        )  # fmt: skip
        full = url + ("?" + canonical_query(query) if query else "")
        try:
            async with self._http().request(method, full, headers=signed, data=body) as resp:
                if resp.status not in ok:
                    text = (await resp.read())[:2000].decode("utf-8", "replace")
                    code = _CODE.search(text)
                    what = f"{method} {self.bucket}/{key}: HTTP {resp.status}" + (
                        f" {code.group(1)}" if code else ""
                    )
                    kind = S3Unavailable if resp.status >= 500 else S3Error
                    raise kind(what, resp.status)
                yield resp
        except (aiohttp.ClientConnectionError, aiohttp.ClientPayloadError, TimeoutError) as err:
            raise S3Unavailable(f"{method} {self.endpoint}: {type(err).__name__}: {err}") from err

    # -- objects ---------------------------------------------------------------------------
    async def put_object(self, key: str, body: bytes, *, sha256: str, meta: Mapping[str, str]) -> str:
        """Upload ``body`` in one request; returns the ETag (the MD5 of the body)."""
        headers = {f"x-amz-meta-{k}": v for k, v in meta.items()}
        headers["Content-Length"] = str(len(body))
        headers["x-amz-checksum-sha256"] = checksum_header(sha256)
        async with self.request("PUT", key, headers=headers, body=body, body_sha256=sha256) as resp:
            return resp.headers.get("ETag", "").strip('"')

    async def create_multipart(self, key: str, *, meta: Mapping[str, str]) -> str:
        headers = {f"x-amz-meta-{k}": v for k, v in meta.items()}
        async with self.request("POST", key, query={"uploads": ""}, headers=headers) as resp:
            found = _UPLOAD_ID.search(await resp.text())
        if not found:
            raise S3Error(f"POST {self.bucket}/{key}?uploads: no UploadId in the answer")
        return found.group(1)

    async def upload_part(self, key: str, upload_id: str, number: int, body: bytes, sha256: str) -> str:
        query = {"partNumber": str(number), "uploadId": upload_id}
        headers = {"Content-Length": str(len(body)), "x-amz-checksum-sha256": checksum_header(sha256)}
        async with self.request("PUT", key, query=query, headers=headers, body=body, body_sha256=sha256) as r:
            return r.headers.get("ETag", "").strip('"')

    async def complete_multipart(self, key: str, upload_id: str, etags: list[str]) -> str:
        parts = "".join(
            f"<Part><PartNumber>{n}</PartNumber><ETag>\"{etag}\"</ETag></Part>"
            for n, etag in enumerate(etags, start=1)
        )
        body = f"<CompleteMultipartUpload>{parts}</CompleteMultipartUpload>".encode()
        async with self.request("POST", key, query={"uploadId": upload_id}, body=body) as resp:
            text = await resp.text()
        if "<Error>" in text:  # S3 may answer 200 and put the error in the body
            code = _CODE.search(text)
            raise S3Unavailable(f"complete {self.bucket}/{key}: {code.group(1) if code else text[:200]}")
        found = _ETAG.search(text)
        return html.unescape(found.group(1)).strip('"') if found else ""

    async def abort_multipart(self, key: str, upload_id: str) -> None:
        async with self.request("DELETE", key, query={"uploadId": upload_id}, ok=(200, 204, 404)):
            pass

    async def head_object(self, key: str) -> dict[str, Any] | None:
        """Size, ETag and metadata of an object, or None when there is none."""
        async with self.request("HEAD", key, ok=(200, 404)) as resp:
            if resp.status == 404:
                return None
            meta = {k[11:].lower(): v for k, v in resp.headers.items() if k.lower().startswith("x-amz-meta-")}
            return {
                "bytes": int(resp.headers.get("Content-Length", "0")),
                "etag": resp.headers.get("ETag", "").strip('"'),
                "meta": meta,
            }

    async def delete_object(self, key: str) -> None:
        async with self.request("DELETE", key, ok=(200, 204, 404)):
            pass

    async def create_bucket(self) -> None:
        """Make the bucket (tests; a deployment creates it beforehand)."""
        async with self.request("PUT", ok=(200, 409)):
            pass


def checksum_header(sha256_hex: str) -> str:
    """The base64 form S3's ``x-amz-checksum-sha256`` wants."""
    return base64.b64encode(bytes.fromhex(sha256_hex)).decode()


def _sha256(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()
