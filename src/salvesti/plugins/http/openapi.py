"""The OpenAPI 3.1 description of the HTTP API, kept next to the routes it describes.

A test compares the paths and methods here with the aiohttp router, validates the document with
openapi-spec-validator and lets schemathesis throw generated requests at the running server.
"""

from __future__ import annotations

from typing import Any

from salvesti import __version__
from salvesti.core.call import HealthReason
from salvesti.plugins.http import (
    routes_analysis,
    routes_dial,
    routes_employees,
    routes_pause,
    routes_settings,
    routes_test_call,
)
from salvesti.plugins.http.diagnostics import routes as diagnostics_routes
from salvesti.plugins.http.provisioning import routes as provisioning_routes


def _nullable(t: str, **extra: Any) -> dict[str, Any]:
    return {"type": [t, "null"], **extra}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str = "OK") -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


_ERR = _json(_ref("Error"), "error")


def _err(description: str) -> dict[str, Any]:
    return {**_ERR, "description": description}


_ERRORS = {
    code: {**_ERR, "description": text}
    for code, text in (
        ("400", "invalid request"),
        ("401", "not authenticated"),
        ("403", "not allowed (role or CSRF)"),
        ("404", "not found, or not visible to this user"),
    )
}


def _body(schema: dict[str, Any]) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": schema}}}


def _path_param(name: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}


def _q(name: str, description: str, **schema: Any) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": schema or {"type": "string"},
    }


_CALL_ID = _path_param("call_id")

CALL_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": [
        "id",
        "source",
        "direction",
        "started_at",
        "recording",
        "notice",
        "retention",
        "outcome",
        "tags",
        "notes",
    ],
    "properties": {
        "id": {"type": "string"},
        "source": {"type": "string"},
        "direction": {"enum": ["inbound", "outbound", "internal"]},
        "line": _nullable("string"),
        "remote_number": _nullable("string"),
        "extension": _nullable("string"),
        "extensions": {"type": "array", "items": {"type": "string"}},
        "started_at": {"type": "string", "format": "date-time"},
        "answered_at": _nullable("string", format="date-time"),
        "ended_at": _nullable("string", format="date-time"),
        "duration_s": _nullable("number"),
        "disposition": {"enum": ["answered", "no_answer", "busy", "cancelled", "failed", None]},
        "recording": {
            "oneOf": [
                {"type": "null"},
                {
                    "type": "object",
                    "properties": {
                        "path": {"type": "string"},
                        "format": {"type": "string"},
                        "sample_rate": {"type": "integer"},
                        "channels": {"type": "integer"},
                        "duration_s": _nullable("number"),
                        "bytes": _nullable("integer"),
                        "sha256": _nullable("string"),
                        "status": {"type": "string"},
                        "note": _nullable("string"),
                    },
                },
            ]
        },
        "notice": {
            "type": "object",
            "properties": {
                "played": {"type": "boolean"},
                "name": _nullable("string"),
                "played_at": _nullable("string", format="date-time"),
            },
        },
        "retention": {
            "type": "object",
            "properties": {
                "delete_after": _nullable("string", format="date-time"),
                "legal_hold": {"type": "boolean"},
            },
        },
        "outcome": {"enum": ["won", "lost", "follow_up", None]},
        "tags": {"type": "array", "items": {"type": "string"}},
        "notes": {"type": "string"},
        "meta": {"type": "object"},
        "health": {
            "type": "array",
            "description": "problems the after-call recording health check found (empty: healthy)",
            "items": {
                "type": "object",
                "required": ["reason", "detail"],
                "properties": {
                    "reason": {"enum": [str(r) for r in HealthReason]},
                    "channel": {"enum": ["outside", "heard", None]},
                    "detail": {"type": "string"},
                },
            },
        },
        "pauses": {
            "type": "array",
            "description": "spans of the recording paused (silence in both channels), seconds from its start",
            "items": {
                "type": "object",
                "required": ["start_s", "end_s", "by"],
                "properties": {
                    "start_s": {"type": "number"},
                    "end_s": _nullable("number"),
                    "by": {"type": "string"},
                    "resumed_by": _nullable("string"),
                },
            },
        },
        "notice_end_s": {
            "type": ["number", "null"],
            "description": "GET /api/calls/{id} only: where the notice ends in the recording (s)",
        },
    },
}

USER_SCHEMA = {
    "type": "object",
    "required": ["name", "role"],
    "properties": {
        "name": {"type": "string"},
        "role": {"enum": ["admin", "manager", "agent"]},
        "extension": _nullable("string"),
        "disabled": {"type": "boolean"},
        "created_at": {"type": "string"},
    },
}

_USER_NAME = {"type": "string", "pattern": "^[A-Za-z0-9._@-]{1,64}$"}
_EXTENSION = {"type": ["string", "null"], "pattern": "^[0-9A-Za-z*#+_-]{1,32}$"}


def openapi_document() -> dict[str, Any]:
    doc = _document()
    doc["paths"]["/api/calls/dial"] = routes_dial.OPENAPI_PATH
    doc["paths"]["/api/test-call"] = routes_test_call.OPENAPI_PATH
    doc["paths"].update(routes_analysis.OPENAPI_PATHS)
    doc["paths"].update(routes_pause.OPENAPI_PATHS)
    doc["paths"].update(routes_employees.OPENAPI_PATHS)
    doc["paths"].update(provisioning_routes.OPENAPI_PATHS)
    doc["paths"].update(diagnostics_routes.OPENAPI_PATHS)
    doc["paths"].update(routes_settings.OPENAPI_PATHS)
    from salvesti.plugins.http import routes_phone  # it serves the UI's static folder: imported late

    doc["paths"].update(routes_phone.OPENAPI_PATHS)
    return doc


def _document() -> dict[str, Any]:
    secured = [{"bearerAuth": []}, {"cookieAuth": []}]
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Salvesti",
            "version": __version__,
            "description": "Self-hosted call recorder: calls, recordings, notes and the audit log. "
            "Cookie sessions must send the CSRF token from login or /api/auth/me in X-CSRF-Token "
            "on POST, PATCH and DELETE.",
        },
        "security": secured,
        "paths": {
            "/api/health": {
                "get": {
                    "summary": "Liveness",
                    "security": [],
                    "responses": {
                        "200": _json(
                            {
                                "type": "object",
                                "required": ["status"],
                                "properties": {"status": {"const": "ok"}, "version": {"type": "string"}},
                            }
                        )
                    },
                }
            },
            "/api/openapi.json": {
                "get": {
                    "summary": "This document",
                    "security": [],
                    "responses": {"200": _json({"type": "object"})},
                }
            },
            "/api/auth/login": {
                "post": {
                    "summary": "Log in; sets the HttpOnly session cookie",
                    "security": [],
                    "requestBody": _body(
                        {
                            "type": "object",
                            "required": ["username", "password"],
                            "properties": {
                                "username": {"type": "string"},
                                "password": {"type": "string"},
                            },
                        }
                    ),
                    "responses": {
                        "200": _json(
                            {
                                "type": "object",
                                "properties": {"user": _ref("User"), "csrf_token": {"type": "string"}},
                            }
                        ),
                        "400": _ERRORS["400"],
                        "401": _err("wrong user name or password"),
                        "403": _ERRORS["403"],
                        "415": _err("not JSON"),
                        "429": _err("too many failed logins (see Retry-After)"),
                    },
                }
            },
            "/api/auth/logout": {
                "post": {
                    "summary": "End the session",
                    "responses": {
                        "200": _json({"type": "object"}),
                        "401": _ERRORS["401"],
                        "403": _ERRORS["403"],
                    },
                }
            },
            "/api/auth/me": {
                "get": {
                    "summary": "Who am I, and the CSRF token",
                    "responses": {
                        "200": _json(
                            {
                                "type": "object",
                                "properties": {
                                    "user": {"type": "object"},
                                    "via": {"enum": ["session", "token"]},
                                    "csrf_token": _nullable("string"),
                                    "language": {"type": "string"},
                                },
                            }
                        ),
                        "401": _ERRORS["401"],
                    },
                }
            },
            "/api/calls": {
                "get": {
                    "summary": "List and search calls, newest first (keyset paging)",
                    "parameters": [
                        _q(
                            "since", "calls started at or after (ISO 8601)", type="string", format="date-time"
                        ),
                        _q("until", "calls started before (ISO 8601)", type="string", format="date-time"),
                        _q("number", "remote number, any form; digits match a part of it"),
                        _q(
                            "direction",
                            "inbound, outbound or internal",
                            enum=["inbound", "outbound", "internal"],
                        ),
                        _q("line", "the line (E.164)"),
                        _q("extension", "an extension that took part"),
                        _q("outcome", "won, lost or follow_up", enum=["won", "lost", "follow_up"]),
                        _q("tag", "has this tag"),
                        _q("q", "free text over notes, tags, numbers, ids and transcripts"),
                        _q(
                            "flag",
                            "flagged by the analysis for review",
                            enum=["notice_unverified", "card_data"],
                        ),
                        _q(
                            "unhealthy",
                            "the recording health check found this problem (any: any problem)",
                            enum=["any", *(str(r) for r in HealthReason)],
                        ),
                        _q("limit", "page size (1-500, default 50)", type="integer", minimum=1, maximum=500),
                        _q("cursor", "next_cursor from the previous page"),
                    ],
                    "responses": {
                        "200": _json(
                            {
                                "type": "object",
                                "required": ["calls", "next_cursor"],
                                "properties": {
                                    "calls": {"type": "array", "items": _ref("Call")},
                                    "next_cursor": _nullable("string"),
                                },
                            }
                        ),
                        "400": _ERRORS["400"],
                        "401": _ERRORS["401"],
                    },
                }
            },
            "/api/calls/{call_id}": {
                "parameters": [_CALL_ID],
                "get": {
                    "summary": "One call",
                    "responses": {"200": _json(_ref("Call")), "401": _ERRORS["401"], "404": _ERRORS["404"]},
                },
                "patch": {
                    "summary": "Set outcome, tags, notes; legal_hold needs manager",
                    "requestBody": _body(
                        {
                            "type": "object",
                            "additionalProperties": False,
                            "properties": {
                                "outcome": {"enum": ["won", "lost", "follow_up", None]},
                                "tags": {
                                    "type": "array",
                                    "maxItems": 20,
                                    "items": {"type": "string", "minLength": 1, "maxLength": 40},
                                },
                                "notes": {"type": "string", "maxLength": 20000},
                                "legal_hold": {"type": "boolean"},
                            },
                        }
                    ),
                    "responses": {
                        "200": _json(_ref("Call")),
                        **_ERRORS,
                        "415": _err("not JSON"),
                    },
                },
                "delete": {
                    "summary": "Delete the recording (admin); the call's metadata stays",
                    "responses": {
                        "200": _json(_ref("Call")),
                        **_ERRORS,
                        "409": _err("legal hold or call in progress"),
                    },
                },
            },
            "/api/calls/{call_id}/audio": {
                "parameters": [_CALL_ID],
                "get": {
                    "summary": "The recording; supports Range; audited as playback or download",
                    "parameters": [
                        _q("download", "1 to download as an attachment", enum=["1", "0"]),
                        {"name": "Range", "in": "header", "required": False, "schema": {"type": "string"}},
                    ],
                    "responses": {
                        "200": {"description": "the whole file", "content": {"audio/*": {}}},
                        "206": {"description": "the requested range", "content": {"audio/*": {}}},
                        "401": _ERRORS["401"],
                        "404": _ERRORS["404"],
                        "416": {"description": "range not satisfiable"},
                    },
                },
            },
            "/api/calls/{call_id}/waveform": {
                "parameters": [_CALL_ID],
                "get": {
                    "summary": "Peak amplitude per channel (0..1), computed on the server and cached",
                    "parameters": [
                        _q(
                            "points",
                            "number of peaks per channel (1-4000)",
                            type="integer",
                            minimum=1,
                            maximum=4000,
                        )
                    ],
                    "responses": {
                        "200": _json(
                            {
                                "type": "object",
                                "properties": {
                                    "call_id": {"type": "string"},
                                    "points": {"type": "integer"},
                                    "duration_s": {"type": "number"},
                                    "sample_rate": {"type": "integer"},
                                    "channels": {
                                        "type": "array",
                                        "items": {"type": "array", "items": {"type": "number"}},
                                    },
                                },
                            }
                        ),
                        "400": _ERRORS["400"],
                        "401": _ERRORS["401"],
                        "404": _ERRORS["404"],
                        "409": _err("the recording cannot be read"),
                    },
                },
            },
            "/api/events": {
                "get": {
                    "summary": "Server-sent events: call_started, call_answered, notice_played, call_ended, "
                    "recording_saved, recording_deleted, call_changed, source_status",
                    "responses": {
                        "200": {
                            "description": "event stream",
                            "content": {"text/event-stream": {"schema": {"type": "string"}}},
                        },
                        "401": _ERRORS["401"],
                    },
                }
            },
            "/api/audit": {
                "get": {
                    "summary": "The audit log, newest first (admin)",
                    "parameters": [
                        _q("call_id", "only this call"),
                        _q("user", "only this user"),
                        _q("action", "only this action"),
                        _q("before", "next_before from the previous page", type="integer"),
                        _q("limit", "page size (1-1000)", type="integer", minimum=1, maximum=1000),
                    ],
                    "responses": {
                        "200": _json(
                            {
                                "type": "object",
                                "properties": {
                                    "entries": {"type": "array", "items": _ref("AuditEntry")},
                                    "next_before": _nullable("integer"),
                                },
                            }
                        ),
                        **_ERRORS,
                    },
                }
            },
            "/api/users": {
                "get": {
                    "summary": "Users (admin)",
                    "responses": {
                        "200": _json(
                            {
                                "type": "object",
                                "properties": {"users": {"type": "array", "items": _ref("User")}},
                            }
                        ),
                        **_ERRORS,
                    },
                },
                "post": {
                    "summary": "Add a user (admin)",
                    "requestBody": _body(
                        {
                            "type": "object",
                            "required": ["name", "role", "password"],
                            "properties": {
                                "name": _USER_NAME,
                                "role": {"enum": ["admin", "manager", "agent"]},
                                "password": {"type": "string", "minLength": 10},
                                "extension": _EXTENSION,
                            },
                        }
                    ),
                    "responses": {
                        "201": _json(_ref("User")),
                        **_ERRORS,
                        "409": _err("name taken"),
                        "415": _err("not JSON"),
                    },
                },
            },
            "/api/users/{name}": {
                "parameters": [_path_param("name")],
                "patch": {
                    "summary": "Change a user (admin)",
                    "requestBody": _body(
                        {
                            "type": "object",
                            "additionalProperties": False,
                            "properties": {
                                "role": {"enum": ["admin", "manager", "agent"]},
                                "password": {"type": "string", "minLength": 10},
                                "extension": _EXTENSION,
                                "disabled": {"type": "boolean"},
                            },
                        }
                    ),
                    "responses": {
                        "200": _json(_ref("User")),
                        **_ERRORS,
                        "409": _err("cannot demote yourself"),
                        "415": _err("not JSON"),
                    },
                },
                "delete": {
                    "summary": "Delete a user (admin)",
                    "responses": {
                        "200": _json({"type": "object"}),
                        **_ERRORS,
                        "409": _err("cannot delete yourself"),
                    },
                },
            },
            "/api/tokens": {
                "get": {
                    "summary": "API tokens (admin); the secrets are never shown again",
                    "responses": {"200": _json({"type": "object"}), **_ERRORS},
                },
                "post": {
                    "summary": "Create a token for a user, at most their role (admin)",
                    "requestBody": _body(
                        {
                            "type": "object",
                            "required": ["user"],
                            "properties": {
                                "user": _USER_NAME,
                                "role": {"enum": ["admin", "manager", "agent"]},
                                "name": {"type": "string", "maxLength": 100},
                            },
                        }
                    ),
                    "responses": {
                        "201": _json(
                            {
                                "type": "object",
                                "properties": {
                                    "id": {"type": "integer"},
                                    "token": {"type": "string"},
                                    "user": {"type": "string"},
                                    "role": {"type": "string"},
                                },
                            }
                        ),
                        **_ERRORS,
                        "415": _err("not JSON"),
                    },
                },
            },
            "/api/tokens/{token_id}": {
                "parameters": [_path_param("token_id")],
                "delete": {
                    "summary": "Revoke a token (admin)",
                    "responses": {"200": _json({"type": "object"}), **_ERRORS},
                },
            },
        },
        "components": {
            "securitySchemes": {
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "a token from `salvesti tokens create`",
                },
                "cookieAuth": {"type": "apiKey", "in": "cookie", "name": "salvesti_session"},
            },
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["error"],
                    "properties": {"error": {"type": "string"}},
                },
                "Call": CALL_SCHEMA,
                "User": USER_SCHEMA,
                "AuditEntry": {
                    "type": "object",
                    "properties": {
                        "seq": {"type": "integer"},
                        "at": {"type": "string"},
                        "user": _nullable("string"),
                        "action": {"type": "string"},
                        "call_id": _nullable("string"),
                        "source_addr": _nullable("string"),
                        "detail": {},
                        "hash": {"type": "string"},
                    },
                },
            },
        },
    }
