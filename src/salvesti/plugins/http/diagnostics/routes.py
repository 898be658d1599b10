"""``GET /api/diagnostics`` (managers and admins): every check, as keys and details."""

from __future__ import annotations

from collections import Counter
from typing import Any

from aiohttp import web

from salvesti.plugins.http.diagnostics.check import State, worst
from salvesti.plugins.http.diagnostics.report import run_checks
from salvesti.plugins.http.server import require, server_of


async def get_diagnostics(request: web.Request) -> web.Response:
    require(request, "manager")
    hub = server_of(request).hub
    checks = await run_checks(hub)
    counts = Counter(str(c.state) for c in checks)
    body = {
        "generated_at": hub.now().isoformat(),
        "state": str(worst(checks)),
        "summary": {str(s): counts.get(str(s), 0) for s in State},
        "checks": [c.as_json() for c in checks],
    }
    return web.json_response(body, headers={"Cache-Control": "no-store"})


def add_routes(app: web.Application) -> None:
    app.router.add_get("/api/diagnostics", get_diagnostics)


_STATE = {"enum": [str(s) for s in State]}
_GROUPS = ["carrier", "nat", "extensions", "media", "disk", "clock", "components", "sources"]
_CHECK = {
    "type": "object",
    "required": ["id", "group", "state", "title_key", "advice_key", "details"],
    "properties": {
        "id": {"type": "string"},
        "group": {"enum": _GROUPS},
        "state": _STATE,
        "title_key": {"type": "string"},
        "advice_key": {"type": "string"},
        "details": {"type": "object"},
    },
}
_REPORT = {
    "type": "object",
    "required": ["generated_at", "state", "summary", "checks"],
    "properties": {
        "generated_at": {"type": "string", "format": "date-time"},
        "state": _STATE,
        "summary": {
            "type": "object",
            "required": [str(s) for s in State],
            "properties": {str(s): {"type": "integer"} for s in State},
        },
        "checks": {"type": "array", "items": _CHECK},
    },
}

OPENAPI_PATHS: dict[str, Any] = {
    "/api/diagnostics": {
        "get": {
            "summary": "Why the phones may not work: carrier, NAT, extensions, RTP, disk, clock, components",
            "description": (
                "Each check has a state and i18n keys for its title and advice; the details fill "
                "the keys' placeholders (see docs/diagnostics.md). Managers and admins."
            ),
            "responses": {
                "200": {"description": "OK", "content": {"application/json": {"schema": _REPORT}}},
                "401": {"description": "not logged in"},
                "403": {"description": "needs the manager role"},
            },
        }
    },
}
