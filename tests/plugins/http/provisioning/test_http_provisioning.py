"""Provisioning through the live http plugin, with a real sip_trunk source holding the accounts.

The hub runs as in production (SQLite store, HTTP server on a free loopback port, the SIP
source on a free port); phones are plain HTTP clients asking for their file names.
"""

from __future__ import annotations

import logging
import socket
import statistics
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from http_env import ROLES, Env, hub_config, password_hash

from salvesti.core.hub import Hub
from salvesti.core.plugins import PluginManager
from salvesti.core.provisioning import PhoneDirectory
from salvesti.integrations.sip.schema import SCHEMA as SIP_SCHEMA
from salvesti.plugins.http import accounts
from salvesti.plugins.http.provisioning import routes

TOKEN = "shop-prov-7f3k2m9x4q"
PASSWORDS = {"101": "x8R2-qv9T-m4Lw", "102": "p4Zt-9mRw-Lq2s", "103": "c7Yh-2nBv-Kd8f"}


def free_port() -> int:
    with socket.socket() as tcp, socket.socket(type=socket.SOCK_DGRAM) as udp:
        tcp.bind(("127.0.0.1", 0))
        port = tcp.getsockname()[1]
        udp.bind(("127.0.0.1", port))
        return port


def sip_source(port: int, **provisioning: Any) -> dict[str, Any]:
    return {
        "platform": "sip_trunk",
        "id": "office",
        "listen": f"127.0.0.1:{port}",
        "rtp_ports": "31000-31009",
        "extensions": [
            {
                "user": "101",
                "password": PASSWORDS["101"],
                "name": "Mari Maasikas",
                "mac": "00:15:65:12:34:56",
            },
            {"user": "102", "password": PASSWORDS["102"], "mac": "00-0B-82-AA-BB-CC"},
            {"user": "103", "password": PASSWORDS["103"], "name": "Kati"},
        ],
        "provisioning": provisioning,
    }


async def start(tmp: Path, **provisioning: Any) -> Env:
    plugins = PluginManager()
    plugins.load(entry_points_too=False)
    (tmp / "config.yaml").write_text("# written by the test\n")
    config = hub_config(tmp)
    config["sources"] = [SIP_SCHEMA(sip_source(free_port(), **provisioning))]  # as load_config does
    hub = Hub(config, config_path=tmp / "config.yaml", plugins=plugins)
    await hub.async_start()
    server = hub.integrations["http"]
    assert server.bound_port and "office" in hub.sources, hub.status()
    env = Env(hub, f"http://127.0.0.1:{server.bound_port}")
    now = hub.now().isoformat()
    for name, (role, ext) in ROLES.items():
        await server.accounts.add_user(name, role, password_hash(), ext, now)
        env.tokens[name] = (await accounts.create_token(server.accounts, name, None, "test", now))[1]
    return env


@pytest.fixture
async def penv(tmp_path: Path) -> AsyncIterator[Env]:
    e = await start(tmp_path)
    try:
        yield e
    finally:
        await e.hub.async_stop(call_timeout=0.1)


@pytest.fixture
async def phone(penv: Env) -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(penv.url) as session:
        yield session


async def entries(env: Env, action: str) -> list[dict[str, Any]]:
    return await env.server.accounts.audit_list(action=action)


async def test_the_sip_source_offers_its_phones(penv: Env) -> None:
    source = penv.hub.sources["office"]
    assert isinstance(source, PhoneDirectory)
    plan = source.provisioning_plan()
    assert plan.enabled and plan.port == source.transport.port


async def test_a_configured_mac_gets_its_file(penv: Env, phone: aiohttp.ClientSession) -> None:
    async with phone.get("/provision/001565123456.cfg") as r:
        assert r.status == 200 and r.content_type == "text/plain"
        body = await r.text()
    port = penv.hub.sources["office"].transport.port
    assert body.startswith("#!version:1.0.0.1\n")
    assert "account.1.user_name = 101\n" in body and f"account.1.password = {PASSWORDS['101']}\n" in body
    # No provisioning.server: the box as the phone reached it, on the SIP source's port.
    assert "account.1.sip_server.1.address = 127.0.0.1\n" in body
    assert f"account.1.sip_server.1.port = {port}\n" in body
    async with phone.get("/provision/cfg000b82aabbcc.xml") as r:
        assert r.status == 200 and r.content_type == "application/xml"
        assert "<P35>102</P35>" in await r.text()
    [grandstream, yealink] = await entries(penv, "provision")
    assert yealink["source_addr"] == "127.0.0.1" and yealink["detail"]["mac"] == "00:15:65:12:34:56"
    assert yealink["detail"] == {
        "mac": "00:15:65:12:34:56",
        "file": "001565123456.cfg",
        "ok": True,
        "source": "office",
        "extension": "101",
        "phone": "yealink",
    }
    assert grandstream["detail"]["extension"] == "102"


async def test_unknown_macs_and_wrong_families_get_404_and_are_audited(
    penv: Env, phone: aiohttp.ClientSession
) -> None:
    for name in ("001565000000.cfg", "cfg001565123456.xml", "001565123456.xml"):
        async with phone.get(f"/provision/{name}") as r:
            assert r.status == 404, name
    # Common files phones also ask for: 404, neither counted nor audited.
    async with phone.get("/provision/y000000000028.cfg") as r:
        assert r.status == 404
    rows = await entries(penv, "provision")
    assert [row["detail"]["ok"] for row in rows] == [False, False, False]
    assert {row["detail"]["file"] for row in rows} == {
        "001565000000.cfg",
        "cfg001565123456.xml",
        "001565123456.xml",
    }


async def test_misses_are_rate_limited_per_client_address(penv: Env, phone: aiohttp.ClientSession) -> None:
    for n in range(routes.FAILURES):
        async with phone.get(f"/provision/0015650000{n:02d}.cfg") as r:
            assert r.status == 404
    # Now even a configured MAC is refused from this address, until the window passes.
    async with phone.get("/provision/001565123456.cfg") as r:
        assert r.status == 429 and int(r.headers["Retry-After"]) > 0
    limiter = penv.server.runner.app[routes.LIMITER_KEY]
    limiter.succeeded("addr:127.0.0.1")
    async with phone.get("/provision/001565123456.cfg") as r:
        assert r.status == 200


async def test_unknown_and_known_macs_answer_in_the_same_time(phone: aiohttp.ClientSession) -> None:
    """No timing oracle: a miss writes a decoy file and an audit entry like a hit does."""

    async def median_ms(name: str, n: int = 4) -> float:
        times = []
        for _ in range(n):
            started = time.perf_counter()
            async with phone.get(f"/provision/{name}") as r:
                await r.read()
            times.append((time.perf_counter() - started) * 1000)
        return statistics.median(times)

    known = await median_ms("001565123456.cfg")
    unknown = await median_ms("001565999999.cfg")
    assert abs(known - unknown) < max(5.0, known), (known, unknown)


async def test_passwords_never_reach_the_log_or_the_audit(
    penv: Env, phone: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    async with phone.get("/provision/001565123456.cfg") as r:
        assert r.status == 200
    async with penv_admin(penv) as admin, admin.get("/api/extensions/101/provisioning?reveal=1") as r:
        assert (await r.json())["manual"]["password"] == PASSWORDS["101"]
    rows = await penv.server.sqlite_conn.execute_fetchall("SELECT detail FROM http_audit")
    for secret in PASSWORDS.values():
        assert secret not in caplog.text
        assert all(secret not in row[0] for row in rows)


def penv_admin(env: Env, who: str = "admin") -> aiohttp.ClientSession:
    return aiohttp.ClientSession(env.url, headers=env.bearer(who))


async def test_the_admin_api_gives_urls_qr_and_manual_values(penv: Env) -> None:
    port = penv.hub.sources["office"].transport.port
    async with penv_admin(penv) as admin:
        async with admin.get("/api/extensions/101/provisioning") as r:
            assert r.status == 200
            view = await r.json()
        assert view["extension"] == "101" and view["enabled"] is True
        assert view["phone"] == {
            "mac": "00:15:65:12:34:56",
            "family": "yealink",
            "file": "001565123456.cfg",
            "url": f"{penv.url}/provision/001565123456.cfg",
        }
        assert view["manual"] == {
            "server": "127.0.0.1",
            "port": port,
            "transport": "udp",
            "user": "101",
            "auth_user": "101",
            "display_name": "Mari Maasikas",
            "codecs": ["PCMA", "PCMU", "G722"],
            "dtmf": "RFC 4733 (RFC 2833), payload 101",
        }
        assert view["sip_uri"] == f"sip:101@127.0.0.1:{port};transport=udp"
        assert view["linphone"]["qr_svg"].startswith("<svg")
        # The Linphone URL works as it is, and only with the extension's token.
        async with aiohttp.ClientSession() as app:
            async with app.get(view["linphone"]["url"]) as r:
                assert r.status == 200
                text = await r.text()
                assert '<config xmlns="http://www.linphone.org/xsds/lpconfig.xsd"' in text
                assert '<entry name="username" overwrite="true">101</entry>' in text
            async with app.get(f"{penv.url}/provision/linphone/{'A' * 24}.xml") as r:
                assert r.status == 404
        async with admin.get("/api/extensions/103/provisioning") as r:
            soft = await r.json()
            assert soft["phone"] is None and soft["linphone"]["url"] and "password" not in soft["manual"]
        async with admin.get("/api/extensions/109/provisioning") as r:
            assert r.status == 404
    rows = await entries(penv, "provisioning_view")
    assert [(row["user"], row["detail"]["extension"], row["detail"]["reveal"]) for row in rows] == [
        ("admin", "103", False),
        ("admin", "101", False),
    ]


async def test_only_admins_see_provisioning(penv: Env) -> None:
    for who, status in (("agent1", 403), ("manager", 403)):
        async with penv_admin(penv, who) as client, client.get("/api/extensions/101/provisioning") as r:
            assert r.status == status, who
    async with aiohttp.ClientSession(penv.url) as anonymous:
        async with anonymous.get("/api/extensions/101/provisioning") as r:
            assert r.status == 401


async def test_reveal_is_audited(penv: Env) -> None:
    async with penv_admin(penv) as admin, admin.get("/api/extensions/102/provisioning?reveal=1") as r:
        assert (await r.json())["manual"]["password"] == PASSWORDS["102"]
    [row] = await entries(penv, "provisioning_view")
    assert row["detail"] == {
        "extension": "102",
        "source": "office",
        "reveal": True,
        "role": "admin",
        "via": "token",
    }


async def test_a_path_token_is_required_when_configured(tmp_path: Path) -> None:
    env = await start(tmp_path, token=TOKEN, server="pbx.shop.lan:5080", transport="tcp")
    try:
        async with aiohttp.ClientSession(env.url) as phone:
            async with phone.get("/provision/001565123456.cfg") as r:
                assert r.status == 404
            async with phone.get(f"/provision/{'x' * 20}/001565123456.cfg") as r:
                assert r.status == 404
            async with phone.get(f"/provision/{TOKEN}/001565123456.cfg") as r:
                assert r.status == 200
                body = await r.text()
        assert "account.1.sip_server.1.address = pbx.shop.lan\n" in body
        assert "account.1.sip_server.1.port = 5080\n" in body
        assert "account.1.sip_server.1.transport_type = 1\n" in body
        async with penv_admin(env) as admin, admin.get("/api/extensions/101/provisioning") as r:
            view = await r.json()
        assert view["phone"]["url"] == f"{env.url}/provision/{TOKEN}/001565123456.cfg"
        assert view["manual"]["server"] == "pbx.shop.lan" and view["manual"]["transport"] == "tcp"
    finally:
        await env.hub.async_stop(call_timeout=0.1)


async def test_nothing_is_served_when_provisioning_is_off(tmp_path: Path) -> None:
    env = await start(tmp_path, enabled=False)
    try:
        async with aiohttp.ClientSession(env.url) as phone, phone.get("/provision/001565123456.cfg") as r:
            assert r.status == 404
        async with penv_admin(env) as admin, admin.get("/api/extensions/101/provisioning") as r:
            view = await r.json()
        assert view["enabled"] is False and view["phone"]["url"] is None and view["linphone"]["url"] is None
        assert view["manual"]["user"] == "101"
    finally:
        await env.hub.async_stop(call_timeout=0.1)
