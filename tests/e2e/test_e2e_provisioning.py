"""A real softphone set up from what the provisioning API says, registering to a real box.

baresip cannot read the vendors' provisioning files, but the admin API's hand-typed values
(server, port, transport, user, password with ``reveal=1``) are exactly what a person would
type into any SIP phone: the test types them into baresip's account line and the phone must
register with them.  The hub runs in-process; blocking waits go to a thread so it keeps
answering SIP while the test waits.
"""

from __future__ import annotations

import asyncio
import time
import wave
from pathlib import Path

import aiohttp
import pytest
from harness.baresip import Baresip
from harness.ports import PORTS
from harness.procs import require_tool

from salvesti.core.hub import Hub
from salvesti.core.plugins import PluginManager
from salvesti.integrations.sip.schema import SCHEMA as SIP_SCHEMA
from salvesti.plugins.http import accounts, auth

pytestmark = pytest.mark.e2e

PASSWORD = "x8R2-qv9T-m4Lw"


def silence(path: Path) -> Path:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(b"\0\0" * 8000)
    return path


async def test_baresip_registers_with_the_values_the_api_gives(tmp_path: Path) -> None:
    require_tool("baresip")  # a missing tool fails the test, never skips it
    sip_port = PORTS.port()
    rtp_low, rtp_high = PORTS.block(10)
    source = SIP_SCHEMA(
        {
            "platform": "sip_trunk",
            "id": "office",
            "listen": f"127.0.0.1:{sip_port}",
            "rtp_ports": f"{rtp_low}-{rtp_high}",
            "extensions": [{"user": "101", "password": PASSWORD, "name": "Mari", "mac": "001565123456"}],
            "provisioning": {"server": "127.0.0.1", "transport": "udp"},
        }
    )
    config = {
        "salvesti": {"data_dir": str(tmp_path / "data"), "timezone": "Europe/Tallinn", "purpose": "test"},
        "store": {"platform": "sqlite"},
        "sinks": [{"platform": "local", "id": "disk", "path": str(tmp_path / "rec"), "format": "wav"}],
        "sources": [source],
        "http": {"listen": "127.0.0.1:0"},
    }
    plugins = PluginManager()
    plugins.load(entry_points_too=False)
    (tmp_path / "config.yaml").write_text("# written by the test\n")
    hub = Hub(config, config_path=tmp_path / "config.yaml", plugins=plugins)
    await hub.async_start()
    phone: Baresip | None = None
    try:
        server = hub.integrations["http"]
        now = hub.now().isoformat()
        pw_hash = auth.hash_password("correct horse battery")
        await server.accounts.add_user("admin", "admin", pw_hash, None, now)
        token = (await accounts.create_token(server.accounts, "admin", None, "test", now))[1]
        url = f"http://127.0.0.1:{server.bound_port}/api/extensions/101/provisioning?reveal=1"
        async with (
            aiohttp.ClientSession() as http,
            http.get(url, headers={"Authorization": f"Bearer {token}"}) as r,
        ):
            assert r.status == 200
            manual = (await r.json())["manual"]
        assert (manual["server"], manual["port"], manual["transport"]) == ("127.0.0.1", sip_port, "udp")
        aor = Baresip.account(
            manual["user"],
            f"{manual['server']}:{manual['port']};transport={manual['transport']}",
            password=manual["password"],
            register=True,
            codecs=",".join(manual["codecs"][:2]),
        )
        phone = Baresip("ext101", tmp_path, aor=aor, audio=silence(tmp_path / "silence.wav"))
        await asyncio.to_thread(phone.start)
        await asyncio.to_thread(phone.wait_registered, 15.0)
        registered = hub.sources["office"].registrar.registered(time.monotonic())
        assert registered.get("101") == 1, registered
    finally:
        if phone is not None:
            await asyncio.to_thread(phone.stop)
        await hub.async_stop(call_timeout=0.1)
