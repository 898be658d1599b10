"""The employee notice register on the live HTTP plugin and the real hub: admins keep it, an
agent reads the notice and acknowledges it, the hub's per-call answer follows at once, and an
agent lists who listened to their calls.  Subject requests from the CLI show with deadlines.
Each test that runs a hub runs on the SQLite store and on the PostgreSQL store."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date
from typing import Any

import aiohttp
import asyncpg
import pytest
from http_env import Env, login, start_env

from salvesti.core.call import Call, Direction
from salvesti.plugins.http import db, employee_register, subject_requests
from salvesti.plugins.http.register_db import SqliteRegister
from salvesti.plugins.http.register_postgresql import PostgresRegister
from salvesti.plugins.http.routes_employees import PAPER_ACK
from salvesti.testing import postgres


@pytest.fixture(params=["sqlite", "postgresql"])
async def store_conf(request: pytest.FixtureRequest) -> dict[str, Any] | None:
    if request.param == "sqlite":
        return None
    dsn = request.getfixturevalue("pg_dsn")
    await postgres.truncate(dsn)
    return {"platform": "postgresql", "dsn": dsn, "pool_size": 3}


@pytest.fixture
async def env(tmp_path, store_conf) -> AsyncIterator[Env]:
    e = await start_env(tmp_path, store=store_conf)
    try:
        yield e
    finally:
        await e.hub.async_stop(call_timeout=0.1)


async def notice_env(tmp_path, store_conf, **core):
    env = await start_env(tmp_path, store=store_conf)
    env.hub.config["salvesti"].update(
        {
            "require_employee_notice": True,
            "employee_notice": {"version": "2026-12", "text": "We record calls."},
        },
        **core,
    )
    env.hub.policy.require_employee_notice = True
    env.hub.policy.notice_version = "2026-12"
    return env


def probe(env, ext: str) -> Call:
    call = Call("probe", "office", Direction.OUTBOUND, "+3726000000", "+3725550000", env.hub.now())
    call.add_extension(ext)
    return call


async def test_admin_registers_and_agent_acknowledges(tmp_path, store_conf):
    env = await notice_env(tmp_path, store_conf)
    try:
        async with aiohttp.ClientSession(env.url) as http:
            a = env.bearer("admin")
            async with http.post(
                "/api/employees", json={"name": "Mari Maasikas", "extension": "101"}, headers=a
            ) as r:
                assert r.status == 201, await r.text()
                mari = await r.json()
            assert mari["acknowledged"] is False
            async with http.post("/api/employees", json={"name": "Jüri", "extension": "101"}, headers=a) as r:
                assert r.status == 409
                assert (await r.json())[
                    "error"
                ] == "extension 101 already has an employee; mark them as left first"
            async with http.get("/api/employees", headers=env.bearer("agent1")) as r:
                assert r.status == 403
            assert env.hub.should_record(probe(env, "101")) is False

            # the agent on 101 sees the notice and confirms the version shown
            async with http.get("/api/employees/me", headers=env.bearer("agent1")) as r:
                me = await r.json()
            assert me["acknowledged"] is False and me["employee"]["name"] == "Mari Maasikas"
            assert me["notice"] == {"version": "2026-12", "required": True, "text": "We record calls."}
            async with http.post(
                "/api/employees/me/acknowledge", json={"version": "2026-11"}, headers=env.bearer("agent1")
            ) as r:
                assert r.status == 409  # a stale page cannot confirm the current text
            async with http.post(
                "/api/employees/me/acknowledge", json={"version": "2026-12"}, headers=env.bearer("agent1")
            ) as r:
                assert r.status == 201
                ack = await r.json()
            assert ack["method"] == "web" and ack["recorded_by"] == "agent1"
            assert env.hub.should_record(probe(env, "101")) is True  # the cache followed the change

            # agent2 (102) is not in the register: 404 on acknowledge; the admin records a paper
            async with http.post(
                "/api/employees/me/acknowledge", json={"version": "2026-12"}, headers=env.bearer("agent2")
            ) as r:
                assert r.status == 404
            async with http.post(
                "/api/employees", json={"name": "Kati Kask", "extension": "102"}, headers=a
            ) as r:
                kati = await r.json()
            async with http.post(
                f"/api/employees/{kati['id']}/acknowledgements", json={"date": "2026-11-30"}, headers=a
            ) as r:
                assert r.status == 201
                paper = await r.json()
            assert paper["method"] == "paper" and paper["acknowledged_on"] == "2026-11-30"
            assert env.hub.should_record(probe(env, "102")) is True

            # Kati leaves; the new person on 102 has not been informed
            async with http.delete(f"/api/employees/{kati['id']}", headers=a) as r:
                assert r.status == 200
            assert env.hub.should_record(probe(env, "102")) is False
            async with http.get("/api/employees?all=1", headers=a) as r:
                listed = await r.json()
            gone = next(e for e in listed["employees"] if e["id"] == kati["id"])
            assert gone["left_at"] and gone["acknowledgements"][0]["method"] == "paper"  # evidence kept

            async with http.get("/api/audit?action=employee_ack", headers=a) as r:
                entries = (await r.json())["entries"]
            assert {e["user"] for e in entries} == {"agent1", "admin"}
    finally:
        await env.hub.async_stop(call_timeout=0.1)


async def test_the_register_survives_a_restart(tmp_path, store_conf):
    env = await notice_env(tmp_path, store_conf)
    async with aiohttp.ClientSession(env.url) as http:
        async with http.post(
            "/api/employees", json={"name": "Mari", "extension": "101"}, headers=env.bearer("admin")
        ) as r:
            mari = await r.json()
        async with http.post(
            f"/api/employees/{mari['id']}/acknowledgements",
            json={"date": "2026-12-01"},
            headers=env.bearer("admin"),
        ) as r:
            assert r.status == 201
    await env.hub.async_stop(call_timeout=0.1)
    assert env.hub.policy.employee_notices is None  # unloaded: nothing answers for the register
    reg = employee_register.EmployeeRegister()
    if store_conf is None:
        conn = await db.connect(str(tmp_path / "data" / "salvesti.db"))
        try:
            await reg.refresh(SqliteRegister(conn))
        finally:
            await conn.close()
    else:  # what another node sees when it starts
        async with asyncpg.create_pool(store_conf["dsn"], min_size=1, max_size=1) as pool:
            await reg.refresh(PostgresRegister(pool))
    assert reg.acknowledged("101", "2026-12") and not reg.acknowledged("101", "2027-01")


async def test_the_banner_text_defaults_to_the_generated_employee_notice(env, http):
    env.hub.config["salvesti"]["employee_notice"] = {"version": "v1"}
    env.hub.config["salvesti"]["controller"] = {"name": "OÜ Näide", "contact": "andmed@example.ee"}
    async with http.get("/api/employees/me?lang=en", headers=env.bearer("agent1")) as r:
        notice = (await r.json())["notice"]
    assert notice["version"] == "v1" and notice["required"] is False
    assert notice["text"].startswith("# Notice to employees: call recording")
    assert "OÜ Näide" in notice["text"] and "version v1" in notice["text"]


async def test_an_agent_sees_who_listened_to_their_calls(env, http):
    mine, other = env.calls["a1_in"], env.calls["a2_in"]
    for call in (mine, other):
        async with http.get(f"/api/calls/{call.id}/audio", headers=env.bearer("manager")) as r:
            assert r.status == 200
            await r.read()
    async with http.get("/api/employees/me/listens", headers=env.bearer("agent1")) as r:
        entries = (await r.json())["entries"]
    assert [(e["user"], e["action"], e["call_id"]) for e in entries] == [("manager", "playback", mine.id)]
    assert "source_addr" not in entries[0]
    # the path for a store that is not the register's database gives the same answer from the ids
    ids = [c.id for c in env.calls.values() if "101" in c.extensions]
    assert await env.server.register.listens_of_calls(ids) == entries
    async with http.get("/api/employees/me/listens", headers=env.bearer("manager")) as r:
        assert (await r.json())["entries"] == []  # no extension, no calls of their own


async def test_cookie_sessions_need_csrf_to_acknowledge(env):
    session, _csrf = await login(env, "agent1")
    async with session:
        async with session.post("/api/employees/me/acknowledge", json={"version": "x"}) as r:
            assert r.status == 403


def test_paper_acknowledgement_needs_a_real_date():
    assert PAPER_ACK({"date": "2026-02-03"}) == {"date": "2026-02-03"}
    try:
        PAPER_ACK({"date": "2026-02-30"})
    except Exception as err:
        assert "expected a date YYYY-MM-DD" in str(err)
    else:
        raise AssertionError("accepted 30 February")


def test_deadline_is_one_calendar_month():
    assert subject_requests.add_month(date(2026, 1, 31)) == date(2026, 2, 28)
    assert subject_requests.add_month(date(2028, 1, 31)) == date(2028, 2, 29)
    assert subject_requests.add_month(date(2026, 12, 15)) == date(2027, 1, 15)
    req = subject_requests.SubjectRequest(
        1, "export", "+3725551234", date(2026, 11, 2), date(2026, 12, 2), "", "", None, None
    )
    assert not req.overdue(date(2026, 12, 2)) and req.overdue(date(2026, 12, 3))
    assert subject_requests.mask("+3725551234") == "+37255…"


async def test_open_requests_are_listed_for_admins_with_deadlines(env, http):
    register = env.server.register
    today = env.hub.now().date()
    old = await register.log_request("erase", "+3725551001", date(2000, 1, 1), by="cli:x", now="t")
    new = await register.log_request("export", "+3725551002", today, by="cli:x", now="t")
    async with http.get("/api/subject-requests", headers=env.bearer("manager")) as r:
        assert r.status == 403
    async with http.get("/api/subject-requests", headers=env.bearer("admin")) as r:
        body = await r.json()
    assert [(x["id"], x["overdue"]) for x in body["requests"]] == [(old.id, True), (new.id, False)]
    assert body["requests"][0]["deadline"] == "2000-02-01"
    assert await register.close_requests("erase", "+3725551001", outcome="done", now="t") == 1
    async with http.get("/api/subject-requests", headers=env.bearer("admin")) as r:
        assert [x["id"] for x in (await r.json())["requests"]] == [new.id]
    async with http.get("/api/subject-requests?all=1", headers=env.bearer("admin")) as r:
        closed = (await r.json())["requests"][-1]
    assert closed["number"] == "+37255…" and closed["outcome"] == "done" and not closed["open"]
