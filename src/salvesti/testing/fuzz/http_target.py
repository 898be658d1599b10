"""The HTTP API target: generated requests against a live :class:`~.http_box.HttpBox`.

Requests come from the OpenAPI document (plugins/http/openapi.py), so every documented
operation is reached, with path and query values and JSON bodies mutated from valid ones,
under one of six identities (no credentials, a made-up bearer, a forged session cookie,
agent, manager, admin). Two oracles: never a 5xx, and an operation the document secures
never answers 2xx or 3xx to a request without valid credentials (no auth bypass).
A request that takes longer than the deadline is a hang.
"""

from __future__ import annotations

import random
import re
import time
from dataclasses import dataclass
from urllib.parse import quote

import aiohttp

from salvesti.plugins.http.openapi import openapi_document

from .engine import Finding, Mutator, Report
from .http_box import HttpBox

#: Left out: the endless event stream and the WebSocket (their own tests), and, with valid
#: credentials, what would end the fuzz session itself (logout, deleting its users or tokens).
ENDLESS = {("GET", "/api/events"), ("GET", "/api/phone/ws")}
SELF_ENDING = {
    ("POST", "/api/auth/logout"),
    ("DELETE", "/api/users/{name}"),
    ("DELETE", "/api/tokens/{token_id}"),
}
_PLACEHOLDER = re.compile(r"\{[^}]+\}")
ANONYMOUS = ("none", "bad-bearer", "bad-cookie")
IDENTITIES = (*ANONYMOUS, "agent", "manager", "admin")

VALUE_SEEDS = [
    b"1",
    b"101",
    b"admin",
    b"20261120T090100-000000000001",
    b"2026-11-20T09:00:00+02:00",
    b"+3725551001",
]
VALUE_TOKENS = [
    b"../",
    b"%00",
    b"%2F",
    b"'",
    b'"',
    b"\\",
    b"{",
    b"[]",
    b"null",
    b"-1",
    b"1e309",
    b"\xff",
    b"\xf0\x9f\x98\x80",
]
BODY_SEEDS = [
    b'{"username": "admin", "password": "fuzz-box correct horse battery"}',
    b'{"name": "mari", "role": "agent", "password": "a long enough password 1", "extension": "101"}',
    b'{"notes": "call back", "tags": ["vip"], "outcome": "won"}',
    b'{"user": "agent", "role": "agent", "name": "ci"}',
    b'{"number": "+3725551234", "extension": "101"}',
    b'{"name": "Mari Maasikas", "extension": "101", "email": "mari@example.ee"}',
    b"[]",
]
BODY_TOKENS = [b'"', b"{", b"}", b"[", b"]", b",", b":", b"null", b"true", b"1e400", b'"\\u0000"', b"\xff"]


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    secured: bool
    query: tuple[str, ...]


def operations() -> list[Operation]:
    """Every documented operation the fuzzer may call, with its query parameter names."""
    doc = openapi_document()
    found = []
    for path, item in doc["paths"].items():
        shared = item.get("parameters", [])
        for method, op in item.items():
            if method == "parameters" or (method.upper(), path) in ENDLESS:
                continue
            params = [*shared, *op.get("parameters", [])]
            query = tuple(p["name"] for p in params if p.get("in") == "query")
            found.append(Operation(method.upper(), path, op.get("security") != [], query))
    found.append(Operation("GET", "/metrics", True, ()))
    return found


@dataclass(frozen=True)
class Request:
    op: Operation
    who: str
    path: str
    headers: dict[str, str]
    query: dict[str, str]
    body: bytes | None

    def shown(self) -> bytes:
        return f"{self.op.method} {self.path} as {self.who} query={self.query!r} body={self.body!r}".encode(
            "utf-8", "replace"
        )


class RequestMaker:
    """Deterministic requests from a seed: operation, identity, path, query, body."""

    def __init__(self, box: HttpBox, seed: int) -> None:
        self.box = box
        self.rng = random.Random(seed)
        self.ops = operations()
        self.values = Mutator(VALUE_SEEDS, VALUE_TOKENS, seed)
        self.bodies = Mutator(BODY_SEEDS, BODY_TOKENS, seed + 1)

    def _value(self) -> str:
        raw = self.values.next() if self.rng.random() < 0.7 else self.rng.choice(VALUE_SEEDS)
        return raw.decode("utf-8", "replace")

    def next(self) -> Request:
        rng = self.rng
        op = rng.choice(self.ops)
        who = rng.choice(IDENTITIES)
        if who not in ANONYMOUS and (op.method, op.path) in SELF_ENDING:
            who = "none"
        headers = {"X-Requested-With": "fuzz"}
        if who == "bad-bearer":
            headers["Authorization"] = "Bearer " + _header_text(self._value())
        elif who == "bad-cookie":
            headers["Cookie"] = "salvesti_session=" + _header_text(self._value()).replace(";", "")
        elif who != "none":
            headers["Authorization"] = f"Bearer {self.box.tokens[who]}"
        path = _PLACEHOLDER.sub(lambda m: quote(self._value(), safe="") or "x", op.path)
        query = {name: self._value() for name in op.query if rng.random() < 0.5}
        body = None
        if op.method in ("POST", "PATCH", "PUT"):
            body = self.bodies.next() if rng.random() < 0.8 else rng.choice(BODY_SEEDS)
            headers["Content-Type"] = rng.choice(["application/json", "text/plain", "application/json"])
        return Request(op, who, path, headers, query, body)


def _header_text(value: str) -> str:
    """What a client can put in a header at all (aiohttp refuses CR, LF and other controls)."""
    return "".join(c for c in value if 32 <= ord(c) < 127)


def verdict(op: Operation, who: str, status: int) -> str | None:
    """What is wrong with this answer (a 5xx, an auth bypass), or None."""
    if status >= 500:
        return f"{status} from {op.method} {op.path}"
    if op.secured and who in ANONYMOUS and status < 400:
        return f"auth bypass: {status} for {who} on {op.method} {op.path}"
    return None


async def run_http(box: HttpBox, inputs: int, *, seed: int = 0, deadline_s: float = 10.0) -> Report:
    """Send ``inputs`` generated requests to ``box``, one at a time, and report."""
    maker = RequestMaker(box, seed)
    report = Report("http")
    started = time.perf_counter()
    timeout = aiohttp.ClientTimeout(total=deadline_s)
    async with aiohttp.ClientSession(
        box.url, timeout=timeout, cookie_jar=aiohttp.DummyCookieJar()
    ) as session:
        for index in range(inputs):
            req = maker.next()
            t0 = time.perf_counter()
            try:
                async with session.request(
                    req.op.method,
                    req.path,
                    params=req.query,
                    data=req.body,
                    headers=req.headers,
                    allow_redirects=False,
                ) as r:
                    await r.read()
                    status = r.status
            except TimeoutError:
                report.hangs.append(Finding("hang", index, req.shown(), f"over {deadline_s} s"))
                continue
            finally:
                report.inputs = index + 1
                report.slowest_ms = max(report.slowest_ms, (time.perf_counter() - t0) * 1000)
            problem = verdict(req.op, req.who, status)
            if problem:
                report.crashes.append(Finding("crash", index, req.shown(), problem))
    report.seconds = time.perf_counter() - started
    return report
