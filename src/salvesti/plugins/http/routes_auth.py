"""Login, logout and "who am I" for the web UI.

A session is a random cookie (HttpOnly, SameSite=Strict) whose sha256 is stored with a CSRF
token; the UI reads the CSRF token from the login answer or ``/api/auth/me`` and sends it in
``X-CSRF-Token`` on every change.  Failed logins are limited per client address and per user
name, and an unknown user costs the same scrypt work as a wrong password.
"""

from __future__ import annotations

import asyncio
import secrets
import time

from aiohttp import web

from salvesti.plugins.http import auth
from salvesti.plugins.http.server import (
    SESSION_COOKIE,
    api_error,
    json_body,
    principal,
    server_of,
)


async def login(request: web.Request) -> web.Response:
    server = server_of(request)
    body = await json_body(request)
    username, password = body.get("username"), body.get("password")
    if not isinstance(username, str) or not isinstance(password, str) or not username or len(username) > 200:
        raise api_error(400, "username and password are required")
    if len(password) > 1024:
        raise api_error(400, "password is too long")
    keys = (f"addr:{request.remote}", f"user:{username.lower()}")
    wait = server.limiter.retry_after(*keys)
    if wait > 0:
        raise api_error(
            429, "too many failed logins, try again later", headers={"Retry-After": str(int(wait) + 1)}
        )
    found = await server.accounts.get_user(username)
    stored = found[1] if found else auth.DUMMY_HASH
    loop = asyncio.get_running_loop()
    ok = await loop.run_in_executor(None, auth.verify_password, password, stored)
    if not ok or found is None or found[0].disabled:
        server.limiter.failed(*keys)
        await server.audit(request, "login_failed", user=username[:64])
        raise api_error(401, "wrong user name or password")
    user = found[0]
    server.limiter.succeeded(keys[1])
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(24)
    hours = float(server.config.get("session_hours", 12))
    now = time.time()
    await server.accounts.purge_sessions(now)
    await server.accounts.add_session(
        auth.token_hash(token), user.id, csrf, server.now_iso(), now + hours * 3600, request.remote
    )
    await server.audit(request, "login", user=user.name)
    resp = web.json_response({"user": user.to_json(), "csrf_token": csrf})
    resp.set_cookie(
        SESSION_COOKIE,
        token,
        httponly=True,
        samesite="Strict",
        secure=server.secure_cookies,
        path="/",
        max_age=int(hours * 3600),
    )
    return resp


async def logout(request: web.Request) -> web.Response:
    server = server_of(request)
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        await server.accounts.delete_session(auth.token_hash(cookie))
    await server.audit(request, "logout")
    resp = web.json_response({"ok": True})
    resp.del_cookie(SESSION_COOKIE, path="/")
    return resp


async def me(request: web.Request) -> web.Response:
    p = principal(request)
    return web.json_response(
        {
            "user": {"name": p.name, "role": p.role, "extension": p.extension},
            "via": p.via,
            "csrf_token": p.csrf,
            "language": server_of(request).language,
            "timezone": str(server_of(request).hub.tz),
        }
    )


def add_routes(app: web.Application) -> None:
    app.router.add_post("/api/auth/login", login)
    app.router.add_post("/api/auth/logout", logout)
    app.router.add_get("/api/auth/me", me)
