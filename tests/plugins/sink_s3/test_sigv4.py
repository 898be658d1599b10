"""SigV4 against the worked example in AWS's S3 documentation (GET /test.txt with a Range)."""

from __future__ import annotations

from datetime import UTC, datetime

from salvesti.plugins.sink_s3.sigv4 import EMPTY_SHA256, canonical_query, quote_key, sign


def test_aws_documented_get_object_example():
    headers = sign(
        "GET",
        "https://examplebucket.s3.amazonaws.com/test.txt",
        headers={"Range": "bytes=0-9"},
        payload_sha256=EMPTY_SHA256,
        access_key="AKIAIOSFODNN7EXAMPLE",
        secret_key="wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        region="us-east-1",
        now=datetime(2013, 5, 24, tzinfo=UTC),
    )
    assert headers["Authorization"] == (
        "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
        "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
        "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"
    )
    assert headers["x-amz-date"] == "20130524T000000Z"


def test_query_and_keys_are_encoded_once():
    assert canonical_query({"uploadId": "a/b+c", "partNumber": "2"}) == "partNumber=2&uploadId=a%2Fb%2Bc"
    assert quote_key("salvesti/2026/03/01/c 1+x.wav") == "salvesti/2026/03/01/c%201%2Bx.wav"
