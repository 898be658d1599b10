"""The setup app over HTTP (a real aiohttp server on loopback): the code gate, field checks in
words, the whole walk to written files and an admin user, and never again afterwards."""

from __future__ import annotations

import asyncio
import io
import sqlite3
import subprocess
import sys
import wave
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from setup_env import plugins

from salvesti.setup.server import SetupServer

CODE = "ABCD-EFGH"


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[SetupServer]:
    srv = SetupServer(tmp_path / "config.yaml", "127.0.0.1:0", plugins(), code=CODE)
    await srv.start()
    yield srv
    await srv.stop()


@pytest.fixture
async def http(server: SetupServer) -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(base_url=f"http://127.0.0.1:{server.port}") as session:
        yield session


async def post(http: aiohttp.ClientSession, path: str, body: object, token: str = "") -> tuple[int, dict]:
    async with http.post(path, json=body, headers={"X-Setup-Token": token}) as r:
        return r.status, await r.json()


async def log_in(http: aiohttp.ClientSession) -> str:
    status, data = await post(http, "/api/setup/code", {"code": CODE})
    assert status == 200, data
    return data["token"]


async def test_steps_need_the_setup_code(http: aiohttp.ClientSession) -> None:
    status, _ = await post(http, "/api/setup/step/purpose", {"purpose": "x"})
    assert status == 401
    status, data = await post(http, "/api/setup/code", {"code": "WRON-GCOD"})
    assert status == 422
    assert data["problems"]["code"]["et"].startswith("Vale kood")
    async with http.get("/") as r:  # the page itself is open: it asks for the code
        assert r.status == 200 and "setup.js" in await r.text()


async def test_fields_say_what_is_wrong(http: aiohttp.ClientSession) -> None:
    token = await log_in(http)
    status, data = await post(
        http,
        "/api/setup/step/owner",
        {"name": "mari", "password": "password12", "again": "password12"},
        token,
    )
    assert status == 422
    assert "scanners try first" in data["problems"]["password"]["en"]
    status, data = await post(
        http,
        "/api/setup/step/carrier",
        {
            "preset": "ddi",
            "registrar": "sip carrier",
            "username": "u",
            "password": "p",
            "numbers": "+3726000000\n55",
        },
        token,
    )
    assert status == 422
    assert set(data["problems"]) == {"registrar", "numbers"}
    assert "E.164" in data["problems"]["numbers"]["en"]
    status, data = await post(http, "/api/setup/step/retention", {"days": {"default": "ten"}}, token)
    assert status == 422 and "10 või 60" in data["problems"]["days.default"]["et"]


def wav_bytes(seconds: float = 1.0) -> bytes:
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(b"\x10\x00\xf0\xff" * int(4000 * seconds))
    return buf.getvalue()


async def assert_check_config_passes(config: Path) -> None:
    """The written config passes ``salvesti check-config``, the command users run."""
    checked = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "salvesti", "check-config", "-c", str(config)],
        capture_output=True,
        text=True,
    )
    assert checked.returncode == 0, checked.stderr


async def walk(http: aiohttp.ClientSession, token: str, notice: dict | None = None) -> None:
    """Every step with valid answers; the notice is an upload unless ``notice`` names another."""
    steps = [
        ("owner", {"name": "mari", "password": "Long-enough-pass-9", "again": "Long-enough-pass-9"}),
        ("purpose", {"purpose": "Müügikoolitus"}),
        ("carrier", {"preset": "none"}),
    ]
    for step, body in steps:
        status, data = await post(http, f"/api/setup/step/{step}", body, token)
        assert status == 200, (step, data)
    status, data = await post(
        http,
        "/api/setup/step/numbers",
        {"extensions": [{"user": "101", "name": "Mari"}], "inbound": {}},
        token,
    )
    assert status == 200 and len(data["passwords"]["101"]) >= 16
    async with http.post(
        "/api/setup/notice/upload", data=b"not audio", headers={"X-Setup-Token": token}
    ) as r:
        assert r.status == 422
    async with http.post("/api/setup/notice/upload", data=wav_bytes(), headers={"X-Setup-Token": token}) as r:
        assert r.status == 200, await r.text()
    async with http.get("/api/setup/notice/audio?upload=1", headers={"X-Setup-Token": token}) as r:
        assert r.status == 200 and (await r.read())[:4] == b"RIFF"
    for step, body in [
        ("notice", notice or {"kind": "upload"}),
        ("retention", {"days": {"default": 60}}),
        ("employees", {"employees": ["Mari Maasikas <mari@pood.ee>"]}),
    ]:
        status, data = await post(http, f"/api/setup/step/{step}", body, token)
        assert status == 200, (step, data)


async def test_walk_to_the_end_then_never_again(
    server: SetupServer, http: aiohttp.ClientSession, tmp_path: Path
) -> None:
    token = await log_in(http)
    status, data = await post(http, "/api/setup/finish", {}, token)
    assert status == 422 and data["missing"][0] == "owner"
    await walk(http, token)
    status, data = await post(http, "/api/setup/finish", {}, token)
    assert status == 200, data
    assert data["admin_error"] is None
    assert data["start"] == f"salvesti run -c {tmp_path / 'config.yaml'}"
    assert (tmp_path / "notices" / "notice.wav").read_bytes() == wav_bytes()

    await assert_check_config_passes(tmp_path / "config.yaml")
    with sqlite3.connect(tmp_path / "data" / "salvesti.db") as db:
        assert db.execute("SELECT name, role FROM http_users").fetchall() == [("mari", "admin")]
        assert db.execute("SELECT action FROM http_audit").fetchall() == [("user_add",)]

    for method, path in [
        ("GET", "/"),
        ("GET", "/api/setup/info"),
        ("POST", "/api/setup/code"),
        ("POST", "/api/setup/step/owner"),
    ]:
        async with http.request(method, path, json={"code": CODE}, headers={"X-Setup-Token": token}) as r:
            assert r.status == 410, path
    assert await server.wait() == server.ctx.result  # the runner is told to stop


async def test_a_config_written_meanwhile_closes_setup(http: aiohttp.ClientSession, tmp_path: Path) -> None:
    token = await log_in(http)
    (tmp_path / "config.yaml").write_text("# someone else's\n")
    status, data = await post(http, "/api/setup/step/purpose", {"purpose": "x"}, token)
    assert status == 410 and "exists already" in data["reason"]


async def test_accounts_are_tried_and_may_be_saved_anyway(http: aiohttp.ClientSession) -> None:
    token = await log_in(http)
    accounts = [
        {
            "line": "+372 600 0001",
            "registrar": "sip.carrier.invalid",
            "username": "3726000001",
            "password": "a1",
        },
        {"line": "6000002", "registrar": "sip.carrier.invalid", "username": "3726000002", "password": "a2"},
    ]
    body = {"preset": "per_number", "accounts": accounts}
    status, data = await post(http, "/api/setup/step/carrier", body, token)
    assert status == 422
    assert [p["outcome"] for p in data["probes"]] == ["unreachable", "unreachable"]
    assert [p["line"] for p in data["probes"]] == ["+3726000001", "+3726000002"]
    status, data = await post(http, "/api/setup/step/carrier", {**body, "save_anyway": True}, token)
    assert status == 200 and data["lines"] == ["+3726000001", "+3726000002"]
    accounts[1]["line"] = "+3726000001"
    status, data = await post(http, "/api/setup/step/carrier", body, token)
    assert status == 422 and "twice" in data["problems"]["accounts"]["en"]
