"""``GET /api/settings`` (managers and admins): what ``config.yaml`` sets, read-only, with lines.

The settings page (``#/settings``) shows this; it cannot edit any of it, so every entry says
which file and line to open (``where``).  See :mod:`salvesti.plugins.http.config_view`.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from salvesti.plugins.http.config_view import settings_view
from salvesti.plugins.http.server import require, server_of


async def get_settings(request: web.Request) -> web.Response:
    require(request, "manager")
    hub = server_of(request).hub
    body = settings_view(hub.config, hub.config_marks)
    return web.json_response(body, headers={"Cache-Control": "no-store"})


def add_routes(app: web.Application) -> None:
    app.router.add_get("/api/settings", get_settings)


_WHERE = {"type": ["string", "null"], "description": "FILE:LINE the setting is written on; null = a default"}
_NUMBER = {"type": "object", "properties": {"number": {"type": "string"}, "where": _WHERE}}
_ACCOUNT = {
    "type": "object",
    "properties": {
        "registrar": {"type": "string"},
        "username": {"type": "string"},
        "line": {"type": ["string", "null"]},
        "transport": {"type": ["string", "null"]},
        "where": _WHERE,
    },
}
_SOURCE = {
    "type": "object",
    "required": ["id", "platform", "where", "lines", "trunk", "accounts", "extensions", "inbound"],
    "properties": {
        "id": {"type": "string"},
        "platform": {"type": "string"},
        "where": _WHERE,
        "lines": {"type": "array", "items": _NUMBER},
        "trunk": {"oneOf": [_ACCOUNT, {"type": "null"}]},
        "accounts": {"type": "array", "items": _ACCOUNT},
        "extensions": {"type": "array", "items": {"type": "object", "properties": {"where": _WHERE}}},
        "inbound": {"type": "array", "items": {"type": "object", "properties": {"where": _WHERE}}},
    },
}
_ITEM = {"type": "object", "required": ["id", "platform", "where"], "properties": {"where": _WHERE}}
_SETTINGS = {
    "type": "object",
    "required": ["file", "sources", "retention", "notices"],
    "properties": {
        "file": {"type": ["string", "null"]},
        "sources": {"type": "array", "items": _SOURCE},
        "retention": {"type": "array", "items": _ITEM},
        "notices": {"type": "array", "items": _ITEM},
    },
}

OPENAPI_PATHS: dict[str, Any] = {
    "/api/settings": {
        "get": {
            "summary": "What config.yaml sets (lines, carrier, extensions, retention, notices), read-only",
            "description": (
                "The web UI does not edit these; each entry names the file and line it is "
                "written on. Passwords are never included. Managers and admins."
            ),
            "responses": {
                "200": {"description": "OK", "content": {"application/json": {"schema": _SETTINGS}}},
                "401": {"description": "not logged in"},
                "403": {"description": "needs the manager role"},
            },
        }
    },
}
