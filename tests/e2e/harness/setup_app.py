"""The first-run setup app on its own event loop in a thread, as ``salvesti setup`` runs it,
for the Chromium tests that walk it."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Any

from salvesti.core.plugins import PluginManager
from salvesti.setup.server import SetupServer

CODE = "K7QM-2XHD"


class ThreadedSetup:
    """The setup app on its own event loop in a thread, as `salvesti setup` would run it."""

    def __init__(self, config: Path) -> None:
        plugins = PluginManager()
        plugins.load()
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="setup app", daemon=True)
        self.thread.start()
        self.server = self.run(self._make(config, plugins))
        self.url = f"http://127.0.0.1:{self.server.port}"

    async def _make(self, config: Path, plugins: PluginManager) -> SetupServer:
        server = SetupServer(config, "127.0.0.1:0", plugins, code=CODE)
        await server.start()
        return server

    def run(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(30)

    def close(self) -> None:
        self.run(self.server.stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()
