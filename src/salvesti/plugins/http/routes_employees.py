"""Employees informed, and data subject requests: the routes the law asks the web UI for.

- Admins keep the register (``/api/employees``): who uses which extension and their
  acknowledgement of the employee privacy notice, confirmed in the web UI or recorded from a
  signed paper with its date.
- Every user sees their own entry, the notice text and whether they acknowledged the current
  version (``/api/employees/me``), acknowledges it, and lists who played or downloaded calls
  of their extension (``/api/employees/me/listens``).
- Admins see the open data subject requests with their one-month deadline
  (``/api/subject-requests``).

Every change refreshes the in-memory register the hub asks per call, then is audited.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import voluptuous as vol
from aiohttp import web

from salvesti.plugins.http import employees_db, subject_requests
from salvesti.plugins.http.server import HttpServer, api_error, json_body, principal, require, server_of

_EXT = vol.All(str, vol.Match(r"^[0-9A-Za-z*#+_-]{1,32}$", msg="not an extension"))
EMPLOYEE_ADD = vol.Schema(
    {vol.Required("name"): vol.All(str, vol.Length(min=1, max=200)), vol.Required("extension"): _EXT}
)


def _iso_date(value: Any) -> str:
    try:
        return date.fromisoformat(str(value)).isoformat()
    except ValueError:
        raise vol.Invalid("expected a date YYYY-MM-DD") from None


PAPER_ACK = vol.Schema(
    {vol.Required("date"): _iso_date, vol.Optional("version"): vol.All(str, vol.Length(min=1))}
)
SELF_ACK = vol.Schema({vol.Required("version"): str})


def _validate(schema: vol.Schema, body: dict[str, Any]) -> dict[str, Any]:
    try:
        return schema(body)  # type: ignore[no-any-return]
    except vol.Invalid as err:
        raise api_error(400, str(err)) from None


# -- the notice ---------------------------------------------------------------------------------
def notice_of(server: HttpServer, lang: str) -> dict[str, Any]:
    """The current employee notice: its version, whether it is required, and its text (the
    configured one, else the Art. 13 employee notice generated from the config)."""
    core = server.hub.config.get("salvesti") or {}
    conf = core.get("employee_notice") or {}
    text = conf.get("text")
    if not text:
        from salvesti.privacy.facts import gather
        from salvesti.privacy.notice import render_notice

        text = render_notice(gather(server.hub.config), lang if lang in ("et", "en") else "et", "employees")
    return {
        "version": conf.get("version"),
        "required": bool(core.get("require_employee_notice")),
        "text": text,
    }


def _current_version(server: HttpServer) -> str | None:
    return ((server.hub.config.get("salvesti") or {}).get("employee_notice") or {}).get("version")


def _employee_id(request: web.Request) -> int:
    value = int(request.match_info["employee_id"])
    if value > 2**63 - 1:  # beyond SQLite's integers: no such row
        raise api_error(404, "no such employee")
    return value


async def _changed(server: HttpServer) -> None:
    await server.employees.refresh(server.register)


# -- admin: the register ------------------------------------------------------------------------
async def list_employees(request: web.Request) -> web.Response:
    require(request, "admin")
    server = server_of(request)
    version = _current_version(server)
    people = await server.register.list_employees(include_left=request.query.get("all") == "1")
    return web.json_response({"notice_version": version, "employees": [e.to_json(version) for e in people]})


async def add_employee(request: web.Request) -> web.Response:
    require(request, "admin")
    server = server_of(request)
    body = _validate(EMPLOYEE_ADD, await json_body(request))
    try:
        person = await server.register.add_employee(body["name"], body["extension"], server.now_iso())
    except employees_db.EmployeeError as err:
        raise api_error(409, str(err)) from None
    await _changed(server)
    await server.audit(request, "employee_add", detail={"id": person.id, "extension": person.extension})
    return web.json_response(person.to_json(_current_version(server)), status=201)


async def employee_left(request: web.Request) -> web.Response:
    require(request, "admin")
    server = server_of(request)
    employee_id = _employee_id(request)
    if not await server.register.mark_left(employee_id, server.now_iso()):
        raise api_error(404, "no such employee (or already left)")
    await _changed(server)
    await server.audit(request, "employee_left", detail={"id": employee_id})
    return web.json_response({"ok": True})


async def paper_acknowledgement(request: web.Request) -> web.Response:
    """An admin records a signed paper acknowledgement, with the date on the paper."""
    p = require(request, "admin")
    server = server_of(request)
    body = _validate(PAPER_ACK, await json_body(request))
    person = await server.register.get_employee(_employee_id(request))
    if person is None or person.left_at is not None:
        raise api_error(404, "no such employee")
    version = body.get("version") or _current_version(server)
    if not version:
        raise api_error(409, "no employee notice is configured (salvesti.employee_notice.version)")
    try:
        ack = await server.register.acknowledge(
            person.id,
            version=version,
            method="paper",
            acknowledged_on=body["date"],
            recorded_by=p.name,
            now=server.now_iso(),
        )
    except employees_db.EmployeeError as err:
        raise api_error(409, str(err)) from None
    await _changed(server)
    await server.audit(request, "employee_ack", detail={"id": person.id, **ack.to_json()})
    return web.json_response(ack.to_json(), status=201)


# -- every user: their own entry ----------------------------------------------------------------
async def my_entry(request: web.Request) -> web.Response:
    server = server_of(request)
    p = principal(request)
    notice = notice_of(server, request.query.get("lang") or server.language)
    person = await server.register.employee_for_extension(p.extension) if p.extension else None
    ack = person.ack_of(notice["version"]) if person else None
    return web.json_response(
        {
            "employee": person.to_json(notice["version"]) if person else None,
            "notice": notice,
            "acknowledged": ack is not None,
        }
    )


async def acknowledge_mine(request: web.Request) -> web.Response:
    """The employee confirms the version they were shown (a stale page cannot confirm a newer one)."""
    server = server_of(request)
    p = principal(request)
    body = _validate(SELF_ACK, await json_body(request))
    person = await server.register.employee_for_extension(p.extension) if p.extension else None
    if person is None:
        raise api_error(404, "you are not in the employee register; ask an admin")
    version = _current_version(server)
    if body["version"] != version:
        raise api_error(409, f"the current notice is version {version}; reload and read it first")
    try:
        ack = await server.register.acknowledge(
            person.id,
            version=version,
            method="web",
            acknowledged_on=server.now_iso(),
            recorded_by=p.name,
            now=server.now_iso(),
        )
    except employees_db.EmployeeError as err:
        raise api_error(409, str(err)) from None
    await _changed(server)
    await server.audit(request, "employee_ack", detail={"id": person.id, **ack.to_json()})
    return web.json_response(ack.to_json(), status=201)


async def my_listens(request: web.Request) -> web.Response:
    """Who played or downloaded calls of the user's extension (their right to know)."""
    server = server_of(request)
    p = principal(request)
    if not p.extension:
        return web.json_response({"entries": []})
    entries = await server.register.listens(p.extension)
    if entries is None:  # the calls live in another store: ask it which calls are the extension's
        from salvesti.core.components import CallQuery

        calls = await server.hub.store.list_calls(CallQuery(extension=p.extension, limit=0))
        entries = await server.register.listens_of_calls([c.id for c in calls])
    return web.json_response({"entries": entries})


# -- admin: subject requests --------------------------------------------------------------------
async def list_subject_requests(request: web.Request) -> web.Response:
    require(request, "admin")
    server = server_of(request)
    today = server.hub.now().date()
    found = await server.register.list_requests(include_closed=request.query.get("all") == "1")
    return web.json_response({"today": today.isoformat(), "requests": [r.to_json(today) for r in found]})


def add_routes(app: web.Application) -> None:
    app.router.add_get("/api/employees/me", my_entry)
    app.router.add_post("/api/employees/me/acknowledge", acknowledge_mine)
    app.router.add_get("/api/employees/me/listens", my_listens)
    app.router.add_get("/api/employees", list_employees)
    app.router.add_post("/api/employees", add_employee)
    app.router.add_delete(r"/api/employees/{employee_id:\d+}", employee_left)
    app.router.add_post(r"/api/employees/{employee_id:\d+}/acknowledgements", paper_acknowledgement)
    app.router.add_get("/api/subject-requests", list_subject_requests)


# -- OpenAPI ------------------------------------------------------------------------------------
def _json(schema: dict[str, Any], description: str = "OK") -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


_ERROR = {"$ref": "#/components/schemas/Error"}


def _errors(*codes: str) -> dict[str, Any]:
    text = {
        "400": "invalid request",
        "401": "not authenticated",
        "403": "not allowed (role or CSRF)",
        "404": "not found",
        "409": "refused: see the error",
        "415": "not JSON",
    }
    return {code: _json(_ERROR, text[code]) for code in ("401", *codes)}


_ACK = {
    "type": "object",
    "required": ["notice_version", "method", "acknowledged_on", "recorded_by", "recorded_at"],
    "properties": {
        "notice_version": {"type": "string"},
        "method": {"enum": list(employees_db.METHODS)},
        "acknowledged_on": {
            "type": "string",
            "description": "the paper's date, or when confirmed in the web UI",
        },
        "recorded_by": {"type": "string"},
        "recorded_at": {"type": "string"},
    },
}
_EMPLOYEE = {
    "type": "object",
    "required": ["id", "name", "extension", "acknowledged", "acknowledgements"],
    "properties": {
        "id": {"type": "integer"},
        "name": {"type": "string"},
        "extension": {"type": "string"},
        "created_at": {"type": "string"},
        "left_at": {"type": ["string", "null"]},
        "acknowledged": {"type": "boolean", "description": "of the current notice version"},
        "acknowledgement": {"oneOf": [_ACK, {"type": "null"}]},
        "acknowledgements": {"type": "array", "items": _ACK},
    },
}
_NOTICE = {
    "type": "object",
    "required": ["version", "required", "text"],
    "properties": {
        "version": {"type": ["string", "null"]},
        "required": {"type": "boolean", "description": "salvesti.require_employee_notice"},
        "text": {"type": "string", "description": "Markdown"},
    },
}
_REQUEST = {
    "type": "object",
    "required": ["id", "kind", "number", "received", "deadline", "overdue", "open"],
    "properties": {
        "id": {"type": "integer"},
        "kind": {"enum": list(subject_requests.KINDS)},
        "number": {"type": "string", "description": "masked once an erasure ran"},
        "received": {"type": "string", "format": "date"},
        "deadline": {"type": "string", "format": "date", "description": "received + 1 month (Art. 12(3))"},
        "days_left": {"type": "integer"},
        "overdue": {"type": "boolean"},
        "open": {"type": "boolean"},
        "logged_at": {"type": "string"},
        "logged_by": {"type": "string"},
        "closed_at": {"type": ["string", "null"]},
        "outcome": {"type": ["string", "null"]},
    },
}
_ID = {"name": "employee_id", "in": "path", "required": True, "schema": {"type": "integer", "minimum": 0}}
_ALL = {
    "name": "all",
    "in": "query",
    "required": False,
    "description": "1: closed ones too",
    "schema": {"type": "string"},
}


def _body(schema: dict[str, Any]) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": schema}}}


#: Merged into ``openapi.openapi_document()``.
OPENAPI_PATHS: dict[str, Any] = {
    "/api/employees": {
        "get": {
            "summary": "The employee notice register (admin)",
            "parameters": [_ALL],
            "responses": {
                "200": _json(
                    {
                        "type": "object",
                        "required": ["notice_version", "employees"],
                        "properties": {
                            "notice_version": {"type": ["string", "null"]},
                            "employees": {"type": "array", "items": _EMPLOYEE},
                        },
                    }
                ),
                **_errors("403"),
            },
        },
        "post": {
            "summary": "Add who uses an extension (admin)",
            "requestBody": _body(
                {
                    "type": "object",
                    "required": ["name", "extension"],
                    "properties": {"name": {"type": "string"}, "extension": {"type": "string"}},
                }
            ),
            "responses": {"201": _json(_EMPLOYEE, "added"), **_errors("400", "403", "409", "415")},
        },
    },
    "/api/employees/{employee_id}": {
        "delete": {
            "summary": "The employee left the extension (admin); acknowledgements are kept as evidence",
            "parameters": [_ID],
            "responses": {
                "200": _json({"type": "object", "properties": {"ok": {"type": "boolean"}}}),
                **_errors("403", "404"),
            },
        }
    },
    "/api/employees/{employee_id}/acknowledgements": {
        "post": {
            "summary": "Record a signed paper acknowledgement with its date (admin)",
            "parameters": [_ID],
            "requestBody": _body(
                {
                    "type": "object",
                    "required": ["date"],
                    "properties": {
                        "date": {"type": "string", "format": "date"},
                        "version": {"type": "string", "description": "default: the current version"},
                    },
                }
            ),
            "responses": {"201": _json(_ACK, "recorded"), **_errors("400", "403", "404", "409", "415")},
        }
    },
    "/api/employees/me": {
        "get": {
            "summary": "Your register entry, the employee notice and whether you acknowledged it",
            "parameters": [
                {"name": "lang", "in": "query", "required": False, "schema": {"type": "string"}},
            ],
            "responses": {
                "200": _json(
                    {
                        "type": "object",
                        "required": ["employee", "notice", "acknowledged"],
                        "properties": {
                            "employee": {"oneOf": [_EMPLOYEE, {"type": "null"}]},
                            "notice": _NOTICE,
                            "acknowledged": {"type": "boolean"},
                        },
                    }
                ),
                **_errors(),
            },
        }
    },
    "/api/employees/me/acknowledge": {
        "post": {
            "summary": "Acknowledge the employee notice version you were shown",
            "requestBody": _body(
                {"type": "object", "required": ["version"], "properties": {"version": {"type": "string"}}}
            ),
            "responses": {"201": _json(_ACK, "acknowledged"), **_errors("400", "403", "404", "409", "415")},
        }
    },
    "/api/employees/me/listens": {
        "get": {
            "summary": "Who played or downloaded calls of your extension, newest first",
            "responses": {
                "200": _json(
                    {
                        "type": "object",
                        "required": ["entries"],
                        "properties": {
                            "entries": {
                                "type": "array",
                                "items": {
                                    "type": "object",
                                    "properties": {
                                        "seq": {"type": "integer"},
                                        "at": {"type": "string"},
                                        "user": {"type": ["string", "null"]},
                                        "action": {"enum": ["playback", "download"]},
                                        "call_id": {"type": ["string", "null"]},
                                    },
                                },
                            }
                        },
                    }
                ),
                **_errors(),
            },
        }
    },
    "/api/subject-requests": {
        "get": {
            "summary": "Data subject requests (admin): open ones by deadline, overdue marked",
            "parameters": [_ALL],
            "responses": {
                "200": _json(
                    {
                        "type": "object",
                        "required": ["today", "requests"],
                        "properties": {
                            "today": {"type": "string", "format": "date"},
                            "requests": {"type": "array", "items": _REQUEST},
                        },
                    }
                ),
                **_errors("403"),
            },
        }
    },
}
