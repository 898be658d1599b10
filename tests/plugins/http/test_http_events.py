"""Server-sent events: hub bus events reach web clients live, filtered by what each user may see."""

from __future__ import annotations

import asyncio

from http_env import next_event

from salvesti.core import bus as events


async def test_events_are_filtered_per_user(env, http):
    a1, a2 = env.calls["a1_in"], env.calls["a2_in"]
    async with (
        http.get("/api/events", headers=env.bearer("manager")) as mgr,
        http.get("/api/events", headers=env.bearer("agent2")) as agent,
    ):
        assert mgr.status == agent.status == 200
        assert mgr.headers["Content-Type"] == "text/event-stream"
        assert "frame-ancestors 'none'" in mgr.headers["Content-Security-Policy"]
        for _ in range(50):  # both streams registered (bounded wait)
            if len(env.server.sse_queues) == 2:
                break
            await asyncio.sleep(0.02)
        env.hub.bus.publish(events.CALL_ENDED, a1.to_json())
        env.hub.bus.publish(events.CALL_ENDED, a2.to_json())
        env.hub.bus.publish(events.SOURCE_STATUS, {"id": "office", "state": "loaded"})
        got = [await next_event(mgr) for _ in range(3)]
        assert [(n, d.get("id")) for n, d in got] == [
            ("call_ended", a1.id),
            ("call_ended", a2.id),
            ("source_status", "office"),
        ]
        # The agent of extension 102 hears only about their own call.
        name, data = await next_event(agent)
        assert (name, data["id"]) == ("call_ended", a2.id)


async def test_a_change_through_the_api_is_pushed(env, http):
    call = env.calls["a1_in"]
    async with http.get("/api/events", headers=env.bearer("agent1")) as stream:
        for _ in range(50):
            if env.server.sse_queues:
                break
            await asyncio.sleep(0.02)
        async with http.patch(
            f"/api/calls/{call.id}", json={"outcome": "won"}, headers=env.bearer("manager")
        ) as r:
            assert r.status == 200
        name, data = await next_event(stream)
        assert name == "call_changed" and data["outcome"] == "won"


async def test_events_need_auth(env, http):
    async with http.get("/api/events") as r:
        assert r.status == 401


async def test_streams_end_when_the_server_unloads(env, http):
    async with http.get("/api/events", headers=env.bearer("admin")) as stream:
        for _ in range(50):
            if env.server.sse_queues:
                break
            await asyncio.sleep(0.02)
        await env.server.async_unload()
        async with asyncio.timeout(5):
            rest = await stream.content.read()
        assert b"connected" in rest or rest == b""
    assert not env.server.sse_queues
