"""Running the setup app on exactly the address given, until the wizard finishes.

Bound only to ``--listen`` (so ``127.0.0.1:8080`` keeps it on this machine); the one-time
code is printed on the terminal, never sent over the network.  :func:`serve_setup` returns
the finish result (None when stopped by a signal first), after the app has stopped and freed
its port -- ``salvesti run`` starts the real hub on that port next.
"""

from __future__ import annotations

import asyncio
import signal
import socket
import sys
from pathlib import Path
from typing import Any, TextIO

from aiohttp import web

from salvesti.core.plugins import PluginManager
from salvesti.integrations.sip.schema import split_hostport
from salvesti.setup.app import SetupContext, make_app
from salvesti.setup.guard import SetupCode

DEFAULT_LISTEN = "0.0.0.0:8080"


def parse_listen(listen: str) -> tuple[str, int]:
    """``host[:port]`` (8080 by default); port 0 picks a free one (tests)."""
    if listen.endswith(":0"):
        return split_hostport(listen[:-2], 8080)[0], 0
    host, port = split_hostport(listen, 8080)
    assert port is not None
    return host, port


def page_urls(host: str, port: int) -> list[str]:
    """Addresses to type into a browser: the host itself, or this machine's when it is 0.0.0.0."""
    if host not in ("0.0.0.0", "::"):
        shown = f"[{host}]" if ":" in host else host
        return [f"http://{shown}:{port}/"]
    urls = [f"http://127.0.0.1:{port}/"]
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.connect(("192.0.2.1", 9))  # a route lookup; nothing is sent
            lan = s.getsockname()[0]
        if lan != "127.0.0.1":
            urls.append(f"http://{lan}:{port}/")
    except OSError:
        pass
    return urls


class SetupServer:
    """The setup app listening on one address; ``started`` holds the real port."""

    def __init__(self, config_path: Path, listen: str, plugins: PluginManager, code: str | None = None):
        self.host, self.port = parse_listen(listen)
        shown = f"[{self.host}]" if ":" in self.host else self.host
        self.ctx = SetupContext(config_path, f"{shown}:{self.port}", plugins, SetupCode(code))
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        self._runner = web.AppRunner(make_app(self.ctx), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        if self.port == 0:  # tests: the port the kernel chose
            self.port = int(self._runner.addresses[0][1])
            shown = f"[{self.host}]" if ":" in self.host else self.host
            self.ctx.http_listen = f"{shown}:{self.port}"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def wait(self) -> dict[str, Any] | None:
        await self.ctx.finished.wait()
        await asyncio.sleep(0.2)  # let the finish answer reach the browser before the port closes
        return self.ctx.result


async def serve_setup(
    config_path: Path, listen: str, plugins: PluginManager, *, out: TextIO = sys.stderr
) -> dict[str, Any] | None:
    """Serve until the wizard finishes (its result) or SIGINT/SIGTERM (None)."""
    server = SetupServer(config_path, listen, plugins)
    await server.start()
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    print(f"Salvesti setup for {config_path}: open", file=out)
    for url in page_urls(server.host, server.port):
        print(f"    {url}", file=out)
    print(f"and enter the setup code:  {server.ctx.code.code}", file=out)
    print(
        "(English: add ?lang=en to the address.  Ctrl+C stops setup; nothing is written before "
        "the last step.)",
        file=out,
        flush=True,
    )
    waiter = asyncio.ensure_future(server.wait())
    stopper = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({waiter, stopper}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)
        for task in (waiter, stopper):
            task.cancel()
        await asyncio.gather(waiter, stopper, return_exceptions=True)
        await server.stop()
    return server.ctx.result
