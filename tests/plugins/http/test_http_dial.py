"""POST /api/calls/dial against a hub whose serial_at source drives the modem simulator (ptys)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
import yaml
from http_env import PASSWORD, hub_config, login, password_hash

from salvesti.core.bus import CALL_ENDED
from salvesti.core.config import load_config
from salvesti.core.hub import Hub
from salvesti.core.plugins import PluginManager
from salvesti.plugins.http import accounts
from salvesti.plugins.http.server import CSRF_HEADER
from salvesti.testing.modem_sim import ModemSimulator

USERS = {"admin": ("admin", None), "agent1": ("agent", "101"), "noext": ("agent", None)}


class DialEnv:
    def __init__(self, hub: Hub, sim: ModemSimulator, tokens: dict[str, str]) -> None:
        self.hub, self.sim, self.tokens = hub, sim, tokens
        self.url = f"http://127.0.0.1:{hub.integrations['http'].bound_port}"
        self.ended: list[dict] = []
        hub.bus.subscribe(CALL_ENDED, lambda e: self.ended.append(e.data))

    def bearer(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}

    async def wait(self, check, seconds: float, what: str) -> None:
        for _ in range(int(seconds / 0.05)):
            if check():
                return
            await asyncio.sleep(0.05)
        raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
async def denv(tmp_path: Path) -> AsyncIterator[DialEnv]:
    sim = ModemSimulator("simcom_sim7600", tmp_path / "ttyGSM", dial_delay=0.2)
    sim.start()
    config = hub_config(tmp_path)
    config["sources"] = [
        {
            "platform": "serial_at",
            "id": "gsm",
            "device": str(sim.path),
            "audio_device": str(sim.audio_path),
            "profile": "simcom_sim7600",
            "line": "+37255500000",
        }
    ]
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    plugins = PluginManager()
    plugins.load(entry_points_too=False)
    hub = Hub(load_config(path, plugins), config_path=path, plugins=plugins)
    await hub.async_start()
    try:
        server = hub.integrations["http"]
        now = hub.now().isoformat()
        tokens = {}
        for name, (role, ext) in USERS.items():
            await server.accounts.add_user(name, role, password_hash(), ext, now)
            tokens[name] = (await accounts.create_token(server.accounts, name, None, "test", now))[1]
        yield DialEnv(hub, sim, tokens)
    finally:
        await hub.async_stop(call_timeout=1)
        sim.stop()


async def test_admin_dials_the_callee_hears_the_notice_and_it_is_audited(denv: DialEnv) -> None:
    async with aiohttp.ClientSession(denv.url) as http:
        async with http.post(
            "/api/calls/dial", json={"number": "5551234"}, headers=denv.bearer("admin")
        ) as r:
            assert r.status == 202, await r.text()
            call = await r.json()
        assert call["direction"] == "outbound" and call["source"] == "gsm"
        assert call["remote_number"] == "+3725551234"
        await denv.wait(lambda: denv.sim.state == "active", 3, "answer")
        await asyncio.sleep(1.0)
        denv.sim.remote_hangup()
        await denv.wait(lambda: denv.ended, 5, "call_ended")
        assert denv.ended[0]["id"] == call["id"] and denv.ended[0]["disposition"] == "answered"
        assert denv.ended[0]["notice"]["played"]
        async with http.get("/api/audit", headers=denv.bearer("admin")) as r:
            entries = (await r.json())["entries"]
    dial = [e for e in entries if e["action"] == "dial"]
    assert dial and dial[-1]["user"] == "admin" and dial[-1]["call_id"] == call["id"]
    detail = dial[-1]["detail"] if isinstance(dial[-1]["detail"], dict) else json.loads(dial[-1]["detail"])
    assert detail["number"] == "5551234" and detail["source"] == "gsm"


async def test_agents_dial_only_as_themselves_and_refusals_are_audited(denv: DialEnv) -> None:
    async with aiohttp.ClientSession(denv.url) as http:
        body = {"number": "5551234", "extension": "102"}
        async with http.post("/api/calls/dial", json=body, headers=denv.bearer("agent1")) as r:
            assert r.status == 403
        async with http.post("/api/calls/dial", json={"number": "1"}, headers=denv.bearer("noext")) as r:
            assert r.status == 403
        # agent1's own extension 101 is on no sip_trunk source here: the source refuses (409)
        async with http.post(
            "/api/calls/dial", json={"number": "5551234"}, headers=denv.bearer("agent1")
        ) as r:
            assert r.status == 409 and "101" in (await r.json())["error"]
        async with http.post("/api/calls/dial", json={"number": "x"}, headers=denv.bearer("admin")) as r:
            assert r.status == 409 and "not a phone number" in (await r.json())["error"]
        async with http.post("/api/calls/dial", json={"nr": "1"}, headers=denv.bearer("admin")) as r:
            assert r.status == 400
        async with http.get("/api/audit", headers=denv.bearer("admin")) as r:
            entries = (await r.json())["entries"]
    refused = [e for e in entries if e["action"] == "dial"]
    assert len(refused) == 4 and all(e["call_id"] is None for e in refused)
    assert denv.sim.state == "idle" and "ATD" not in denv.sim.format_log()


async def test_cookie_session_needs_the_csrf_token(denv: DialEnv) -> None:
    session, csrf = await login(denv, "admin", PASSWORD)  # type: ignore[arg-type]
    async with session:
        async with session.post("/api/calls/dial", json={"number": "5551234"}) as r:
            assert r.status == 403 and "CSRF" in (await r.json())["error"]
        async with session.post(
            "/api/calls/dial", json={"number": "5551234"}, headers={CSRF_HEADER: csrf}
        ) as r:
            assert r.status == 202
        await denv.wait(lambda: denv.sim.state == "active", 3, "answer")
        denv.sim.remote_hangup()
        await denv.wait(lambda: denv.ended, 5, "call_ended")
