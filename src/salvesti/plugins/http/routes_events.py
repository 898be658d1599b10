"""Server-sent events for live refresh: call progress from the hub's bus, filtered per user.

An agent receives only events about calls their extension took part in.  On a PostgreSQL
store the call events of the other nodes arrive too (:mod:`.events_relay`).  A comment line every
15 s keeps proxies from closing an idle stream; the stream ends when the server unloads.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

from aiohttp import web

from salvesti.plugins.http.events_relay import CALL_EVENTS
from salvesti.plugins.http.server import SECURITY_HEADERS, can_see, principal, server_of

HEARTBEAT_S = 15.0
OTHER_EVENTS = frozenset({"source_status"})


def visible_event(p: Any, item: dict[str, Any]) -> bool:
    name = item["event"]
    if name in CALL_EVENTS:
        return can_see(p, item["data"])
    return name in OTHER_EVENTS and p.can("manager")


async def stream(request: web.Request) -> web.StreamResponse:
    server = server_of(request)
    p = principal(request)
    queue: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()
    server.sse_queues.add(queue)
    resp = web.StreamResponse(
        headers={
            "Content-Type": "text/event-stream",
            "Cache-Control": "no-store",
            "X-Accel-Buffering": "no",
        }
    )
    for name, value in SECURITY_HEADERS.items():
        resp.headers[name] = value
    try:
        await resp.prepare(request)
        await resp.write(b": connected\n\nretry: 3000\n\n")
        while True:
            try:
                item = await asyncio.wait_for(queue.get(), HEARTBEAT_S)
            except TimeoutError:
                await resp.write(b": keep-alive\n\n")
                continue
            if item is None:
                break
            if not visible_event(p, item):
                continue
            data = json.dumps(item["data"], separators=(",", ":"))
            await resp.write(f"event: {item['event']}\ndata: {data}\n\n".encode())
        with contextlib.suppress(ConnectionResetError, RuntimeError):
            await resp.write_eof()
    except ConnectionResetError:
        pass  # the browser went away
    finally:
        server.sse_queues.discard(queue)
    return resp


def add_routes(app: web.Application) -> None:
    app.router.add_get("/api/events", stream)
