"""First contact: the server starts with the hub, health is public, the API needs credentials."""

from __future__ import annotations


async def test_health_is_public_and_has_security_headers(env, http):
    async with http.get("/api/health") as r:
        assert r.status == 200
        body = await r.json()
        assert body["status"] == "ok"
        assert "frame-ancestors 'none'" in r.headers["Content-Security-Policy"]
        assert r.headers["X-Content-Type-Options"] == "nosniff"
        assert r.headers["Referrer-Policy"] == "no-referrer"


async def test_calls_need_auth(env, http):
    async with http.get("/api/calls") as r:
        assert r.status == 401
        assert (await r.json())["error"]


async def test_admin_lists_all_calls(env, http):
    async with http.get("/api/calls", headers=env.bearer("admin")) as r:
        assert r.status == 200, await r.text()
        body = await r.json()
    assert [c["id"] for c in body["calls"]] == [c.id for c in reversed(list(env.calls.values()))]
