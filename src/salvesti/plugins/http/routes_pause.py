"""``POST /api/calls/{id}/pause`` and ``/resume``: blank a call's recording while card data is given.

Who may: managers and admins for any call, an agent for a call their extension takes part in
(a call the agent may not see is a 404 like on every call route, so ids cannot be probed; an
agent without an extension gets 403).  The live call is not muted: the recording in the hub
(:meth:`salvesti.core.recording.CallRecording.pause`) writes silence in both channels for the
span.  Both actions are audited, refused ones too, because a pause hides part of a recording.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from salvesti.plugins.http.server import api_error, require, server_of

_ERR = {
    "description": "error",
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
}


def _operation(action: str) -> dict[str, Any]:
    return {
        "post": {
            "summary": f"{action.capitalize()} the recording of a call in progress (the call itself goes on)",
            "description": "Roles: the call's agent, managers, admins. While paused both channels "
            "record silence; the call object's `pauses` lists each span. Audited.",
            "parameters": [{"name": "call_id", "in": "path", "required": True, "schema": {"type": "string"}}],
            "responses": {
                "200": {
                    "description": "the call object with its pauses",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Call"}}},
                },
                "401": {**_ERR, "description": "not authenticated"},
                "403": {**_ERR, "description": "not allowed (an agent without an extension, or CSRF)"},
                "404": {**_ERR, "description": "no such call (or not yours)"},
                "409": {**_ERR, "description": f"the call is not being recorded, or cannot {action} now"},
            },
        }
    }


#: Merged into ``openapi.openapi_document()``.
OPENAPI_PATHS: dict[str, Any] = {
    "/api/calls/{call_id}/pause": _operation("pause"),
    "/api/calls/{call_id}/resume": _operation("resume"),
}


async def _act(request: web.Request, action: str) -> web.Response:
    server = server_of(request)
    p = require(request, "agent")
    if not p.can("manager") and not p.extension:
        raise api_error(403, f"an agent without an extension cannot {action} a recording")
    call = await server.get_visible_call(request, request.match_info["call_id"])
    recording = server.hub.recordings.get(call.id)
    if recording is None:
        error = "the call is not being recorded"
    elif action == "pause":
        error = None if recording.pause(p.name) else "the recording is already paused"
    else:
        error = None if recording.resume(p.name) else "the recording is not paused"
    if error is not None:
        await server.audit(request, action, call_id=call.id, detail={"ok": False, "error": error})
        raise api_error(409, error)
    live = recording.call
    await server.hub.call_updated(live)
    detail = {"ok": True, "pause": live.pauses[-1].to_json()}
    await server.audit(request, action, call_id=call.id, detail=detail)
    return web.json_response(live.to_json())


async def pause_call(request: web.Request) -> web.Response:
    return await _act(request, "pause")


async def resume_call(request: web.Request) -> web.Response:
    return await _act(request, "resume")


def add_routes(app: web.Application) -> None:
    app.router.add_post("/api/calls/{call_id}/pause", pause_call)
    app.router.add_post("/api/calls/{call_id}/resume", resume_call)
