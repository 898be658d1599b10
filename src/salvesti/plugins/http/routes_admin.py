"""Admin routes: users, API tokens and the audit log.

The same operations exist on the command line (``salvesti users add``, ``salvesti tokens
create``) for the first admin, who has nobody to log in as yet.  Both paths go through
:mod:`accounts`, so the rules (password length, role ceilings) are the same.
"""

from __future__ import annotations

import asyncio

import voluptuous as vol
from aiohttp import web

from salvesti.plugins.http import accounts, auth
from salvesti.plugins.http.accounts_db import UserExists
from salvesti.plugins.http.server import api_error, json_body, require, server_of

_NAME = vol.All(str, vol.Match(r"^[A-Za-z0-9._@-]{1,64}$", msg="1-64 letters, digits or . _ @ -"))
_EXT = vol.Any(None, vol.All(str, vol.Match(r"^[0-9A-Za-z*#+_-]{1,32}$", msg="not an extension")))

USER_ADD = vol.Schema(
    {
        vol.Required("name"): _NAME,
        vol.Required("role"): vol.In(auth.ROLES),
        vol.Required("password"): str,
        vol.Optional("extension"): _EXT,
    }
)
USER_CHANGE = vol.Schema(
    {
        vol.Optional("role"): vol.In(auth.ROLES),
        vol.Optional("password"): str,
        vol.Optional("extension"): _EXT,
        vol.Optional("disabled"): bool,
    }
)
TOKEN_CREATE = vol.Schema(
    {
        vol.Required("user"): _NAME,
        vol.Optional("role"): vol.In(auth.ROLES),
        vol.Optional("name", default=""): vol.All(str, vol.Length(max=100)),
    }
)


def _validate(schema: vol.Schema, body: dict) -> dict:
    try:
        return schema(body)  # type: ignore[no-any-return]
    except vol.Invalid as err:
        raise api_error(400, str(err)) from None


async def list_users(request: web.Request) -> web.Response:
    require(request, "admin")
    users = await server_of(request).accounts.list_users()
    return web.json_response({"users": [u.to_json() for u in users]})


async def add_user(request: web.Request) -> web.Response:
    require(request, "admin")
    server = server_of(request)
    data = _validate(USER_ADD, await json_body(request))
    problem = auth.check_password_rules(data["password"])
    if problem:
        raise api_error(400, problem)
    loop = asyncio.get_running_loop()
    pw_hash = await loop.run_in_executor(None, auth.hash_password, data["password"])
    try:
        user = await server.accounts.add_user(
            data["name"], data["role"], pw_hash, data.get("extension"), server.now_iso()
        )
    except UserExists:
        raise api_error(409, "a user with that name exists") from None
    await server.audit(request, "user_add", detail={"name": user.name, "role": user.role})
    return web.json_response(user.to_json(), status=201)


async def change_user(request: web.Request) -> web.Response:
    p = require(request, "admin")
    server = server_of(request)
    name = request.match_info["name"]
    data = _validate(USER_CHANGE, await json_body(request))
    found = await server.accounts.get_user(name)
    if found is None:
        raise api_error(404, "no such user")
    if name == p.name and (data.get("role", "admin") != "admin" or data.get("disabled")):
        raise api_error(409, "you cannot demote or disable yourself")
    fields = {k: v for k, v in data.items() if k != "password"}
    if "password" in data:
        problem = auth.check_password_rules(data["password"])
        if problem:
            raise api_error(400, problem)
        loop = asyncio.get_running_loop()
        fields["password_hash"] = await loop.run_in_executor(None, auth.hash_password, data["password"])
    await server.accounts.update_user(name, fields)
    await server.audit(
        request,
        "user_change",
        detail={"name": name, "fields": sorted(k for k in data if k != "password")}
        | ({"password": True} if "password" in data else {}),
    )
    updated = await server.accounts.get_user(name)
    assert updated is not None
    return web.json_response(updated[0].to_json())


async def delete_user(request: web.Request) -> web.Response:
    p = require(request, "admin")
    server = server_of(request)
    name = request.match_info["name"]
    if name == p.name:
        raise api_error(409, "you cannot delete yourself")
    if not await server.accounts.delete_user(name):
        raise api_error(404, "no such user")
    await server.audit(request, "user_delete", detail={"name": name})
    return web.json_response({"ok": True})


async def list_tokens(request: web.Request) -> web.Response:
    require(request, "admin")
    return web.json_response({"tokens": await server_of(request).accounts.list_tokens()})


async def create_token(request: web.Request) -> web.Response:
    require(request, "admin")
    server = server_of(request)
    data = _validate(TOKEN_CREATE, await json_body(request))
    try:
        token_id, token, role = await accounts.create_token(
            server.accounts, data["user"], data.get("role"), data["name"], server.now_iso()
        )
    except accounts.AccountError as err:
        raise api_error(400, str(err)) from None
    await server.audit(request, "token_create", detail={"user": data["user"], "role": role, "id": token_id})
    return web.json_response({"id": token_id, "token": token, "user": data["user"], "role": role}, status=201)


async def revoke_token(request: web.Request) -> web.Response:
    require(request, "admin")
    server = server_of(request)
    try:
        token_id = int(request.match_info["token_id"])
    except ValueError:
        raise api_error(404, "no such token") from None
    if not 0 < token_id < 2**63:
        raise api_error(404, "no such token")
    if not await server.accounts.revoke_token(token_id, server.now_iso()):
        raise api_error(404, "no such token")
    await server.audit(request, "token_revoke", detail={"id": token_id})
    return web.json_response({"ok": True})


async def get_audit(request: web.Request) -> web.Response:
    require(request, "admin")
    server = server_of(request)
    q = request.query
    for key in q:
        if key not in ("call_id", "user", "action", "before", "limit"):
            raise api_error(400, f"unknown parameter {key!r}")
    try:
        limit = int(q.get("limit", "100"))
        before = int(q["before"]) if q.get("before") else None
    except ValueError:
        raise api_error(400, "limit and before must be numbers") from None
    if not 1 <= limit <= 1000:
        raise api_error(400, "limit must be 1-1000")
    if before is not None and not 0 <= before < 2**63:
        raise api_error(400, "before is out of range")
    entries = await server.accounts.audit_list(
        call_id=q.get("call_id") or None,
        user=q.get("user") or None,
        action=q.get("action") or None,
        before=before,
        limit=limit,
    )
    next_before = entries[-1]["seq"] if len(entries) == limit else None
    return web.json_response({"entries": entries, "next_before": next_before})


def add_routes(app: web.Application) -> None:
    app.router.add_get("/api/users", list_users)
    app.router.add_post("/api/users", add_user)
    app.router.add_patch("/api/users/{name}", change_user)
    app.router.add_delete("/api/users/{name}", delete_user)
    app.router.add_get("/api/tokens", list_tokens)
    app.router.add_post("/api/tokens", create_token)
    app.router.add_delete("/api/tokens/{token_id}", revoke_token)
    app.router.add_get("/api/audit", get_audit)
