"""Digest authentication: RFC test vectors, server/client round trips, real baresip credentials."""

from __future__ import annotations

from pathlib import Path

import pytest

from salvesti.core.protocols.sip.digest import (
    DigestResult,
    DigestServer,
    authorization_for,
    digest_response,
    parse_auth_header,
    pick_challenge,
)
from salvesti.core.protocols.sip.message import parse_message

GOLDEN_DIR = Path(__file__).parent / "golden"
PASSWORDS = {"101": "secret101", "Mufasa": "Circle of Life"}.get

# RFC 7616 §3.9.1: the challenge for both examples (qop offers auth and auth-int).
RFC7616_NONCE = "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v"
RFC7616_OPAQUE = "FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"
RFC7616_CNONCE = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ"


def rfc7616_challenge(algorithm: str) -> str:
    return (
        f'Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm={algorithm}, '
        f'nonce="{RFC7616_NONCE}", opaque="{RFC7616_OPAQUE}"'
    )


@pytest.mark.parametrize(
    ("algorithm", "expected"),
    [
        ("MD5", "8ca523f5e9506fed4657c9700eebdbec"),
        ("SHA-256", "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"),
    ],
)
def test_rfc7616_examples(algorithm: str, expected: str) -> None:
    auth = authorization_for(
        rfc7616_challenge(algorithm),
        method="GET",
        uri="/dir/index.html",
        username="Mufasa",
        password="Circle of Life",
        cnonce=RFC7616_CNONCE,
    )
    p = parse_auth_header(auth)
    assert p["response"] == expected
    assert (p["qop"], p["nc"], p["algorithm"], p["opaque"]) == ("auth", "00000001", algorithm, RFC7616_OPAQUE)
    assert (p["username"], p["realm"], p["uri"], p["cnonce"]) == (
        "Mufasa",
        "http-auth@example.org",
        "/dir/index.html",
        RFC7616_CNONCE,
    )


def test_rfc2617_example() -> None:
    challenge = (
        'Digest realm="testrealm@host.com", qop="auth,auth-int", '
        'nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41"'
    )
    auth = authorization_for(
        challenge,
        method="GET",
        uri="/dir/index.html",
        username="Mufasa",
        password="Circle Of Life",
        cnonce="0a4f113b",
    )
    assert parse_auth_header(auth)["response"] == "6629fae49393a05397450978507c4ef1"


def test_rfc2069_form_without_qop() -> None:
    # RFC 2069 / RFC 2617 §3.2.2.1 without qop: H(HA1:nonce:HA2).
    auth = authorization_for(
        'Digest realm="r", nonce="n"', method="REGISTER", uri="sip:r", username="u", password="p"
    )
    p = parse_auth_header(auth)
    assert "qop" not in p and "cnonce" not in p and "nc" not in p
    assert p["response"] == digest_response(
        algorithm="MD5", username="u", realm="r", password="p", method="REGISTER", uri="sip:r", nonce="n"
    )


def test_auth_int_only_when_it_is_all_that_is_offered() -> None:
    challenge = 'Digest realm="r", nonce="n", qop="auth-int"'
    auth = authorization_for(
        challenge, method="MESSAGE", uri="sip:r", username="u", password="p", body=b"hello", cnonce="c"
    )
    p = parse_auth_header(auth)
    assert p["qop"] == "auth-int"
    assert p["response"] == digest_response(
        algorithm="MD5", username="u", realm="r", password="p", method="MESSAGE", uri="sip:r", nonce="n",
        qop="auth-int", nc="00000001", cnonce="c", body=b"hello",
    )  # fmt: skip


def test_unknown_algorithm_is_refused() -> None:
    with pytest.raises(ValueError, match="unsupported digest algorithm 'SHA-1'"):
        digest_response(
            algorithm="SHA-1", username="u", realm="r", password="p", method="M", uri="u", nonce="n"
        )
    with pytest.raises(ValueError, match="unsupported digest algorithm 'SHA-1'"):
        DigestServer("r", algorithms=["SHA-1"])


def test_challenge_headers_follow_configured_order() -> None:
    server = DigestServer("salvesti", secret=b"k")
    md5, sha = server.challenge_headers(1000.0)
    assert md5.startswith('Digest realm="salvesti", nonce="') and md5.endswith(', algorithm=MD5, qop="auth"')
    assert sha.endswith(', algorithm=SHA-256, qop="auth"')
    assert parse_auth_header(md5)["nonce"] == parse_auth_header(sha)["nonce"]
    reordered = DigestServer("salvesti", algorithms=["SHA-256", "MD5"]).challenge_headers(1000.0, stale=True)
    assert ["SHA-256", "MD5"] == [parse_auth_header(c)["algorithm"] for c in reordered]
    assert all(parse_auth_header(c)["stale"] == "TRUE" for c in reordered)


@pytest.mark.parametrize("algorithm", ["MD5", "SHA-256", "MD5-sess", "SHA-256-sess", "SHA-512-256"])
def test_server_client_round_trip(algorithm: str) -> None:
    server = DigestServer("salvesti", algorithms=[algorithm], secret=b"k", nonce_ttl=300)
    [challenge] = server.challenge_headers(1000.0)
    auth = authorization_for(
        challenge, method="INVITE", uri="sip:200@pbx", username="101", password="secret101"
    )
    assert server.verify("INVITE", auth, PASSWORDS, 1010.0) == DigestResult(True, "101", False)
    # The same credentials on another method do not verify (HA2 covers the method).
    assert not server.verify("BYE", auth, PASSWORDS, 1010.0).ok
    # Expired nonce with right credentials: stale, so the phone retries silently.
    assert server.verify("INVITE", auth, PASSWORDS, 1301.0) == DigestResult(False, "101", True)


def test_unknown_user_and_wrong_password_look_the_same() -> None:
    server = DigestServer("salvesti", secret=b"k")
    challenge = server.challenge_headers(1000.0)[0]
    wrong = authorization_for(challenge, method="REGISTER", uri="sip:pbx", username="101", password="nope")
    ghost = authorization_for(challenge, method="REGISTER", uri="sip:pbx", username="999", password="nope")
    assert server.verify("REGISTER", wrong, PASSWORDS, 1001.0) == DigestResult(False)
    assert server.verify("REGISTER", ghost, PASSWORDS, 1001.0) == DigestResult(False)
    # Even an expired nonce does not tell a guesser that the user exists.
    assert server.verify("REGISTER", ghost, PASSWORDS, 5000.0) == DigestResult(False)


def _tamper(auth: str, key: str, value: str) -> str:
    p = parse_auth_header(auth)
    p.pop("scheme")
    p[key] = value
    return "Digest " + ", ".join(f'{k}="{v}"' for k, v in p.items())


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("realm", "other"),
        ("nonce", "0" * 64),
        ("nonce", "short"),
        ("algorithm", "SHA-512-256"),
        ("qop", "auth-int"),
        ("nc", ""),
        ("response", "0" * 32),
        ("username", ""),
    ],
)
def test_tampered_credentials_fail(key: str, value: str) -> None:
    server = DigestServer("salvesti", secret=b"k")
    auth = authorization_for(
        server.challenge_headers(1000.0)[0],
        method="REGISTER",
        uri="sip:pbx",
        username="101",
        password="secret101",
    )
    assert server.verify("REGISTER", auth, PASSWORDS, 1001.0).ok
    assert server.verify("REGISTER", _tamper(auth, key, value), PASSWORDS, 1001.0) == DigestResult(False)


def test_nonce_from_another_server_secret_fails() -> None:
    other = DigestServer("salvesti", secret=b"other")
    auth = authorization_for(
        other.challenge_headers(1000.0)[0],
        method="REGISTER",
        uri="sip:pbx",
        username="101",
        password="secret101",
    )
    assert not DigestServer("salvesti", secret=b"k").verify("REGISTER", auth, PASSWORDS, 1001.0).ok
    assert not DigestServer("salvesti").verify("REGISTER", "Basic dXNlcjpwdw==", PASSWORDS, 1001.0).ok


@pytest.mark.parametrize(
    ("name", "method"), [("baresip_register_auth.sip", "REGISTER"), ("baresip_invite_auth.sip", "INVITE")]
)
def test_real_baresip_credentials_verify(name: str, method: str) -> None:
    """baresip 1.0 answered challenges from a DigestServer with this fixed secret and clock."""
    msg = parse_message((GOLDEN_DIR / name).read_bytes())
    header = msg.headers.get("Authorization") or msg.headers.get("Proxy-Authorization")
    server = DigestServer("salvesti.test", algorithms=["MD5"], secret=b"salvesti-golden-secret")
    assert server.verify(method, header, {"101": "secret101"}.get, 1_700_000_001.0) == DigestResult(
        True, "101"
    )
    assert not server.verify(method, header, {"101": "secret102"}.get, 1_700_000_001.0).ok


def test_pick_challenge_prefers_sha256_from_a_real_trunk_shape() -> None:
    resp = parse_message((GOLDEN_DIR / "trunk_401_two_challenges.sip").read_bytes())
    values = resp.headers.get_all("WWW-Authenticate")
    assert len(values) == 2
    chosen = pick_challenge(values)
    p = parse_auth_header(chosen)
    # The second challenge has odd spacing around '=' and commas; it still parses.
    assert (p["algorithm"], p["realm"], p["nonce"], p["opaque"]) == (
        "SHA-256",
        "sip.example.ee",
        "a1b2c3d4e5",
        "xyz",
    )
    assert pick_challenge(values[:1]) == values[0]
    assert pick_challenge(['Digest realm="r", algorithm=AKAv1-MD5', 'Digest realm="r"']) == 'Digest realm="r"'
    assert (
        pick_challenge(['Digest realm="r", algorithm=AKAv1-MD5']) == 'Digest realm="r", algorithm=AKAv1-MD5'
    )
    with pytest.raises(ValueError):
        pick_challenge([])


def test_parse_auth_header_is_tolerant() -> None:
    assert parse_auth_header('Digest  username = "a\\"b" ,realm="r",nc=00000001  uri="sip:x"') == {
        "scheme": "Digest",
        "username": 'a"b',
        "realm": "r",
        "nc": "00000001",
        "uri": "sip:x",
    }
    assert parse_auth_header('Digest realm="unterminated') == {"scheme": "Digest", "realm": "unterminated"}
    assert parse_auth_header("") == {"scheme": ""}


def test_challenge_can_be_narrowed_for_one_peer() -> None:
    server = DigestServer("salvesti", algorithms=["MD5", "SHA-256"], secret=b"k")
    [only_md5] = server.challenge_headers(1000.0, algorithms=["md5"])
    assert parse_auth_header(only_md5)["algorithm"] == "MD5"
    # Never offers what the server was not configured to accept.
    assert server.challenge_headers(1000.0, algorithms=["SHA-512-256"]) == []


def test_request_uri_must_match_the_digest_uri() -> None:
    server = DigestServer("salvesti", secret=b"k")
    auth = authorization_for(
        server.challenge_headers(1000.0)[0],
        method="INVITE",
        uri="sip:200@pbx",
        username="101",
        password="secret101",
    )
    assert server.verify("INVITE", auth, PASSWORDS, 1001.0, request_uri="sip:200@PBX;user=phone").ok
    assert not server.verify("INVITE", auth, PASSWORDS, 1001.0, request_uri="sip:+3725551234@pbx").ok
    assert not server.verify("INVITE", auth, PASSWORDS, 1001.0, request_uri="urn:service:sos").ok


def test_nonce_count_replay_protection_is_opt_in() -> None:
    strict = DigestServer("salvesti", secret=b"k", check_nonce_count=True)
    lax = DigestServer("salvesti", secret=b"k")
    challenge = strict.challenge_headers(1000.0)[0]

    def auth(nc: int) -> str:
        return authorization_for(
            challenge, method="REGISTER", uri="sip:pbx", username="101", password="secret101", nc=nc
        )

    assert strict.verify("REGISTER", auth(1), PASSWORDS, 1001.0).ok
    assert not strict.verify("REGISTER", auth(1), PASSWORDS, 1002.0).ok  # replayed
    assert strict.verify("REGISTER", auth(2), PASSWORDS, 1003.0).ok
    assert not strict.verify("REGISTER", _tamper(auth(3), "nc", "zz"), PASSWORDS, 1003.0).ok
    # Phones that reuse nc=1 with a cached nonce keep working by default.
    assert lax.verify("REGISTER", auth(1), PASSWORDS, 1001.0).ok
    assert lax.verify("REGISTER", auth(1), PASSWORDS, 1002.0).ok
    # Old entries are pruned once their nonce has expired anyway.
    fresh = strict.challenge_headers(1400.0)[0]
    later = authorization_for(fresh, method="REGISTER", uri="sip:pbx", username="101", password="secret101")
    assert strict.verify("REGISTER", later, PASSWORDS, 1400.0).ok
    assert list(strict._last_nc) == [parse_auth_header(fresh)["nonce"]]
