"""The local control channel of a running ``salvesti run``: a Unix socket, JSON lines.

Why a Unix socket in ``data_dir`` (``control.sock``, mode 0600) rather than the HTTP API:

- it needs no credentials: whoever can open the socket is the user that runs Salvesti (or
  root), the same trust as reading the config, the database and the recordings, which
  ``salvesti calls list`` already does; the HTTP API would need a token handed to the CLI;
- it works when the ``http:`` block is absent (a Raspberry Pi that only records) and is
  never reachable from the network, whatever ``http.listen`` says;
- JSON lines are trivial to speak from a shell (``socat - UNIX-CONNECT:data/control.sock``).

One request per line, one response line per request::

    {"op": "dial", "source": "gsm", "number": "+3725551234", "extension": "101", "wait": false}
    -> {"ok": true, "call": {...call object...}}         (with "wait": true, when it ended)
    -> {"ok": false, "error": "line +3725550000 is in use"}
    {"op": "test_call", "extension": "101", "seconds": 5, "wait": true}
    -> {"ok": true, "call": {...}}                        (see :mod:`salvesti.core.test_call`)

The hub does not know this module: sources that can act on request (a ``Dialer``, a
``TestCaller``) call
:func:`acquire` in their setup and :func:`release` when unloaded; the socket lives while at
least one of them is loaded.  A stale socket file left by a crash is replaced.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import socket
from pathlib import Path
from typing import Any

from salvesti.core import test_call
from salvesti.core.bus import CALL_ENDED
from salvesti.core.components import Dialer

_LOGGER = logging.getLogger(__name__)
SOCKET_NAME = "control.sock"
#: Longest request line accepted (a dial request is ~100 bytes).
MAX_LINE = 4096
#: How long a ``wait`` request may keep its connection (a long call is fine).
WAIT_LIMIT = 6 * 3600.0

_servers: dict[int, ControlServer] = {}


def socket_path(data_dir: str | os.PathLike[str]) -> Path:
    return Path(data_dir) / SOCKET_NAME


class ControlServer:
    """Serves :data:`SOCKET_NAME` for one hub."""

    def __init__(self, hub: Any) -> None:
        self.hub = hub
        self.path = socket_path(hub.data_dir)
        self.users = 0
        self._server: asyncio.AbstractServer | None = None

    async def start(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()  # left behind by a crash
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.bind(str(self.path))
            os.chmod(self.path, 0o600)  # before listen(): nobody else can ever connect
        except OSError:
            sock.close()
            raise
        self._server = await asyncio.start_unix_server(self._client, sock=sock, limit=MAX_LINE)
        _LOGGER.info("control socket at %s", self.path)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 2)
            self._server = None
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            for _ in range(1000):  # bounded: a client may send several requests
                try:
                    line = await reader.readline()
                except (ValueError, asyncio.LimitOverrunError):
                    writer.write(_line({"ok": False, "error": "request too long"}))
                    break
                if not line:
                    break
                writer.write(_line(await self.handle(line)))
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def handle(self, line: bytes) -> dict[str, Any]:
        try:
            req = json.loads(line)
        except ValueError:
            return {"ok": False, "error": "not JSON"}
        if not isinstance(req, dict):
            return {"ok": False, "error": "a JSON object per line"}
        if req.get("op") == "dial":
            return await self._dial(req)
        if req.get("op") == "test_call":
            return await self._test_call(req)
        return {"ok": False, "error": f"unknown op {req.get('op')!r}"}

    async def _dial(self, req: dict[str, Any]) -> dict[str, Any]:
        return await dial(
            self.hub,
            str(req.get("source") or ""),
            str(req.get("number") or ""),
            extension=str(req["extension"]) if req.get("extension") else None,
            wait=bool(req.get("wait")),
        )

    async def _test_call(self, req: dict[str, Any]) -> dict[str, Any]:
        seconds = req.get("seconds")
        if seconds is not None and not isinstance(seconds, int | float):
            return {"ok": False, "error": "seconds must be a number"}
        return await test_call.start(
            self.hub, str(req.get("extension") or ""), seconds=seconds, wait=bool(req.get("wait"))
        )


async def dial(
    hub: Any, source_id: str, number: str, *, extension: str | None = None, wait: bool = False
) -> dict[str, Any]:
    """Ask the source ``source_id`` to dial; the answer is what the socket sends back.

    Shared by the socket and the HTTP route so both report the same errors.
    """
    source = hub.sources.get(source_id)
    if source is None:
        return {"ok": False, "error": f"no source {source_id!r}", "status": 404}
    if not isinstance(source, Dialer):
        return {"ok": False, "error": f"source {source_id!r} cannot dial", "status": 400}
    ended: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
    call_id: list[str] = []

    def on_end(event: Any) -> None:
        if call_id and event.data.get("id") == call_id[0] and not ended.done():
            ended.set_result(event.data)

    unsubscribe = hub.bus.subscribe(CALL_ENDED, on_end)
    try:
        try:
            call = await source.dial(number, extension=extension)
        except Exception as err:  # DialError and the device's own trouble: report, never crash
            return {"ok": False, "error": str(err) or type(err).__name__, "status": 409}
        call_id.append(call.id)
        if not wait:
            return {"ok": True, "call": call.to_json()}
        try:
            return {"ok": True, "call": await asyncio.wait_for(ended, WAIT_LIMIT)}
        except TimeoutError:
            return {"ok": True, "call": call.to_json()}
    finally:
        unsubscribe()


def _line(obj: dict[str, Any]) -> bytes:
    return json.dumps({k: v for k, v in obj.items() if k != "status"}, default=str).encode() + b"\n"


async def acquire(hub: Any) -> None:
    """A source that serves requests is up: make sure the socket is served."""
    server = _servers.get(id(hub))
    if server is None:
        server = _servers[id(hub)] = ControlServer(hub)
        try:
            await server.start()
        except OSError as err:
            _LOGGER.warning("control socket %s: %s (dial, test-call will not work)", server.path, err)
    server.users += 1


async def release(hub: Any) -> None:
    server = _servers.get(id(hub))
    if server is None:
        return
    server.users -= 1
    if server.users <= 0:
        del _servers[id(hub)]
        await server.stop()


async def request(path: str | os.PathLike[str], payload: dict[str, Any], *, limit: float) -> dict[str, Any]:
    """Client side (the CLI): send one request and read its answer within ``limit`` seconds."""
    reader, writer = await asyncio.wait_for(asyncio.open_unix_connection(str(path)), 5)
    try:
        writer.write(json.dumps(payload).encode() + b"\n")
        await writer.drain()
        line = await asyncio.wait_for(reader.readline(), limit)
    finally:
        writer.close()
        with contextlib.suppress(Exception):
            await writer.wait_closed()
    if not line:
        return {"ok": False, "error": "salvesti closed the connection"}
    answer = json.loads(line)
    return answer if isinstance(answer, dict) else {"ok": False, "error": "bad answer"}
