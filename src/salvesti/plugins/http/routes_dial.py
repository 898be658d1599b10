"""``POST /api/calls/dial``: place an outbound call through a source that can dial.

Click-to-call for the web UI and integrations.  The source (a serial AT device today) dials
the number; the callee hears the notice first, then the extension rings and is bridged.
Who may ask: admin and manager for any extension (or none: the callee is only told and
recorded), an agent only for their own extension (the default when they name none).  Every
attempt, refused or not, goes to the audit log with the number, source and extension,
because a call placed in someone's name is as sensitive as listening to one.
CSRF: a cookie session must send ``X-CSRF-Token`` like every other POST (the middleware).
"""

from __future__ import annotations

from typing import Any

import voluptuous as vol
from aiohttp import web

from salvesti.core import control
from salvesti.core.components import Dialer
from salvesti.plugins.http.server import api_error, json_body, require, server_of

DIAL_SCHEMA = vol.Schema(
    {
        vol.Required("number"): vol.All(str, vol.Length(min=1, max=40)),
        vol.Optional("source"): vol.Any(None, vol.All(str, vol.Length(min=1, max=100))),
        vol.Optional("extension"): vol.Any(None, vol.All(str, vol.Length(min=1, max=40))),
    }
)

_ERR = {
    "description": "error",
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
}

#: The OpenAPI path item, merged into ``openapi.openapi_document()``.
OPENAPI_PATH: dict[str, Any] = {
    "post": {
        "summary": "Dial out: the callee hears the notice, then the extension rings and is bridged",
        "description": "Roles: admin and manager for any extension; an agent only for their own "
        "(the default). `source` may be left out when exactly one source can dial. Audited.",
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "required": ["number"],
                        "additionalProperties": False,
                        "properties": {
                            "number": {"type": "string", "minLength": 1, "maxLength": 40},
                            "source": {"type": ["string", "null"], "minLength": 1, "maxLength": 100},
                            "extension": {"type": ["string", "null"], "minLength": 1, "maxLength": 40},
                        },
                    }
                }
            },
        },
        "responses": {
            "202": {
                "description": "dialling; the call object as it started (watch /api/events for its end)",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Call"}}},
            },
            "400": {**_ERR, "description": "invalid request, or the source cannot dial"},
            "401": {**_ERR, "description": "not authenticated"},
            "403": {**_ERR, "description": "not allowed (role, another agent's extension, or CSRF)"},
            "404": {**_ERR, "description": "no such source"},
            "409": {**_ERR, "description": "the line is busy, the device is away or the number is refused"},
            "415": {**_ERR, "description": "not JSON"},
        },
    }
}


def _dialers(hub: Any) -> list[str]:
    return [sid for sid, src in hub.sources.items() if isinstance(src, Dialer)]


async def dial_call(request: web.Request) -> web.Response:
    server = server_of(request)
    p = require(request, "agent")
    body = await json_body(request)
    try:
        req = DIAL_SCHEMA(body)
    except vol.Invalid as err:
        raise api_error(400, f"{err}") from None
    extension = req.get("extension")
    if not p.can("manager"):
        refused = None
        if not p.extension:
            refused = "an agent without an extension cannot dial"
        elif extension not in (None, p.extension):
            refused = "agents dial only from their own extension"
        if refused:
            detail = {"number": req["number"], "extension": extension, "ok": False, "error": refused}
            await server.audit(request, "dial", detail=detail)
            raise api_error(403, refused)
        extension = p.extension
    source_id = req.get("source")
    if not source_id:
        dialers = _dialers(server.hub)
        if len(dialers) != 1:
            raise api_error(400, "name the source" if dialers else "no source can dial")
        source_id = dialers[0]
    result = await control.dial(server.hub, source_id, req["number"], extension=extension)
    detail = {"number": req["number"], "source": source_id, "extension": extension, "ok": result["ok"]}
    if not result["ok"]:
        detail["error"] = result["error"]
        await server.audit(request, "dial", detail=detail)
        raise api_error(int(result.get("status", 409)), result["error"])
    call = result["call"]
    await server.audit(request, "dial", call_id=call["id"], detail=detail)
    return web.json_response(call, status=202)


def add_routes(app: web.Application) -> None:
    app.router.add_post("/api/calls/dial", dial_call)
