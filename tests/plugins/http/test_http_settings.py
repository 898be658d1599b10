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
from diag_env import free_block, free_sip_port, refusing_carrier
from http_env import Env, make_notice, start_env

from salvesti.core.config import load_config_with_marks
from salvesti.core.plugins import PluginManager

TRUNK_SECRET = "Carrier-secret-77"
EXT_SECRET = "Ext-secret-101-xyz"

CONFIG = """\
# Written by test_http_settings: the API must point at these lines.
salvesti:
  data_dir: ./data
  purpose: "Klienditeeninduse kvaliteet"
http:
  listen: 127.0.0.1:0
sources:
  - platform: sip_trunk
    id: office
    listen: 127.0.0.1:{sip}
    rtp_ports: {low}-{high}
    trunk: {{registrar: "127.0.0.1:{carrier}", username: "3726000000", password: !secret trunk}}
    lines: ["+3726000000", "+3726000001"]
    extensions:
      - {{user: "101", password: !secret ext101, name: "Mari"}}
      - {{user: "102", password: !secret ext102}}
    inbound:
      "+3726000000": ["101", "102"]
retention:
  - {{platform: max_age, id: sales, match: {{line: "+3726000000"}}, days: 60}}
  - {{platform: max_age, id: default, days: 10}}
notices:
  - {{platform: audio_file, id: et, file: notices/et.wav, directions: [inbound, outbound]}}
"""


def line_of(text: str, needle: str) -> str:
    """``config.yaml:N`` of the one line of ``text`` that contains ``needle``."""
    found = [n for n, line in enumerate(text.splitlines(), start=1) if needle in line]
    assert len(found) == 1, (needle, found)
    return f"config.yaml:{found[0]}"


@pytest.fixture
async def written(tmp_path: Path) -> AsyncIterator[tuple[Env, str]]:
    carrier, carrier_port = await refusing_carrier()
    low = free_block(20)
    text = CONFIG.format(sip=free_sip_port(), low=low, high=low + 19, carrier=carrier_port)
    (tmp_path / "config.yaml").write_text(text, encoding="utf-8")
    secrets = {"trunk": TRUNK_SECRET, "ext101": EXT_SECRET, "ext102": "Ext-secret-102-xyz"}
    (tmp_path / "secrets.yaml").write_text("".join(f'{k}: "{v}"\n' for k, v in secrets.items()))
    (tmp_path / "notices").mkdir()
    make_notice(tmp_path / "notices" / "et.wav")
    plugins = PluginManager()
    plugins.load(entry_points_too=False)
    config, marks = load_config_with_marks(tmp_path / "config.yaml", plugins)
    blocks = {key: config[key] for key in ("sources", "retention", "notices")}
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
        {"user": "101", "name": "Mari", "mac": None, "where": line_of(text, '{user: "101"')},
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
