"""Analysis over HTTP: one call's analysis, and Insights (what goes with won calls).

A transcript is the call's content, so reading it follows the call's visibility and is
audited like a playback; an Insights query is audited with its filters.  Insights is for
managers and admins, and shows aggregates only (no per-employee figures).
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from salvesti.core.call import Call
from salvesti.plugins.http.server import api_error, require, server_of

DIRECTIONS = ("inbound", "outbound", "internal")

_INSIGHTS_PARAMS = ("since", "until", "line", "direction")
_EMPTY: dict[str, Any] = {
    "error": None,
    "talk": None,
    "notice": None,
    "transcript": [],
    "trackers": [],
    "speech": None,
    "flags": [],
    "redactions": 0,
}


def analysis_conf(server: Any) -> dict[str, Any] | None:
    conf = server.hub.config.get("analysis")
    return conf if isinstance(conf, dict) and conf else None


def analysed_line(conf: dict[str, Any] | None, call: Call, normalize: Any) -> bool:
    if conf is None:
        return False
    lines = conf.get("lines")
    return not lines or call.line in {normalize(x) or x for x in lines}


async def get_analysis(request: web.Request) -> web.Response:
    server = server_of(request)
    call = await server.get_visible_call(request, request.match_info["call_id"])
    analysis = server.hub.store.analysis
    job = await analysis.job_status(call.id)
    result = await analysis.get_result(call.id)
    if job is None and result is None:
        status = "off" if not analysed_line(analysis_conf(server), call, server.hub.normalize) else "queued"
        if call.in_progress or call.recording is None or call.recording.status == "deleted":
            status = "off"
        return web.json_response({"status": status, **_EMPTY})
    body: dict[str, Any] = {"status": job["status"] if job else "done", **_EMPTY}
    if job is not None and job.get("error") and body["status"] != "done":
        body["error"] = job["error"]
    if result is not None:
        body.update({k: v for k, v in result.items() if k != "status"})
        body["trackers"] = result.get("trackers") or []
        await server.audit(request, "view_transcript", call_id=call.id)
    return web.json_response(body)


async def get_insights(request: web.Request) -> web.Response:
    require(request, "manager")
    from salvesti.plugins.analysis.insights import insights
    from salvesti.plugins.http.routes_calls import _time_param

    server = server_of(request)
    for key in request.query:
        if key not in _INSIGHTS_PARAMS:
            raise api_error(400, f"unknown parameter {key!r}")
    direction = request.query.get("direction") or None
    if direction is not None and direction not in DIRECTIONS:
        raise api_error(400, "direction must be inbound, outbound or internal")
    line = request.query.get("line") or None
    if line is not None and len(line) > 40:
        raise api_error(400, "line is too long")
    conf = analysis_conf(server) or {}
    body = await insights(
        server.hub.store,
        since=_time_param(request, "since"),
        until=_time_param(request, "until"),
        line=line,
        direction=direction,
        min_calls=int(conf.get("min_calls", 3)),
    )
    body["enabled"] = bool(conf)
    filters = {k: request.query[k] for k in _INSIGHTS_PARAMS if request.query.get(k)}
    await server.audit(request, "insights", detail={"filters": filters, "calls": body["calls"]})
    return web.json_response(body)


async def decorate(server: Any, calls: list[dict[str, Any]], q: str | None) -> None:
    """Add each listed call's analysis badge and, for a search, the transcript line that matched."""
    store = server.hub.store
    if store is None or not calls:
        return
    ids = [c["id"] for c in calls]
    badges = await store.analysis.summaries(ids)
    hits = await store.analysis.transcript_hits(q, ids) if q else {}
    for item in calls:
        if item["id"] in badges:
            item["analysis"] = badges[item["id"]]
        if item["id"] in hits:
            item["match"] = hits[item["id"]]


def add_routes(app: web.Application) -> None:
    app.router.add_get("/api/calls/{call_id}/analysis", get_analysis)
    app.router.add_get("/api/insights", get_insights)


OPENAPI_PATHS: dict[str, Any] = {
    "/api/calls/{call_id}/analysis": {
        "parameters": [{"name": "call_id", "in": "path", "required": True, "schema": {"type": "string"}}],
        "get": {
            "summary": "The call's analysis: talk metrics, notice evidence, transcript, tracker hits",
            "responses": {
                "200": {
                    "description": "OK",
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "required": ["status", "transcript", "trackers"],
                                "properties": {
                                    "status": {"enum": ["queued", "running", "done", "failed", "off"]},
                                    "talk": {"type": ["object", "null"]},
                                    "notice": {"type": ["object", "null"]},
                                    "transcript": {"type": "array", "items": {"type": "object"}},
                                    "trackers": {"type": "array", "items": {"type": "object"}},
                                    "flags": {"type": "array", "items": {"type": "string"}},
                                },
                            }
                        }
                    },
                },
                "401": {"description": "not logged in"},
                "404": {"description": "no such call, or not yours to see"},
            },
        },
    },
    "/api/insights": {
        "get": {
            "summary": "What goes with won calls: outcomes, talk metrics by outcome, phrases (managers)",
            "parameters": [
                {"name": "since", "in": "query", "schema": {"type": "string", "format": "date-time"}},
                {"name": "until", "in": "query", "schema": {"type": "string", "format": "date-time"}},
                {"name": "line", "in": "query", "schema": {"type": "string", "maxLength": 40}},
                {
                    "name": "direction",
                    "in": "query",
                    "schema": {"enum": ["inbound", "outbound", "internal"]},
                },
            ],
            "responses": {
                "200": {
                    "description": "OK",
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "required": ["calls", "outcomes", "talk_by_outcome", "phrases"],
                                "properties": {
                                    "calls": {"type": "integer"},
                                    "outcomes": {"type": "object"},
                                    "talk_by_outcome": {"type": "object"},
                                    "phrases": {"type": "array", "items": {"type": "object"}},
                                },
                            }
                        }
                    },
                },
                "400": {"description": "bad parameter"},
                "401": {"description": "not logged in"},
                "403": {"description": "needs the manager role"},
            },
        }
    },
}
