"""AWS Signature Version 4 for S3 requests: pure functions, no I/O, the time passed in.

Why our own and not aiobotocore: the sink needs six S3 calls (PUT, GET with Range, HEAD,
DELETE, and the three multipart ones) on the aiohttp we already ship; botocore brings ~100 MB
of service models and its own retry and checksum policies that we would have to switch off to
keep control of spooling.  Signing is the only hard part, and it is this module, checked
against AWS's published example (tests/plugins/sink_s3/test_sigv4.py).

Spec: https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from datetime import UTC, datetime
from urllib.parse import quote, urlsplit

EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
ALGORITHM = "AWS4-HMAC-SHA256"


def _uri_encode(text: str, *, slash: bool) -> str:
    return quote(text, safe="-_.~" + ("/" if not slash else ""))


def canonical_query(query: Mapping[str, str]) -> str:
    """Sorted ``key=value`` pairs, both URI-encoded (``/`` too)."""
    return "&".join(
        f"{_uri_encode(k, slash=True)}={_uri_encode(v, slash=True)}" for k, v in sorted(query.items())
    )


def sign(
    method: str,
    url: str,
    *,
    headers: Mapping[str, str],
    payload_sha256: str,
    access_key: str,
    secret_key: str,
    region: str,
    now: datetime,
    query: Mapping[str, str] | None = None,
    service: str = "s3",
) -> dict[str, str]:
    """The headers to send: ``headers`` plus host, x-amz-date, x-amz-content-sha256, Authorization.

    ``url`` has no query string (pass it as ``query``); its path is sent as written (S3 does
    not normalise paths), so callers quote keys once with :func:`quote_key`.
    """
    parts = urlsplit(url)
    stamp = now.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    day = stamp[:8]
    out = {k: v for k, v in headers.items()}
    out["host"] = parts.netloc
    out["x-amz-date"] = stamp
    out["x-amz-content-sha256"] = payload_sha256
    lowered = {k.lower(): " ".join(str(v).strip().split()) for k, v in out.items()}
    signed = ";".join(sorted(lowered))
    canonical = "\n".join(
        [
            method.upper(),
            parts.path or "/",
            canonical_query(query or {}),
            "".join(f"{k}:{lowered[k]}\n" for k in sorted(lowered)),
            signed,
            payload_sha256,
        ]
    )
    scope = f"{day}/{region}/{service}/aws4_request"
    to_sign = "\n".join([ALGORITHM, stamp, scope, hashlib.sha256(canonical.encode()).hexdigest()])
    key = _hmac(f"AWS4{secret_key}".encode(), day)
    for part in (region, service, "aws4_request"):
        key = _hmac(key, part)
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    out["Authorization"] = (
        f"{ALGORITHM} Credential={access_key}/{scope}, SignedHeaders={signed}, Signature={signature}"
    )
    return out


def quote_key(key: str) -> str:
    """An object key as it goes in the URL path (each byte encoded once, ``/`` kept)."""
    return _uri_encode(key, slash=False)


def _hmac(key: bytes, msg: str) -> bytes:
    return hmac.new(key, msg.encode(), hashlib.sha256).digest()
