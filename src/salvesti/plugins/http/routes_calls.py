"""Calls: list and search, one call, its audio (with Range), its waveform, changes and deletion.

Authorisation is per call: :func:`server.get_visible_call` answers 404 both for a call that does
not exist and for one the user may not see, so an agent cannot probe other agents' call ids.
Everything that reveals or changes a call's content is written to the audit log.
"""

from __future__ import annotations

import asyncio
import base64
import functools
import json
from datetime import datetime
from pathlib import Path
from typing import Any

import voluptuous as vol
from aiohttp import web

from salvesti.core import bus as events
from salvesti.core.call import Call, HealthReason
from salvesti.core.components import CallQuery
from salvesti.core.crypto.access import is_sealed, open_sealed
from salvesti.core.errors import SalvestiError
from salvesti.plugins.http import recording_stream, routes_analysis
from salvesti.plugins.http.server import (
    api_error,
    can_see,
    json_body,
    principal,
    require,
    server_of,
)
from salvesti.plugins.http.waveform import DEFAULT_POINTS, MAX_POINTS

OUTCOMES = ("won", "lost", "follow_up")
DIRECTIONS = ("inbound", "outbound", "internal")
MEDIA_TYPES = {".wav": "audio/wav", ".flac": "audio/flac", ".opus": "audio/ogg", ".ogg": "audio/ogg"}
MAX_LIMIT = 500
_FILTERS = (
    "since", "until", "number", "direction", "line", "extension", "outcome", "tag", "q", "flag", "unhealthy",
)
FLAGS = ("notice_unverified", "card_data")
UNHEALTHY = ("any", *(str(r) for r in HealthReason))


def _tag(value: Any) -> str:
    if not isinstance(value, str):
        raise vol.Invalid("tags must be strings")
    text = value.strip()
    if not 1 <= len(text) <= 40:
        raise vol.Invalid("a tag is 1-40 characters")
    return text


PATCH_SCHEMA = vol.Schema(
    {
        vol.Optional("outcome"): vol.Any(None, vol.In(OUTCOMES)),
        vol.Optional("tags"): vol.All([_tag], vol.Length(max=20)),
        vol.Optional("notes"): vol.All(str, vol.Length(max=20000)),
        vol.Optional("legal_hold"): bool,
    }
)


def encode_cursor(call: Call) -> str:
    raw = json.dumps([call.started_at.isoformat(), call.id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(text: str) -> tuple[str, str]:
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        started, call_id = json.loads(raw)
        datetime.fromisoformat(started)
    except (ValueError, TypeError, UnicodeDecodeError):
        raise api_error(400, "cursor is not valid") from None
    if not isinstance(started, str) or not isinstance(call_id, str):
        raise api_error(400, "cursor is not valid")
    return started, call_id


def _time_param(request: web.Request, name: str) -> datetime | None:
    value = request.query.get(name)
    if not value:
        return None
    if " " in value.strip() and "T" in value:
        value = value.strip().replace(" ", "+")  # an unencoded '+' in the offset arrives as a space
    try:
        dt = datetime.fromisoformat(value)
    except ValueError:
        raise api_error(
            400, f"{name}: expected an ISO 8601 date or time, e.g. 2026-11-29T08:00:00+02:00"
        ) from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=server_of(request).hub.tz)
    return dt


def build_query(request: web.Request) -> CallQuery:
    q = request.query
    for key in q:
        if key not in (*_FILTERS, "limit", "cursor"):
            raise api_error(400, f"unknown parameter {key!r}")
    try:
        limit = int(q.get("limit", "50"))
    except ValueError:
        raise api_error(400, "limit must be a number") from None
    if not 1 <= limit <= MAX_LIMIT:
        raise api_error(400, f"limit must be 1-{MAX_LIMIT}")
    direction = q.get("direction") or None
    if direction is not None and direction not in DIRECTIONS:
        raise api_error(400, "direction must be inbound, outbound or internal")
    outcome = q.get("outcome") or None
    if outcome is not None and outcome not in OUTCOMES:
        raise api_error(400, "outcome must be won, lost or follow_up")
    flag = q.get("flag") or None
    if flag is not None and flag not in FLAGS:
        raise api_error(400, "flag must be notice_unverified or card_data")
    unhealthy = q.get("unhealthy") or None
    if unhealthy is not None and unhealthy not in UNHEALTHY:
        raise api_error(400, f"unhealthy must be one of {', '.join(UNHEALTHY)}")
    texts = {}
    for key in ("number", "line", "extension", "tag", "q"):
        value = q.get(key) or None
        if value is not None and len(value) > 200:
            raise api_error(400, f"{key} is too long")
        texts[key] = value
    query = CallQuery(
        since=_time_param(request, "since"),
        until=_time_param(request, "until"),
        direction=direction,
        outcome=outcome,
        flag=flag,
        unhealthy=unhealthy,
        limit=limit,
        cursor=decode_cursor(q["cursor"]) if q.get("cursor") else None,
        **texts,
    )
    p = principal(request)
    if not p.can("manager"):
        # An agent's list is always narrowed to their own extension.
        if not p.extension or (query.extension and query.extension != p.extension):
            query.extension = "\x00none"
        else:
            query.extension = p.extension
    return query


async def list_calls(request: web.Request) -> web.Response:
    server = server_of(request)
    query = build_query(request)
    p = principal(request)
    calls: list[Call] = []
    if query.extension != "\x00none" and server.hub.store is not None:
        calls = await server.hub.store.list_calls(query)
    visible = [c for c in calls if can_see(p, c)]
    filters = {k: request.query[k] for k in _FILTERS if request.query.get(k)}
    if filters:
        await server.audit(request, "search", detail={"filters": filters, "results": len(visible)})
    next_cursor = encode_cursor(calls[-1]) if len(calls) >= query.limit and calls else None
    items = [c.to_json() for c in visible]
    await routes_analysis.decorate(server, items, query.q)
    return web.json_response({"calls": items, "next_cursor": next_cursor})


async def get_call(request: web.Request) -> web.Response:
    server = server_of(request)
    call = await server.get_visible_call(request, request.match_info["call_id"])
    await server.audit(request, "view", call_id=call.id)
    return web.json_response({**call.to_json(), "notice_end_s": await server.notice_end_s(call)})


def _recording_path(call: Call) -> Path:
    rec = call.recording
    if rec is None or rec.status == "deleted" or not rec.path:
        raise api_error(404, "this call has no recording")
    return Path(rec.path)


def _recording_file(call: Call) -> Path:
    path = _recording_path(call)
    if not path.is_file():
        if call.recording is not None and call.recording.status == "spooled":
            # in the spool of the node that took the call, not lost: say where, and until when
            raise api_error(
                409,
                f"the recording waits in the spool of node {call.node or '?'} for the object store;"
                " it plays on that node now, and on every node once uploaded",
            )
        raise api_error(404, "the recording file is missing")
    return path


async def audio(request: web.Request) -> web.StreamResponse:
    server = server_of(request)
    call = await server.get_visible_call(request, request.match_info["call_id"])
    reader = recording_stream.reader_for(server.hub, call)
    path = _recording_path(call) if reader is not None else _recording_file(call)
    download = request.query.get("download") in ("1", "true", "yes")
    action = "download" if download else "playback"
    p = principal(request)
    if download or server.playback_is_new(p.name, call.id, action):
        detail: dict[str, Any] = (
            {"range": request.headers.get("Range")} if request.headers.get("Range") else {}
        )
        await server.audit(request, action, call_id=call.id, detail=detail)
    # a sealed recording (<id>.wav.enc) is served as what it holds: the WAV it was
    suffix = Path(path.name.removesuffix(".enc")).suffix.lower() if is_sealed(path) else path.suffix.lower()
    headers = {
        "Content-Type": MEDIA_TYPES.get(suffix, "application/octet-stream"),
        "Accept-Ranges": "bytes",
        "Cache-Control": "no-store",
    }
    if download:
        headers["Content-Disposition"] = f'attachment; filename="{call.id}{suffix}"'
    if reader is not None:  # the sink streams it (object store); None: a local file after all
        streamed = await recording_stream.respond(request, reader, call, headers)
        if streamed is not None:
            return streamed
        path = _recording_file(call)
    return web.FileResponse(path, headers=headers)


async def waveform(request: web.Request) -> web.Response:
    server = server_of(request)
    call = await server.get_visible_call(request, request.match_info["call_id"])
    try:
        points = int(request.query.get("points", DEFAULT_POINTS))
    except ValueError:
        raise api_error(400, "points must be a number") from None
    if not 1 <= points <= MAX_POINTS:
        raise api_error(400, f"points must be 1-{MAX_POINTS}")
    path = _recording_file(call)
    opener = functools.partial(open_sealed, server.hub, call) if is_sealed(path) else None
    loop = asyncio.get_running_loop()
    try:
        peaks = await loop.run_in_executor(None, server.peaks.get, call.id, path, points, opener)
    except (ValueError, OSError, SalvestiError) as err:
        raise api_error(409, f"the recording cannot be read: {err}") from None
    return web.json_response({"call_id": call.id, **peaks})


async def patch_call(request: web.Request) -> web.Response:
    server = server_of(request)
    body = await json_body(request)
    try:
        changes = PATCH_SCHEMA(body)
    except vol.Invalid as err:
        raise api_error(400, f"{err}") from None
    p = principal(request)
    if "legal_hold" in changes and not p.can("manager"):
        raise api_error(403, "legal hold needs the manager role")
    call = await server.get_visible_call(request, request.match_info["call_id"])
    changed: dict[str, Any] = {}
    if "outcome" in changes and changes["outcome"] != call.outcome:
        changed["outcome"] = {"from": call.outcome, "to": changes["outcome"]}
        call.outcome = changes["outcome"]
    if "tags" in changes:
        tags = list(dict.fromkeys(changes["tags"]))
        if tags != call.tags:
            changed["tags"] = {"from": call.tags, "to": tags}
            call.tags = tags
    if "notes" in changes and changes["notes"] != call.notes:
        # The audit log keeps no content, only that the notes changed.
        changed["notes"] = {"from_chars": len(call.notes), "to_chars": len(changes["notes"])}
        call.notes = changes["notes"]
    if "legal_hold" in changes and changes["legal_hold"] != call.retention.legal_hold:
        changed["legal_hold"] = {"from": call.retention.legal_hold, "to": changes["legal_hold"]}
        call.retention.legal_hold = changes["legal_hold"]
    if changed:
        store = server.hub.store
        if hasattr(store, "update_call_fields"):
            # Field-level, in one transaction: the store keeps the edit over later whole-call
            # saves of the node recording the call, whichever node that is (store_edits.py).
            fields = {k: getattr(call, k) for k in ("outcome", "tags", "notes") if k in changed}
            if "legal_hold" in changed:
                fields["legal_hold"] = call.retention.legal_hold
            call = await store.update_call_fields(call.id, **fields) or call
        else:
            await store.save_call(call)
        await server.audit(request, "change", call_id=call.id, detail={"fields": changed})
        server.publish_local("call_changed", call.to_json())
    return web.json_response(call.to_json())


async def delete_call(request: web.Request) -> web.Response:
    server = server_of(request)
    p = require(request, "admin")
    call = await server.get_visible_call(request, request.match_info["call_id"])
    refused = _refusal(call)
    if refused is not None:
        raise refused
    hub = server.hub
    # Under the store's claim (a row lock on PostgreSQL): a retention sweep or an admin on
    # another node deleting it at the same moment gets it once, and no edit is overwritten.
    async with hub.store.claim_call(call.id, _deletable) as claim:
        if claim is None:
            current = await hub.store.get_call(call.id)
            refused = _refusal(current) if current is not None else None
            raise refused or api_error(409, "the recording is being changed on another node; try again")
        call = claim.call
        assert call.recording is not None
        removed = await delete_recording(hub, call)
        call.recording.status = "deleted"
        await claim.save(call)
        await claim.log_deletion(call, rule="manual", reason=f"deleted by {p.name}", when=hub.now())
    server.peaks.forget(call.id)
    await server.audit(request, "delete", call_id=call.id, detail={"file_removed": removed})
    hub.bus.publish(events.RECORDING_DELETED, call.to_json())
    return web.json_response(call.to_json())


def _refusal(call: Call) -> web.HTTPException | None:
    """The API error for a call whose recording may not (or cannot) be deleted now, else None."""
    if call.retention.legal_hold:
        return api_error(409, "the call is under legal hold; lift the hold first")
    if call.in_progress:
        return api_error(409, "the call is still in progress")
    if call.recording is None or call.recording.status == "deleted":
        return api_error(404, "this call has no recording")
    return None


def _deletable(call: Call) -> bool:
    return _refusal(call) is None


async def delete_recording(hub: Any, call: Call) -> bool:
    """Delete through the sink that wrote it (it knows about conversions); else unlink the file."""
    sink = hub.sinks.get(call.meta.get("sink", "")) or hub.default_sink()
    if sink is not None:
        try:
            return bool(await sink.delete(call))
        except NotImplementedError:
            pass
    path = Path(call.recording.path) if call.recording and call.recording.path else None
    if path is not None and path.is_file():
        await asyncio.get_running_loop().run_in_executor(None, path.unlink)
        return True
    return False


def add_routes(app: web.Application) -> None:
    app.router.add_get("/api/calls", list_calls)
    app.router.add_get("/api/calls/{call_id}", get_call)
    app.router.add_patch("/api/calls/{call_id}", patch_call)
    app.router.add_delete("/api/calls/{call_id}", delete_call)
    app.router.add_get("/api/calls/{call_id}/audio", audio)
    app.router.add_get("/api/calls/{call_id}/waveform", waveform)
