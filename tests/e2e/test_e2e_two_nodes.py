"""Two recorder nodes on one PostgreSQL and one object store (issue 11's acceptance test).

Two ``salvesti run`` processes (``box-a`` and ``box-b``, each with its own SIP and HTTP port and
its own sipp carrier) share a fresh PostgreSQL database and one SeaweedFS with authentication
on.  A call goes through each node; each node lists and plays (HTTP Range) both recordings; a
user added on one logs in on the other; a tag set on one shows on the other; the object store
is stopped during a third call and started again, and the recording arrives with its sha256;
a retention sweep on both nodes at once deletes each recording once; ``audit verify`` passes on
the chain both wrote.  A web client's live event stream on each node sees both nodes' calls.
Every wait is on a condition with a deadline.

It needs PostgreSQL, so it runs in the main pytest, not in test.sh's network namespace.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import subprocess
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from harness.baresip import Baresip
from harness.flows import hang_up
from harness.lab import Lab
from harness.ports import PORTS
from harness.procs import wait_for
from harness.salvesti import Salvesti, salvesti_argv, salvesti_env

from salvesti.testing import postgres
from salvesti.testing.seaweedfs import ACCESS_KEY, BUCKET, SECRET_KEY, WeedServer

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(150)]

PASSWORD = "a-long-passw0rd"
BYTES_PER_S = 8000 * 2 * 2  # the in-progress WAV: 8 kHz stereo s16


@pytest.fixture
def pg_dsn() -> Iterator[str]:
    """A fresh database for the two nodes, dropped afterwards."""
    with postgres.temporary_database("salvesti_e2e_nodes") as dsn:
        yield dsn


@pytest.fixture
def weed(tmp_path: Path) -> Iterator[WeedServer]:
    """A SeaweedFS of this test's own (it is stopped and started again mid-test)."""
    server = WeedServer(tmp_path / "weed")
    server.ports = {name: PORTS.port() for name in server.ports}
    server.start()
    try:
        asyncio.run(server.wait_ready())
        yield server
    finally:
        server.kill()


def start_node(lab: Lab, name: str, dsn: str, weed: WeedServer) -> Salvesti:
    carrier = lab.provider("answer", name=f"carrier-{name}")
    store = json.dumps({"platform": "postgresql", "dsn": dsn, "pool_size": 4})
    sink = {
        "platform": "s3", "id": "bucket", "endpoint": weed.endpoint, "bucket": BUCKET,
        "region": "eu-north-1", "access_key": ACCESS_KEY, "secret_key": SECRET_KEY,
        "prefix": "salvesti/", "timeout": 3,
    }  # fmt: skip
    node = lab.salvesti(
        trunk=carrier,
        start=False,
        name=name,
        core_extra={"node": name},
        store=store,
        sinks=f"  - {json.dumps(sink)}\n",
        retention="  - {platform: max_age, id: default, days: 0}\n",  # due as soon as it ends
    )
    return node.start(ready_timeout=40)


def api(
    node: Salvesti, path: str, *, token: str | None = None, method: str = "GET", body: Any = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, str], bytes]:  # fmt: skip
    """One HTTP request to ``node``; (status, headers, body) whatever the status."""
    sent = {"Content-Type": "application/json", **(headers or {})}
    if token:
        sent["Authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(
        f"http://127.0.0.1:{node.http_port}{path}", data=data, method=method, headers=sent
    )
    try:
        with urllib.request.urlopen(req, timeout=15) as res:
            return res.status, dict(res.headers), res.read()
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), err.read()


def api_json(node: Salvesti, path: str, token: str, **kw: Any) -> Any:
    status, _headers, body = api(node, path, token=token, **kw)
    assert 200 <= status < 300, (path, status, body[:500])
    return json.loads(body)


class EventTap:
    """A web client's live event stream (``/api/events``) on one node, read in a thread."""

    def __init__(self, node: Salvesti, token: str) -> None:
        req = urllib.request.Request(
            f"http://127.0.0.1:{node.http_port}/api/events", headers={"Authorization": f"Bearer {token}"}
        )
        self.stream = urllib.request.urlopen(req, timeout=60)
        self.events: list[tuple[str, dict[str, Any]]] = []
        threading.Thread(target=self._read, daemon=True, name=f"events {node.name}").start()

    def _read(self) -> None:
        name = None
        try:
            for raw in self.stream:
                line = raw.decode().rstrip("\n")
                if line.startswith("event: "):
                    name = line[7:]
                elif line.startswith("data: ") and name is not None:
                    self.events.append((name, json.loads(line[6:])))
                    name = None
        except (OSError, ValueError):
            return  # the node stopped (the stream ends with it, at the lab's teardown)

    def saw(self, event: str, call_id: str) -> bool:
        return any(name == event and data.get("id") == call_id for name, data in list(self.events))


def admin_token(node: Salvesti) -> str:
    cfg = str(node.config_path)
    add = node.cli("users", "add", "boss", "--role", "admin", "-c", cfg, input_=PASSWORD.encode() + b"\n")
    assert add.returncode == 0, add.stderr.decode()
    tok = node.cli("tokens", "create", "boss", "-c", cfg)
    assert tok.returncode == 0, tok.stderr.decode()
    return tok.stdout.decode().strip().split()[-1]


def listed(node: Salvesti, token: str) -> dict[str, dict[str, Any]]:
    return {c["id"]: c for c in api_json(node, "/api/calls?limit=50", token)["calls"]}


def talk(phones: list[tuple[Baresip, Salvesti]], watcher: Salvesti, token: str) -> list[str]:
    """Each phone dials out through its node; returns the call ids once ``watcher`` lists each
    call in progress and its recording holds 2 s of audio (the phones still talking)."""
    for phone, node in phones:
        phone.dial(f"sip:+3725551234@{node.address}")
    for phone, _node in phones:
        phone.wait_event("CALL_ESTABLISHED", 15)
    ids = []
    for _phone, node in phones:

        def live(node: Salvesti = node) -> str | None:
            for call in listed(watcher, token).values():
                if call["node"] == node.name and call["answered_at"] and not call["ended_at"]:
                    return str(call["id"])
            return None

        call_id = wait_for(live, 15, interval=0.2, what=f"{node.name}'s call in progress on {watcher.name}")
        wav = node.dir / "data" / "spool" / "bucket" / f"{call_id}.wav"
        wait_for(
            lambda wav=wav: wav.exists() and wav.stat().st_size >= 44 + 2 * BYTES_PER_S,
            15,
            interval=0.2,
            what=f"2 s recorded in {wav}",
        )
        ids.append(call_id)
    return ids


def saved(node: Salvesti, call_id: str, token: str, timeout: float = 20) -> dict[str, Any]:
    """The call once its recording is in the object store (``s3://`` path and a sha256)."""

    def done() -> dict[str, Any] | None:
        call = listed(node, token).get(call_id)
        rec = (call or {}).get("recording") or {}
        ok = str(rec.get("path") or "").startswith(f"s3://{BUCKET}/salvesti/") and rec.get("sha256")
        return call if call and call["ended_at"] and rec.get("status") == "saved" and ok else None

    return wait_for(done, timeout, interval=0.3, what=f"call {call_id} saved in the object store")


async def _object(weed: WeedServer, key: str) -> bytes | None:
    client = weed.client()
    try:
        if await client.head_object(key) is None:
            return None
        async with client.request("GET", key) as resp:
            return await resp.read()
    finally:
        await client.close()


def object_bytes(weed: WeedServer, call: dict[str, Any]) -> bytes | None:
    key = call["recording"]["path"].removeprefix(f"s3://{BUCKET}/")
    return asyncio.run(_object(weed, key))


def check_playback(node: Salvesti, call: dict[str, Any], token: str, stored: bytes) -> None:
    """The node plays the call: a Range request answers 206 with those bytes, a whole GET all."""
    path = f"/api/calls/{call['id']}/audio"
    status, headers, body = api(node, path, token=token, headers={"Range": "bytes=100-1123"})
    assert status == 206, (node.name, status, body[:200])
    assert body == stored[100:1124]
    assert headers["Content-Range"] == f"bytes 100-1123/{len(stored)}"
    status, _headers, body = api(node, path, token=token)
    assert status == 200 and hashlib.sha256(body).hexdigest() == call["recording"]["sha256"]


async def _deletion_counts(dsn: str) -> dict[str, int]:
    conn = await asyncpg.connect(dsn, timeout=10)
    try:
        rows = await conn.fetch("SELECT call_id, count(*) AS n FROM deletions GROUP BY call_id")
        return {r["call_id"]: r["n"] for r in rows}
    finally:
        await conn.close()


def sweep_both(a: Salvesti, b: Salvesti) -> list[dict[str, Any]]:
    """``salvesti retention sweep --json`` on both nodes' configs at the same moment."""
    pipe = subprocess.PIPE
    argv = [*salvesti_argv(), "retention", "sweep", "--json", "-c"]
    procs = [
        subprocess.Popen([*argv, str(n.config_path)], cwd=n.dir, env=salvesti_env(), stdout=pipe, stderr=pipe)
        for n in (a, b)
    ]
    out = []
    for proc in procs:
        stdout, stderr = proc.communicate(timeout=60)
        assert proc.returncode == 0, stderr.decode()[-2000:]
        out += json.loads(stdout)
    return out


def test_two_nodes_share_calls_users_tags_audit_and_recordings(lab: Lab, pg_dsn: str, weed: WeedServer):
    a = start_node(lab, "box-a", pg_dsn, weed)
    b = start_node(lab, "box-b", pg_dsn, weed)
    token = admin_token(a)  # made on box-a, used on both
    phone_a = lab.phone("101", a, timeout_s=120)
    phone_b = lab.phone("102", b, timeout_s=120)
    taps = {"box-a": EventTap(a, token), "box-b": EventTap(b, token)}  # a web UI open on each

    # a call through each node at the same time
    id_a, id_b = talk([(phone_a, a), (phone_b, b)], watcher=b, token=token)
    hang_up(phone_a)
    hang_up(phone_b)
    calls = {id_a: saved(a, id_a, token), id_b: saved(b, id_b, token)}
    assert calls[id_a]["node"] == "box-a" and calls[id_b]["node"] == "box-b"
    # each node's web UI saw both calls live (the other node's through PostgreSQL NOTIFY)
    wanted = [(t, e, c) for t in taps.values() for c in (id_a, id_b) for e in ("call_started", "call_ended")]
    wait_for(lambda: all(t.saw(e, c) for t, e, c in wanted), 10, interval=0.2, what="both calls live on both")

    # each node lists both and plays both from the object store
    stored = {cid: object_bytes(weed, call) for cid, call in calls.items()}
    for cid, data in stored.items():
        assert data is not None and hashlib.sha256(data).hexdigest() == calls[cid]["recording"]["sha256"]
        assert len(data) == calls[cid]["recording"]["bytes"]
    for node in (a, b):
        seen = listed(node, token)
        assert {id_a, id_b} <= set(seen)
        for cid, call in calls.items():
            assert seen[cid]["recording"] == call["recording"]
            check_playback(node, call, token, stored[cid] or b"")

    # a user added on box-a logs in on box-b; a tag set on box-a shows on box-b
    user = {"name": "kati", "role": "manager", "password": "kati's long password"}
    assert api(a, "/api/users", token=token, method="POST", body=user)[0] == 201
    login = {"username": "kati", "password": user["password"]}
    status, _h, body = api(b, "/api/auth/login", method="POST", body=login)
    assert status == 200, body
    api_json(a, f"/api/calls/{id_b}", token, method="PATCH", body={"tags": ["callback"]})
    assert api_json(b, f"/api/calls/{id_b}", token)["tags"] == ["callback"]
    assert [c["id"] for c in api_json(b, "/api/calls?tag=callback", token)["calls"]] == [id_b]
    wait_for(lambda: taps["box-b"].saw("call_changed", id_b), 10, interval=0.2, what="the tag live on box-b")

    # the object store stops during a call on box-b and comes back after it ended
    (id_c,) = talk([(phone_b, b)], watcher=a, token=token)
    weed.kill()
    hang_up(phone_b)

    def spooled() -> dict[str, Any] | None:
        call = listed(a, token).get(id_c)  # listed at once, on the other node too
        rec = (call or {}).get("recording") or {}
        return call if call and call["ended_at"] and rec.get("status") == "spooled" else None

    waiting = wait_for(spooled, 20, interval=0.3, what="the call listed with its recording spooled")
    # meanwhile it plays from box-b's spool
    status, _h, body = api(b, f"/api/calls/{id_c}/audio", token=token, headers={"Range": "bytes=0-43"})
    assert status == 206 and body[:4] == b"RIFF", (status, body[:200])
    weed.start()
    asyncio.run(weed.wait_ready())
    calls[id_c] = saved(a, id_c, token, timeout=60)
    rec = calls[id_c]["recording"]
    assert (rec["sha256"], rec["bytes"]) == (waiting["recording"]["sha256"], waiting["recording"]["bytes"])
    data = object_bytes(weed, calls[id_c])
    assert data is not None and hashlib.sha256(data).hexdigest() == rec["sha256"]
    check_playback(a, calls[id_c], token, data)

    # a retention sweep on both nodes at once deletes each recording once
    deletions = sweep_both(a, b)
    assert sorted(d["call_id"] for d in deletions) == sorted(calls), deletions
    assert all(d["deleted"] and d["error"] is None for d in deletions), deletions
    assert asyncio.run(_deletion_counts(pg_dsn)) == dict.fromkeys(calls, 1)
    for call in calls.values():
        assert object_bytes(weed, call) is None
    for node in (a, b):
        seen = listed(node, token)
        assert {seen[cid]["recording"]["status"] for cid in calls} == {"deleted"}

    # one audit chain, written by both nodes and the command line
    verify = b.cli("audit", "verify", "-c", str(b.config_path))
    assert verify.returncode == 0, verify.stdout.decode() + verify.stderr.decode()
    assert "chain intact" in verify.stdout.decode()
