"""``/api/test-call``: the owner's test call, to see the whole chain work before customers call.

``GET`` lists the extensions that can be tested (registered or not, a test in progress or not);
``POST {"extension": "101", "seconds": 5}`` rings that extension through its source (any
``core.test_call.TestCaller``: this module never imports a source) and answers 202 with the
call object at once; the web UI follows the call on ``/api/events`` and opens its page when it
ends.  Who may ask: admins and managers (a test call records a colleague's voice: not an
agent's tool).  Every attempt, refused or not, is audited as ``test_call``.
"""

from __future__ import annotations

from typing import Any

import voluptuous as vol
from aiohttp import web

from salvesti.core import test_call
from salvesti.plugins.http.server import api_error, json_body, principal, require, server_of

TEST_CALL_SCHEMA = vol.Schema(
    {
        vol.Required("extension"): vol.All(str, vol.Length(min=1, max=40)),
        vol.Optional("seconds"): vol.Any(
            None,
            vol.All(
                vol.Any(int, float),
                vol.Range(min=test_call.MIN_SECONDS, max=test_call.MAX_SECONDS),
            ),
        ),
    }
)

_ERR = {
    "description": "error",
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
}

#: The OpenAPI path item, merged into ``openapi.openapi_document()``.
OPENAPI_PATH: dict[str, Any] = {
    "get": {
        "summary": "The extensions a test call can ring, and whether each is registered now",
        "description": "Roles: admin and manager.",
        "responses": {
            "200": {
                "description": "OK",
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "properties": {
                                "extensions": {
                                    "type": "array",
                                    "items": {
                                        "type": "object",
                                        "properties": {
                                            "extension": {"type": "string"},
                                            "name": {"type": ["string", "null"]},
                                            "registered": {"type": "boolean"},
                                            "in_progress": {"type": "boolean"},
                                        },
                                    },
                                },
                                "seconds": {"type": "object"},
                                "ring_s": {"type": "number"},
                            },
                        }
                    }
                },
            },
            "401": {**_ERR, "description": "not authenticated"},
            "403": {**_ERR, "description": "not a manager or admin"},
        },
    },
    "post": {
        "summary": "Test call: ring an extension, play it the notice and a beep, record what it says",
        "description": "Roles: admin and manager. The phone shows the caller 'Salvesti test' and rings "
        "for 30 s; when answered it hears the notice of its line, then a 1 kHz beep, then `seconds` "
        "(default 5, at most 30) of what the person says are recorded, and Salvesti hangs up. The "
        "call is listed like any other (direction `internal`, `meta.test_call` true); its end, with "
        "`disposition` answered, no_answer or busy, comes on /api/events as `call_ended`. Audited "
        "as `test_call`.",
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "required": ["extension"],
                        "additionalProperties": False,
                        "properties": {
                            "extension": {"type": "string", "minLength": 1, "maxLength": 40},
                            "seconds": {
                                "type": ["number", "null"],
                                "minimum": test_call.MIN_SECONDS,
                                "maximum": test_call.MAX_SECONDS,
                            },
                        },
                    }
                }
            },
        },
        "responses": {
            "202": {
                "description": "ringing; the call object as it started (watch /api/events for its end)",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Call"}}},
            },
            "400": {**_ERR, "description": "invalid request"},
            "401": {**_ERR, "description": "not authenticated"},
            "403": {**_ERR, "description": "not a manager or admin, or CSRF"},
            "404": {**_ERR, "description": "no source has that extension"},
            "409": {
                **_ERR,
                "description": "the extension is not registered, or a test call to it is in progress "
                "(`reason`: not_registered, in_progress, unavailable)",
            },
            "415": {**_ERR, "description": "not JSON"},
        },
    },
}


async def list_targets(request: web.Request) -> web.Response:
    server = server_of(request)
    require(request, "manager")
    return web.json_response(
        {
            "extensions": [t.to_json() for t in test_call.targets(server.hub)],
            "seconds": {
                "default": test_call.DEFAULT_SECONDS,
                "min": test_call.MIN_SECONDS,
                "max": test_call.MAX_SECONDS,
            },
            "ring_s": test_call.RING_SECONDS,
        }
    )


async def start_test_call(request: web.Request) -> web.Response:
    server = server_of(request)
    p = principal(request)
    body = await json_body(request)
    try:
        req = TEST_CALL_SCHEMA(body)
    except vol.Invalid as err:
        raise api_error(400, f"{err}") from None
    extension = req["extension"]
    seconds = test_call.clamp_seconds(req.get("seconds"))
    detail: dict[str, Any] = {"extension": extension, "seconds": seconds}
    if not p.can("manager"):
        refused = "test calls are for managers and admins"
        await server.audit(request, "test_call", detail={**detail, "ok": False, "error": refused})
        raise api_error(403, refused)
    result = await test_call.start(server.hub, extension, seconds=seconds)
    if not result["ok"]:
        detail.update(ok=False, error=result["error"])
        await server.audit(request, "test_call", detail=detail)
        raise api_error(int(result.get("status", 409)), result["error"], reason=result.get("reason"))
    call = result["call"]
    await server.audit(request, "test_call", call_id=call["id"], detail={**detail, "ok": True})
    return web.json_response(call, status=202)


def add_routes(app: web.Application) -> None:
    app.router.add_get("/api/test-call", list_targets)
    app.router.add_post("/api/test-call", start_test_call)
