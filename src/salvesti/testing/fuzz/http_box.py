"""A real hub with the HTTP API on a free loopback port, and a token for each role.

What the HTTP fuzz target talks to: the same Hub ``salvesti run`` builds (SQLite store, local
sink, the http plugin), not a mocked app, so a 500 anywhere behind a route shows.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

from salvesti.core.hub import Hub
from salvesti.core.plugins import PluginManager
from salvesti.plugins.http import accounts, auth

#: (user, role, extension): one of each role the API knows.
USERS = [("admin", "admin", None), ("manager", "manager", None), ("agent", "agent", "101")]


@dataclass
class HttpBox:
    hub: Hub
    url: str
    #: Bearer token per user name of :data:`USERS`.
    tokens: dict[str, str] = field(default_factory=dict)


@asynccontextmanager
async def http_box(tmp: Path) -> AsyncIterator[HttpBox]:
    """Start the hub in ``tmp`` on the running loop; stopped on exit."""
    data = tmp / "data"
    config = {
        "salvesti": {"data_dir": str(data), "timezone": "Europe/Tallinn", "purpose": "fuzz"},
        "store": {"platform": "sqlite"},
        "sinks": [{"platform": "local", "id": "disk", "path": str(data / "recordings"), "format": "wav"}],
        "http": {"listen": "127.0.0.1:0"},
    }
    plugins = PluginManager()
    plugins.load(entry_points_too=False)
    (tmp / "config.yaml").write_text("# written by salvesti.testing.fuzz\n")
    hub = Hub(config, config_path=tmp / "config.yaml", plugins=plugins)
    await hub.async_start()
    try:
        server = hub.integrations["http"]
        box = HttpBox(hub, f"http://127.0.0.1:{server.bound_port}")
        now = hub.now().isoformat()
        hashed = auth.hash_password("fuzz-box correct horse battery", n=2**10)
        for name, role, ext in USERS:
            await server.accounts.add_user(name, role, hashed, ext, now)
            box.tokens[name] = (await accounts.create_token(server.accounts, name, None, "fuzz", now))[1]
        yield box
    finally:
        await hub.async_stop(call_timeout=0.1)
