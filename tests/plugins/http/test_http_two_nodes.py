"""Two nodes on one PostgreSQL store: two hubs, each with its own store object, pool and HTTP
server, on one database, as two ``salvesti run`` processes would be.  A user, a session, a
tag and the audit chain made through either are the other's too; the CLI sees the same."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import asyncpg
import pytest
from http_env import PASSWORD, Env, next_event, start_env

from salvesti.core import bus as events
from salvesti.core.call import Call
from salvesti.plugins.http.db_postgresql import PostgresAccounts
from salvesti.plugins.http.events_relay import APPLICATION_NAME
from salvesti.plugins.http.server import SESSION_COOKIE
from salvesti.testing import postgres


@pytest.fixture
async def nodes(pg_dsn: str, tmp_path: Path) -> AsyncIterator[tuple[Env, Env]]:
    await postgres.truncate(pg_dsn)
    store = {"platform": "postgresql", "dsn": pg_dsn, "pool_size": 4}
    for name in ("box-a", "box-b"):
        (tmp_path / name).mkdir()
    a = await start_env(tmp_path / "box-a", store=store)  # the users and calls of http_env
    try:
        b = await start_env(tmp_path / "box-b", store=store, seed=False)
        try:
            b.tokens, b.calls = a.tokens, a.calls
            yield a, b
        finally:
            await b.hub.async_stop(call_timeout=0.1)
    finally:
        await a.hub.async_stop(call_timeout=0.1)


async def _login(env: Env, who: str, password: str = PASSWORD) -> tuple[str, str]:
    """Log in through ``env``'s node; the session cookie and its CSRF token."""
    async with (
        aiohttp.ClientSession(env.url) as http,
        http.post("/api/auth/login", json={"username": who, "password": password}) as r,
    ):
        assert r.status == 200, await r.text()
        return r.cookies[SESSION_COOKIE].value, (await r.json())["csrf_token"]


async def test_both_nodes_store_accounts_in_postgresql(nodes):
    a, b = nodes
    assert isinstance(a.server.accounts, PostgresAccounts) and isinstance(b.server.accounts, PostgresAccounts)
    assert a.server.accounts.pool is not b.server.accounts.pool  # two processes' worth of connections
    assert a.server.sqlite_conn is None
    assert not (Path(a.hub.data_dir) / "salvesti.db").exists()


async def test_a_user_added_on_one_node_logs_in_on_the_other(nodes):
    a, b = nodes
    async with aiohttp.ClientSession(a.url) as http:
        body = {"name": "kati", "role": "agent", "password": "kati's long password", "extension": "102"}
        async with http.post("/api/users", json=body, headers=a.bearer("admin")) as r:
            assert r.status == 201, await r.text()
    cookie, _csrf = await _login(b, "kati", "kati's long password")
    async with aiohttp.ClientSession(b.url) as http:
        async with http.get("/api/auth/me", headers={"Cookie": f"{SESSION_COOKIE}={cookie}"}) as r:
            assert (await r.json())["user"] == {"name": "kati", "role": "agent", "extension": "102"}
        # an agent's list on the other node: only their extension's call
        async with http.get("/api/calls", headers={"Cookie": f"{SESSION_COOKIE}={cookie}"}) as r:
            assert [c["id"] for c in (await r.json())["calls"]] == [a.calls["a2_in"].id]
    # both nodes answer the admin lists alike
    lists = []
    for env in (a, b):
        async with aiohttp.ClientSession(env.url) as http:
            async with http.get("/api/users", headers=env.bearer("admin")) as r:
                users = await r.json()
            async with http.get("/api/tokens", headers=env.bearer("admin")) as r:
                # last_used_at is the newest use on any node: each node touches a token it sees
                tokens = [{**t, "last_used_at": None} for t in (await r.json())["tokens"]]
            lists.append((users, tokens))
    assert lists[0] == lists[1] and "kati" in [u["name"] for u in lists[0][0]["users"]]
    assert [t["user"] for t in lists[0][1]] == ["admin", "manager", "agent1", "agent2"]


async def test_a_session_and_a_tag_cross_nodes(nodes):
    a, b = nodes
    cookie, csrf = await _login(a, "manager")
    call = a.calls["a1_in"]
    headers = {"Cookie": f"{SESSION_COOKIE}={cookie}", "X-CSRF-Token": csrf}
    async with aiohttp.ClientSession(b.url) as http:
        async with http.get("/api/auth/me", headers=headers) as r:
            assert r.status == 200 and (await r.json())["user"]["name"] == "manager"
        async with http.patch(f"/api/calls/{call.id}", json={"tags": ["callback"]}, headers=headers) as r:
            assert r.status == 200, await r.text()
        async with http.post("/api/auth/logout", headers=headers) as r:  # ends it on every node
            assert r.status == 200
    async with aiohttp.ClientSession(a.url) as http:
        async with http.get(f"/api/calls/{call.id}", headers=a.bearer("manager")) as r:
            assert (await r.json())["tags"] == ["callback"]
        async with http.get(f"/api/calls/{call.id}/analysis", headers=a.bearer("manager")) as r:
            assert r.status == 200 and (await r.json())["status"] == "off"  # analysis is not configured
        async with http.get("/api/calls?tag=callback", headers=a.bearer("manager")) as r:
            assert [c["id"] for c in (await r.json())["calls"]] == [call.id]
        async with http.get("/api/auth/me", headers=headers) as r:
            assert r.status == 401


async def test_call_lists_are_the_same_on_both_nodes(nodes):
    """The SQLite fast path is not there: the lists come from the PostgreSQL store's own query."""
    a, b = nodes
    for query in ("", "?tag=vip", "?extension=101", "?q=invoice", "?number=5552001", "?limit=2"):
        answers = []
        for env in (a, b):
            async with aiohttp.ClientSession(env.url) as http:
                async with http.get(f"/api/calls{query}", headers=env.bearer("manager")) as r:
                    assert r.status == 200, (query, await r.text())
                    answers.append(await r.json())
        assert answers[0] == answers[1], query
    assert [c["id"] for c in answers[0]["calls"]] == [a.calls["none"].id, a.calls["a2_in"].id]
    assert answers[0]["next_cursor"]


async def test_concurrent_audit_appends_on_both_nodes_make_one_chain(nodes, tmp_path):
    a, b = nodes
    writes = [env.server.audit(None, "view", user=f"{env.hub.node}-{i}") for i in range(60) for env in (a, b)]
    async with aiohttp.ClientSession() as http:
        # and requests that audit, through both servers at once (searches)
        reads = [
            http.get(f"{env.url}/api/calls?q=invoice", headers=env.bearer("manager")) for env in (a, b) * 10
        ]
        answers = await asyncio.gather(*writes, *reads)
        for response in answers[len(writes) :]:
            assert response.status == 200
            response.release()
    result = await b.server.accounts.audit_verify()
    assert result.ok, result
    entries = await a.server.accounts.audit_list(limit=1000)
    assert [e["seq"] for e in entries] == list(range(result.entries, 0, -1))
    users = {e["user"] for e in entries}
    assert {f"{node}-{i}" for node in ("box-a", "box-b") for i in range(60)} <= users

    # the command line verifies the same one chain, and its own entries join it
    config = tmp_path / "cli.yaml"
    config.write_text(
        "salvesti: {data_dir: ./cli-data, timezone: Europe/Tallinn, purpose: test}\n"
        f"store: {{platform: postgresql, dsn: '{a.hub.store.dsn}'}}\n"
        "http: {listen: '127.0.0.1:0'}\n"
    )
    verify = await _cli(tmp_path, config, "audit", "verify")
    assert verify == (0, f"audit log OK: {result.entries} entries, chain intact\n"), verify
    code, _out = await _cli(tmp_path, config, "users", "add", "cli-user", "--role", "manager", stdin=PASSWORD)
    assert code == 0
    await _login(a, "cli-user")
    last = (await b.server.accounts.audit_list(limit=2))[::-1]
    assert [(e["action"], e["user"]) for e in last] == [("user_add", last[0]["user"]), ("login", "cli-user")]
    assert last[0]["user"].startswith("cli:") and (await a.server.accounts.audit_verify()).ok
    # a data subject export from any machine: the call is in the shared store, the entry in the chain
    call = a.calls["a2_in"]
    code, out = await _cli(tmp_path, config, "subject", "export", call.remote_number, "--out", "export")
    assert code == 0, out
    assert [c["id"] for c in json.loads((tmp_path / "export" / "calls.json").read_text())["calls"]] == [
        call.id
    ]
    entry = (await b.server.accounts.audit_list(limit=1))[0]
    assert (entry["action"], entry["call_id"]) == ("export", call.id)
    assert (await b.server.accounts.audit_verify()).ok


async def _cli(cwd: Path, config: Path, *args: str, stdin: str = "") -> tuple[int, str]:
    """The real ``salvesti`` command in its own process (as an admin on another machine runs it)."""
    pipe = asyncio.subprocess.PIPE
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "salvesti",
        *args,
        "-c",
        str(config),
        cwd=cwd,
        stdin=pipe,
        stdout=pipe,
        stderr=pipe,
    )
    out, err = await asyncio.wait_for(proc.communicate(stdin.encode() + b"\n"), 60)
    assert proc.returncode is not None
    return proc.returncode, out.decode() + err.decode()


async def _streams_open(nodes: tuple[Env, Env], *streaming: Env) -> None:
    """Until both nodes' relays listen and each of ``streaming`` has its event stream (bounded)."""
    async with asyncio.timeout(10):
        for env in nodes:
            assert env.server.relay is not None
            await env.server.relay.listening.wait()
        for env in streaming:
            for _ in range(500):
                if env.server.sse_queues:
                    break
                await asyncio.sleep(0.02)


async def test_live_events_reach_every_nodes_stream_once(nodes):
    """A call started and ended on box-a shows in box-b's stream (LISTEN/NOTIFY); a tag set on
    box-b shows in box-a's; neither node sees its own event twice."""
    a, b = nodes
    call, other = a.calls["a1_in"], a.calls["none"]
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"{a.url}/api/events", headers=a.bearer("manager")) as on_a,
        http.get(f"{b.url}/api/events", headers=b.bearer("manager")) as on_b,
    ):
        await _streams_open(nodes, a, b)
        a.hub.bus.publish(events.CALL_STARTED, call.to_json())
        a.hub.bus.publish(events.CALL_ENDED, call.to_json())
        assert [(n, d["id"], d["node"]) for n, d in [await next_event(on_b) for _ in range(2)]] == [
            ("call_started", call.id, call.node),
            ("call_ended", call.id, call.node),
        ]
        async with http.patch(
            f"{b.url}/api/calls/{call.id}", json={"tags": ["vip", "callback"]}, headers=b.bearer("manager")
        ) as r:
            assert r.status == 200, await r.text()
        seen_a = [await next_event(on_a) for _ in range(3)]
        assert [n for n, _d in seen_a] == ["call_started", "call_ended", "call_changed"]
        assert seen_a[2][1]["tags"] == ["vip", "callback"]
        # a marker from each side: the next event is the marker, not an echo of an earlier one
        b.hub.bus.publish(events.CALL_ENDED, other.to_json())
        assert (await next_event(on_a))[1]["id"] == other.id
        name, data = await next_event(on_b)
        assert (name, data["tags"]) == ("call_changed", ["vip", "callback"])  # b's own, once
        a.hub.bus.publish(events.RECORDING_SAVED, other.to_json())
        assert [(n, d["id"]) for n, d in [await next_event(on_b) for _ in range(2)]] == [
            ("call_ended", other.id),
            ("recording_saved", other.id),
        ]


async def test_a_call_too_big_for_notify_is_read_from_the_store(nodes):
    a, b = nodes
    call = a.calls["a2_in"]
    changed = await a.hub.store.update_call_fields(call.id, notes="pikk märkus " * 1000)
    assert changed is not None and len(json.dumps(changed.to_json()).encode()) > 8000
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"{b.url}/api/events", headers=b.bearer("agent2")) as on_b,
    ):
        await _streams_open(nodes, b)
        a.server.publish_local("call_changed", changed.to_json())
        name, data = await next_event(on_b)
        assert (name, data["id"], data["notes"]) == ("call_changed", call.id, changed.notes)


async def test_live_events_flow_again_after_the_listening_connection_drops(nodes):
    a, b = nodes
    await _streams_open(nodes)
    admin = await asyncpg.connect(a.hub.store.dsn)
    try:
        killed = await admin.fetchval(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE datname = current_database() AND application_name = $1",
            APPLICATION_NAME,
        )
    finally:
        await admin.close()
    assert killed == 2  # one listening connection per node, beside its pool
    async with asyncio.timeout(15):
        for env in nodes:
            assert env.server.relay is not None
            relay = env.server.relay
            for _ in range(300):
                if relay.connections >= 2 and relay.listening.is_set():
                    break
                await asyncio.sleep(0.05)
            assert relay.connections == 2 and relay.listening.is_set()
    call = a.calls["a1_in"]
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"{b.url}/api/events", headers=b.bearer("manager")) as on_b,
    ):
        await _streams_open(nodes, b)
        a.hub.bus.publish(events.CALL_ENDED, call.to_json())
        assert (await next_event(on_b))[1]["id"] == call.id


async def test_two_admins_deleting_one_recording_at_once_delete_it_once(nodes):
    """box-a's delete is held inside its sink; box-b's delete meanwhile finds the call claimed
    (409, nothing done), and once box-a finishes the recording is deleted and logged once."""
    a, b = nodes
    call = a.calls["a1_in"]
    path = Path(call.recording.path)
    assert await asyncio.to_thread(path.is_file)
    sink = a.hub.sinks["disk"]
    entered, release = asyncio.Event(), asyncio.Event()
    real_delete = sink.delete

    async def held_delete(c: Call) -> bool:
        entered.set()
        await asyncio.wait_for(release.wait(), 10)
        return await real_delete(c)

    sink.delete = held_delete
    async with aiohttp.ClientSession() as http:

        async def delete(env: Env) -> int:
            async with http.delete(f"{env.url}/api/calls/{call.id}", headers=env.bearer("admin")) as r:
                return r.status

        on_a = asyncio.ensure_future(delete(a))
        await asyncio.wait_for(entered.wait(), 10)
        assert await delete(b) == 409  # box-a holds it
        release.set()
        assert await on_a == 200
        assert await delete(b) == 404  # and now it is gone on every node
    assert not await asyncio.to_thread(path.exists)
    log = await a.hub.store.list_deletions(call_id=call.id)
    assert [(e["rule"], e["reason"]) for e in log] == [("manual", "deleted by admin")]
    assert (await b.hub.store.get_call(call.id)).recording.status == "deleted"


async def test_an_acknowledgement_on_one_node_lets_the_other_record(nodes):
    """The register is shared; each node's in-memory copy follows changes made on the other."""
    from salvesti.core.call import Call, Direction

    a, b = nodes
    for env in (a, b):
        env.hub.config["salvesti"]["employee_notice"] = {"version": "v1", "text": "We record calls."}
        env.hub.policy.require_employee_notice = True
        env.hub.policy.notice_version = "v1"
    probe = Call("probe", "office", Direction.OUTBOUND, "+3726000000", "+3725550000", b.hub.now())
    probe.add_extension("101")
    assert b.hub.should_record(probe) is False  # nobody on 101 was informed
    follow = asyncio.create_task(b.server.employees.follow(b.server.register, every=0.05))
    try:
        async with aiohttp.ClientSession(a.url) as http:
            body = {"name": "Mari", "extension": "101"}
            async with http.post("/api/employees", json=body, headers=a.bearer("admin")) as r:
                assert r.status == 201, await r.text()
            async with http.post(
                "/api/employees/me/acknowledge", json={"version": "v1"}, headers=a.bearer("agent1")
            ) as r:
                assert r.status == 201, await r.text()
        assert a.hub.should_record(probe) is True  # at once on the node that took the change
        deadline = asyncio.get_running_loop().time() + 10
        while not b.hub.should_record(probe):
            assert asyncio.get_running_loop().time() < deadline, "node b never saw the acknowledgement"
            await asyncio.sleep(0.02)
        async with aiohttp.ClientSession(b.url) as http:
            async with http.get("/api/employees", headers=b.bearer("admin")) as r:
                [mari] = (await r.json())["employees"]
        assert mari["acknowledged"] and mari["acknowledgement"]["recorded_by"] == "agent1"
    finally:
        follow.cancel()


async def test_an_edit_through_one_node_survives_the_hang_up_on_the_other(nodes):
    """Node a carries the call and saves its own copy at hang-up; the agent's notes, tags and
    outcome typed during the call went through node b."""
    from datetime import timedelta

    a, b = nodes
    live = a.calls["a1_in"]
    live.ended_at = None
    await a.hub.store.save_call(live)
    body = {"notes": "customer wants fibre", "tags": ["fibre"], "outcome": "won"}
    async with aiohttp.ClientSession(b.url) as http:
        async with http.patch(f"/api/calls/{live.id}", json=body, headers=b.bearer("agent1")) as r:
            assert r.status == 200, await r.text()
    assert live.notes == ""  # node a's copy knows nothing of it
    live.ended_at = live.answered_at + timedelta(seconds=4)
    await a.hub.call_ended(live)
    async with aiohttp.ClientSession(b.url) as http:
        async with http.get(f"/api/calls/{live.id}", headers=b.bearer("manager")) as r:
            stored = await r.json()
    assert (stored["notes"], stored["tags"], stored["outcome"]) == ("customer wants fibre", ["fibre"], "won")
    assert stored["ended_at"] is not None
