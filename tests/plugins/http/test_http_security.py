"""Login, sessions, CSRF, the login limiter, bearer tokens and the security headers."""

from __future__ import annotations

import aiohttp
from http_env import PASSWORD, login

from salvesti.plugins.http import accounts, auth
from salvesti.plugins.http.server import CSRF_HEADER, SESSION_COOKIE


async def test_login_sets_a_strict_httponly_cookie_and_logout_ends_it(env):
    async with aiohttp.ClientSession(env.url, cookie_jar=aiohttp.CookieJar(unsafe=True)) as s:
        async with s.post("/api/auth/login", json={"username": "manager", "password": PASSWORD}) as r:
            assert r.status == 200
            body = await r.json()
            cookie = r.headers["Set-Cookie"]
        assert body["user"]["role"] == "manager" and body["csrf_token"]
        assert f"{SESSION_COOKIE}=" in cookie and "HttpOnly" in cookie and "SameSite=Strict" in cookie
        async with s.get("/api/calls") as r:
            assert r.status == 200
        async with s.get("/api/auth/me") as r:
            me = await r.json()
        assert me["csrf_token"] == body["csrf_token"] and me["via"] == "session"
        async with s.post("/api/auth/logout", headers={CSRF_HEADER: body["csrf_token"]}) as r:
            assert r.status == 200
        s.cookie_jar.update_cookies({SESSION_COOKIE: cookie.split(";")[0].split("=", 1)[1]})
        async with s.get("/api/calls") as r:
            assert r.status == 401  # the old cookie no longer works


async def test_wrong_password_and_unknown_user_get_the_same_answer(env, http):
    answers = []
    for user, pw in (("manager", "wrong password"), ("nobody", "wrong password")):
        async with http.post("/api/auth/login", json={"username": user, "password": pw}) as r:
            answers.append((r.status, await r.json()))
    assert answers[0] == answers[1] == (401, {"error": "wrong user name or password"})


async def test_login_is_rate_limited(env, http):
    for _ in range(5):
        async with http.post("/api/auth/login", json={"username": "agent1", "password": "nope nope"}) as r:
            assert r.status == 401
    async with http.post("/api/auth/login", json={"username": "agent1", "password": PASSWORD}) as r:
        assert r.status == 429  # even the right password waits now
        assert int(r.headers["Retry-After"]) > 0
    # Same address, other user: the address is limited too.
    async with http.post("/api/auth/login", json={"username": "manager", "password": PASSWORD}) as r:
        assert r.status == 429
    failed = [e for e in await _audit(env) if e["action"] == "login_failed"]
    assert len(failed) == 5


async def _audit(env):
    return await env.server.accounts.audit_list(limit=100)


async def test_limiter_window_expires():
    clock = [0.0]
    limiter = auth.LoginLimiter(3, 60, clock=lambda: clock[0])
    for _ in range(3):
        limiter.failed("addr:x", "user:a")
    assert limiter.retry_after("addr:x") == 60
    clock[0] = 59.0
    assert limiter.retry_after("user:a") == 1
    clock[0] = 60.5
    assert limiter.retry_after("addr:x", "user:a") == 0


async def test_csrf_is_required_for_cookie_sessions(env):
    call = env.calls["a1_in"]
    session, csrf = await login(env, "manager")
    async with session:
        url = f"/api/calls/{call.id}"
        async with session.patch(url, json={"notes": "x"}) as r:
            assert r.status == 403 and "CSRF" in (await r.json())["error"]
        async with session.patch(url, json={"notes": "x"}, headers={CSRF_HEADER: "forged"}) as r:
            assert r.status == 403
        async with session.patch(
            url, json={"notes": "x"}, headers={CSRF_HEADER: csrf, "Origin": "http://evil.example"}
        ) as r:
            assert r.status == 403
        async with session.patch(
            url, json={"notes": "x"}, headers={CSRF_HEADER: csrf, "Origin": env.url}
        ) as r:
            assert r.status == 200
        async with session.post("/api/auth/logout") as r:
            assert r.status == 403  # logout is a state change too


async def test_login_from_another_origin_is_refused(env, http):
    headers = {"Origin": "http://evil.example"}
    async with http.post(
        "/api/auth/login", json={"username": "manager", "password": PASSWORD}, headers=headers
    ) as r:
        assert r.status == 403


async def test_bearer_tokens_need_no_csrf_and_can_be_revoked(env, http):
    call = env.calls["a1_in"]
    async with http.patch(f"/api/calls/{call.id}", json={"notes": "x"}, headers=env.bearer("manager")) as r:
        assert r.status == 200
    tokens = await (await http.get("/api/tokens", headers=env.bearer("admin"))).json()
    mine = next(t for t in tokens["tokens"] if t["user"] == "manager")
    assert "token" not in mine and "token_hash" not in mine
    async with http.delete(f"/api/tokens/{mine['id']}", headers=env.bearer("admin")) as r:
        assert r.status == 200
    async with http.get("/api/calls", headers=env.bearer("manager")) as r:
        assert r.status == 401
    async with http.get("/api/calls", headers={"Authorization": "Basic abc"}) as r:
        assert r.status == 401


async def test_token_role_is_at_most_the_users(env, http):
    db = env.server.accounts
    now = env.hub.now().isoformat()
    try:
        await accounts.create_token(db, "agent1", "admin", "", now)
        raise AssertionError("an agent got an admin token")
    except accounts.AccountError as err:
        assert "cannot be admin" in str(err)
    async with http.post(
        "/api/tokens", json={"user": "manager", "role": "admin"}, headers=env.bearer("admin")
    ) as r:
        assert r.status == 400
    # A manager's agent-role token cannot set legal hold.
    _id, token, role = await accounts.create_token(db, "manager", "agent", "", now)
    assert role == "agent"
    call = env.calls["a1_in"]
    async with http.patch(
        f"/api/calls/{call.id}", json={"legal_hold": True}, headers={"Authorization": f"Bearer {token}"}
    ) as r:
        assert r.status == 403
    # Demoting the user demotes the admin's own-role token at once.
    async with http.patch("/api/users/manager", json={"role": "agent"}, headers=env.bearer("admin")) as r:
        assert r.status == 200
    async with http.patch(
        f"/api/calls/{call.id}", json={"legal_hold": True}, headers=env.bearer("manager")
    ) as r:
        assert r.status in (403, 404)


async def test_tokens_and_passwords_are_stored_hashed(env):
    rows = await env.server.sqlite_conn.execute_fetchall("SELECT token_hash FROM http_tokens")
    assert all(len(r[0]) == 64 for r in rows)
    assert env.tokens["admin"] not in {r[0] for r in rows}
    rows = await env.server.sqlite_conn.execute_fetchall("SELECT password_hash FROM http_users")
    assert all(r[0].startswith("scrypt$") and PASSWORD not in r[0] for r in rows)
    assert auth.verify_password(PASSWORD, rows[0][0])


async def test_disabled_user_cannot_log_in_or_use_tokens(env, http):
    async with http.patch("/api/users/agent1", json={"disabled": True}, headers=env.bearer("admin")) as r:
        assert r.status == 200
    async with http.post("/api/auth/login", json={"username": "agent1", "password": PASSWORD}) as r:
        assert r.status == 401
    async with http.get("/api/calls", headers=env.bearer("agent1")) as r:
        assert r.status == 401


async def test_admin_cannot_lock_themselves_out(env, http):
    for body in ({"role": "manager"}, {"disabled": True}):
        async with http.patch("/api/users/admin", json=body, headers=env.bearer("admin")) as r:
            assert r.status == 409
    async with http.delete("/api/users/admin", headers=env.bearer("admin")) as r:
        assert r.status == 409


async def test_weak_passwords_are_refused(env, http):
    body = {"name": "short", "role": "agent", "password": "123"}
    async with http.post("/api/users", json=body, headers=env.bearer("admin")) as r:
        assert r.status == 400 and "10 characters" in (await r.json())["error"]


async def test_security_headers_on_ui_api_and_static(env, http):
    for path in ("/", "/static/app.js", "/api/health", "/api/calls"):
        async with http.get(path) as r:
            csp = r.headers["Content-Security-Policy"]
            assert (
                "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
            )
            assert r.headers["X-Content-Type-Options"] == "nosniff"
            assert r.headers["Referrer-Policy"] == "no-referrer"
            assert r.headers["X-Frame-Options"] == "DENY"
    async with http.get("/") as r:
        html = await r.text()
    assert "<script>" not in html and " on" not in html.split("<body>")[1].split("<noscript>")[0]
    assert '<html lang="et">' in html


async def test_static_paths_cannot_escape(env, http):
    for path in ("/static/../server.py", "/static/%2e%2e/server.py", "/static/..%2fserver.py"):
        async with http.get(path) as r:
            assert r.status in (403, 404)
