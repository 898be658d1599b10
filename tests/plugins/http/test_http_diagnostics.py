"""``GET /api/diagnostics`` through the running HTTP plugin: who may see it, and its shape,
with a real sip_trunk source whose carrier (a UDP socket here) refuses it with 403, a
webrtc source, a recent recording for the disk estimate and a retention rule."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from diag_env import RETENTION, refusing_carrier, sip_source
from http_env import Env, make_call, start_env

from salvesti.integrations.webrtc.schema import SCHEMA as WEBRTC_SCHEMA


@pytest.fixture
async def diag_env(tmp_path: Path) -> AsyncIterator[Env]:
    carrier, carrier_port = await refusing_carrier()
    source = sip_source(carrier_port)
    browser = WEBRTC_SCHEMA({"platform": "webrtc", "id": "browser", "extensions": ["103"]})
    env = await start_env(tmp_path, config={"sources": [source, browser], "retention": RETENTION})
    try:
        recent = make_call(tmp_path / "data" / "recordings" / "now", 30, ext="101", number="+3725550000")
        recent.started_at = env.hub.now()
        await env.hub.store.save_call(recent)
        env.calls["recent"] = recent
        yield env
    finally:
        await env.hub.async_stop(call_timeout=0.1)
        carrier.close()


async def get(env: Env, who: str | None) -> tuple[int, Any]:
    headers = env.bearer(who) if who else {}
    async with aiohttp.ClientSession(env.url) as http, http.get("/api/diagnostics", headers=headers) as r:
        return r.status, await r.json()


async def test_only_managers_and_admins(diag_env: Env) -> None:
    assert (await get(diag_env, None))[0] == 401
    assert (await get(diag_env, "agent1"))[0] == 403
    assert (await get(diag_env, "manager"))[0] == 200
    assert (await get(diag_env, "admin"))[0] == 200


async def test_the_report_shape_and_the_carriers_refusal(diag_env: Env) -> None:
    source = diag_env.hub.sources["office"]
    for _ in range(200):  # the first REGISTER goes out at setup; its 403 comes back at once
        if source.trunk.status == "failed":
            break
        await asyncio.sleep(0.02)
    status, body = await get(diag_env, "manager")
    assert status == 200
    assert set(body) == {"generated_at", "state", "summary", "checks"}
    checks = {c["id"]: c for c in body["checks"]}
    for c in body["checks"]:
        assert set(c) == {"id", "group", "state", "title_key", "advice_key", "details"}
        assert c["state"] in ("ok", "warn", "fail")
    assert body["state"] == "fail"
    assert body["summary"] == {
        s: sum(c["state"] == s for c in body["checks"]) for s in ("ok", "warn", "fail")
    }

    carrier = checks["carrier.office.trunk"]
    assert (carrier["state"], carrier["advice_key"]) == ("fail", "diag_carrier_forbidden")
    assert carrier["details"]["answer"] == "403 Forbidden"
    assert carrier["details"]["last_answer_at"] is not None
    assert checks["nat.office.trunk"]["advice_key"] == "diag_nat_not_yet"

    mari = checks["extension.office.101"]
    assert (mari["state"], mari["advice_key"]) == ("warn", "diag_ext_not_registered")
    assert mari["details"]["name"] == "Mari" and mari["details"]["listen"].startswith("127.0.0.1:")
    assert mari["details"]["last_call"]["id"] == diag_env.calls["recent"].id
    assert checks["extension.office.102"]["details"]["last_call"]["id"] == diag_env.calls["a2_in"].id

    tab = checks["extension.browser.103"]  # the webrtc source's extension, no tab open
    assert (tab["state"], tab["title_key"]) == ("warn", "diag_ext_tab_title")
    assert tab["advice_key"] == "diag_ext_tab_closed"
    assert checks["media.browser"]["advice_key"] == "diag_media_browser"

    media = checks["media.office"]
    assert media["details"]["capacity"] == 10 and media["details"]["in_use"] == 0

    space = checks["disk.disk"]
    assert space["details"]["retention_days"] == 30
    assert space["details"]["per_day_bytes"] == diag_env.calls["recent"].recording.bytes
    assert space["details"]["free_bytes"] > 0

    assert checks["clock"]["details"]["method"] in ("timedatectl", "timesyncd", "none")
    assert checks["component.source.office"]["state"] == "ok"
    assert checks["component.integration.http"]["advice_key"] == "diag_comp_ok"
    groups = [c["group"] for c in body["checks"]]
    assert (
        groups.index("carrier")
        < groups.index("extensions")
        < groups.index("disk")
        < groups.index("components")
    )
