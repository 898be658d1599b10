"""Settings YAML owns are shown read-only with the file and line they are written on.

The test writes a real ``config.yaml`` (with ``secrets.yaml``), loads it the way ``salvesti
run`` does (:func:`load_config_with_marks`) and starts the hub with it; ``GET /api/settings``
and ``GET /api/diagnostics`` must then name, for each setting, the very line of that file the
setting is on (found here by searching the text the test wrote, not by the loader).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from diag_env import refusing_carrier
from http_env import Env, start_env
from settings_env import EXT_SECRET, TRUNK_SECRET, line_of, write_config


@pytest.fixture
async def written(tmp_path: Path) -> AsyncIterator[tuple[Env, str]]:
    carrier, carrier_port = await refusing_carrier()
    text, blocks, marks = write_config(tmp_path, carrier_port)
    env = await start_env(tmp_path, config=blocks, marks=marks)
    try:
        yield env, text
    finally:
        await env.hub.async_stop(call_timeout=0.1)
        carrier.close()


async def get(env: Env, path: str, who: str | None) -> tuple[int, Any]:
    headers = env.bearer(who) if who else {}
    async with aiohttp.ClientSession(env.url) as http, http.get(path, headers=headers) as r:
        return r.status, await r.json()


async def test_only_managers_and_admins(written: tuple[Env, str]) -> None:
    env, _ = written
    assert (await get(env, "/api/settings", None))[0] == 401
    assert (await get(env, "/api/settings", "agent1"))[0] == 403
    assert (await get(env, "/api/settings", "manager"))[0] == 200


async def test_every_setting_names_its_real_line(written: tuple[Env, str]) -> None:
    env, text = written
    status, body = await get(env, "/api/settings", "admin")
    assert status == 200
    assert body["file"] == "config.yaml"
    [office] = body["sources"]
    assert (office["id"], office["platform"]) == ("office", "sip_trunk")
    assert office["where"] == line_of(text, "- platform: sip_trunk")
    assert office["trunk"] == {
        "registrar": f"127.0.0.1:{env.hub.sources['office'].trunk.conf['registrar'].split(':')[1]}",
        "username": "3726000000",
        "line": None,
        "transport": "udp",
        "where": line_of(text, "trunk: {registrar"),
    }
    lines_at = line_of(text, "lines: [")
    assert office["lines"] == [
        {"number": "+3726000000", "where": lines_at},
        {"number": "+3726000001", "where": lines_at},
    ]
    assert office["extensions"] == [
        {"user": "101", "name": "Mari", "mac": "001565123456", "where": line_of(text, '{user: "101"')},
        {"user": "102", "name": None, "mac": None, "where": line_of(text, '{user: "102"')},
    ]
    assert office["inbound"] == [
        {"line": "+3726000000", "extensions": ["101", "102"], "where": line_of(text, '"+3726000000": [')}
    ]
    assert [(r["id"], r["days"], r["where"]) for r in body["retention"]] == [
        ("sales", 60, line_of(text, "id: sales")),
        ("default", 10, line_of(text, "id: default")),
    ]
    assert [(n["id"], n["file"], n["directions"], n["where"]) for n in body["notices"]] == [
        ("et", "notices/et.wav", ["inbound", "outbound"], line_of(text, "id: et"))
    ]
    shown = json.dumps(body)
    assert TRUNK_SECRET not in shown and EXT_SECRET not in shown  # passwords never shown


async def test_diagnostics_say_where_each_checked_setting_is(written: tuple[Env, str]) -> None:
    env, text = written
    source = env.hub.sources["office"]
    for _ in range(200):  # the REGISTER goes out at setup; its 403 comes back at once
        if source.trunk.status == "failed":
            break
        await asyncio.sleep(0.02)
    status, body = await get(env, "/api/diagnostics", "manager")
    assert status == 200
    where = {c["id"]: c["details"].get("where") for c in body["checks"]}
    assert where["carrier.office.trunk"] == where["nat.office.trunk"] == line_of(text, "trunk: {registrar")
    assert where["extension.office.101"] == line_of(text, '{user: "101"')
    assert where["extension.office.102"] == line_of(text, '{user: "102"')
    assert where["media.office"] == line_of(text, "rtp_ports:")
    disk = [c for c in body["checks"] if c["group"] == "disk"]
    assert disk and all(c["details"]["where"] == line_of(text, "days: 60") for c in disk)  # the longest rule
    components = {
        (c["details"]["kind"], c["details"]["id"]): c["details"]["where"]
        for c in body["checks"]
        if c["group"] == "components"
    }
    assert components[("source", "office")] == line_of(text, "- platform: sip_trunk")
    assert components[("retention", "default")] == line_of(text, "id: default")
    assert components[("notice", "et")] == line_of(text, "id: et")
    assert components[("integration", "http")] == line_of(text, "http:")  # a block, not a list item
    assert components[("store", "store")] is None  # left at its default: no line to name


async def test_an_extensions_provisioning_says_where_it_is_set(written: tuple[Env, str]) -> None:
    env, text = written
    status, body = await get(env, "/api/extensions/101/provisioning", "admin")
    assert status == 200, body
    assert body["phone"]["family"] == "yealink"
    assert body["where"] == {
        "extension": line_of(text, '{user: "101"'),
        "provisioning": line_of(text, "provisioning: {"),
    }
