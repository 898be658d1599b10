"""The browser phone's page (``/phone``) and its signalling WebSocket (``/api/phone/ws``).

The socket is authenticated like the rest of the UI and nothing more is asked: the session
cookie (a bearer token is not enough: a phone is a person at a browser), the session's
CSRF token in the ``csrf`` query parameter, and an Origin that is this server.  The user's
extension must be one a ``webrtc`` source serves; otherwise 403 and nothing is dialled.
Each message is handed to that source (``core.components.PhoneTabs``); what it answers is
queued and written by one writer task, so a slow tab never blocks the source.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
from typing import Any

from aiohttp import WSMsgType, web

from salvesti.core.components import PhoneTabs
from salvesti.plugins.http.routes_ui import STATIC
from salvesti.plugins.http.server import CSP, _origin_ok, api_error, principal, server_of

_LOGGER = logging.getLogger(__name__)

MAX_MESSAGE = 128 * 1024
#: Messages queued to one tab beyond this close its socket (a tab that stopped reading).
MAX_QUEUE = 200


def phones_for(hub: Any, extension: str | None) -> PhoneTabs | None:
    if not extension:
        return None
    for component in getattr(hub, "sources", {}).values():
        if isinstance(component, PhoneTabs) and component.serves(extension):
            return component
    return None


async def phone_page(request: web.Request) -> web.Response:
    server = server_of(request)
    html = (STATIC / "phone.html").read_text(encoding="utf-8")
    html = html.replace('<html lang="et">', f'<html lang="{server.language}">', 1)
    host = request.host
    headers = {
        "Cache-Control": "no-cache",
        # The one page that may use the microphone; the socket is on this same host.
        "Permissions-Policy": "camera=(), microphone=(self), geolocation=()",
        "Content-Security-Policy": CSP.replace(
            "connect-src 'self'", f"connect-src 'self' ws://{host} wss://{host}"
        ),
    }
    return web.Response(text=html, content_type="text/html", headers=headers)


async def phone_info(request: web.Request) -> web.Response:
    """Whether this user has a browser phone (the page asks before it offers "Enable phone")."""
    p = principal(request)
    phones = phones_for(server_of(request).hub, p.extension)
    return web.json_response({"extension": p.extension, "available": phones is not None})


async def phone_socket(request: web.Request) -> web.StreamResponse:
    server = server_of(request)
    p = principal(request)
    if p.via != "session":
        raise api_error(403, "the phone needs a browser session (log in), not an API token")
    sent = request.query.get("csrf", "")
    if not _origin_ok(request) or not p.csrf or not hmac.compare_digest(sent, p.csrf):
        raise api_error(403, "CSRF check failed")
    phones = phones_for(server.hub, p.extension)
    if phones is None:
        raise api_error(403, "your extension has no browser phone")
    ws = web.WebSocketResponse(max_msg_size=MAX_MESSAGE, heartbeat=30.0)
    await ws.prepare(request)
    queue: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()

    def send(message: dict[str, Any]) -> None:
        if queue.qsize() < MAX_QUEUE:
            queue.put_nowait(message)
        else:
            queue.put_nowait(None)

    transport = request.transport
    sockname = transport.get_extra_info("sockname") if transport is not None else None
    tab = phones.open_tab(
        user=p.name,
        extension=p.extension or "",
        send=send,
        page_host=page_address(sockname),
        client=request.remote,
    )
    await server.audit(request, "phone_open", detail={"extension": p.extension})
    writer = asyncio.get_running_loop().create_task(_write(ws, queue))
    try:
        async for msg in ws:
            if msg.type != WSMsgType.TEXT:
                if msg.type == WSMsgType.BINARY:
                    send({"type": "error", "code": "bad_message", "message": "send JSON text"})
                continue
            try:
                data = json.loads(msg.data)
            except ValueError:
                send({"type": "error", "code": "bad_message", "message": "not JSON"})
                continue
            try:
                await phones.receive(tab, data)
            except Exception:
                _LOGGER.exception("http: phone message failed")
                send({"type": "error", "code": "internal", "message": "the box could not handle that"})
    finally:
        await phones.close_tab(tab)
        queue.put_nowait(None)
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await asyncio.wait_for(writer, 2)
    return ws


async def _write(ws: web.WebSocketResponse, queue: asyncio.Queue[dict[str, Any] | None]) -> None:
    while True:
        item = await queue.get()
        if item is None or ws.closed:
            await ws.close()
            return
        try:
            await ws.send_json(item)
        except ConnectionError:
            return


def page_address(sockname: Any) -> str:
    """The local address the tab's connection came in on: where its ICE candidates go."""
    host = str(sockname[0]) if sockname else "127.0.0.1"
    return host[7:] if host.startswith("::ffff:") else host


def add_routes(app: web.Application) -> None:
    app.router.add_get("/phone", phone_page)
    app.router.add_get("/api/phone", phone_info)
    app.router.add_get("/api/phone/ws", phone_socket)


OPENAPI_PATHS: dict[str, Any] = {
    "/api/phone": {
        "get": {
            "summary": "Whether the logged-in user's extension has a browser phone",
            "responses": {
                "200": {
                    "description": "the user's extension and whether a webrtc source serves it",
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "required": ["extension", "available"],
                                "properties": {
                                    "extension": {"type": ["string", "null"]},
                                    "available": {"type": "boolean"},
                                },
                            }
                        }
                    },
                }
            },
        }
    },
    "/api/phone/ws": {
        "get": {
            "summary": "The browser phone's signalling WebSocket (docs/browser-phone.md)",
            "description": "A browser session only (cookie), with the session's CSRF token in `csrf` and an "
            "Origin of this server. JSON messages both ways; see docs/browser-phone.md.",
            "parameters": [{"name": "csrf", "in": "query", "required": True, "schema": {"type": "string"}}],
            "responses": {
                "101": {"description": "switching to the WebSocket protocol"},
                "403": {"description": "no browser session, wrong CSRF token or Origin, or no phone"},
            },
        }
    },
}
