"""POST /api/calls/{id}/pause and /resume: who may, what the call lists, what is audited."""

from __future__ import annotations

from typing import Any

from http_env import T0, Env

from salvesti.core.call import Call, Direction
from salvesti.core.recording import CallRecording


async def live_call(env: Env, ext: str = "101") -> CallRecording:
    """A call in progress on ``ext`` whose recording is open in the hub."""
    hub = env.hub
    call = Call("20261120T100000-live00000001", "office", Direction.INBOUND, "+3726000000", "+3725559999", T0)
    call.answered_at = T0
    call.add_extension(ext)
    await hub.call_started(call)
    rec = CallRecording(hub, call, hub.default_sink())
    rec.start(hub.monotonic())
    return rec


async def post(http: Any, env: Env, who: str, path: str) -> tuple[int, dict[str, Any]]:
    async with http.post(path, headers=env.bearer(who)) as r:
        return r.status, await r.json()


async def test_the_calls_agent_pauses_and_resumes_and_both_are_listed_and_audited(env, http):
    rec = await live_call(env)
    url = f"/api/calls/{rec.call.id}"
    try:
        status, body = await post(http, env, "agent1", url + "/pause")
        assert status == 200, body
        assert body["pauses"][0]["by"] == "agent1" and body["pauses"][0]["end_s"] is None
        assert (await post(http, env, "agent1", url + "/pause"))[0] == 409  # already paused
        status, body = await post(http, env, "manager", url + "/resume")
        assert status == 200, body
        (pause,) = body["pauses"]
        assert pause["end_s"] is not None and pause["resumed_by"] == "manager"
        stored = await env.hub.store.get_call(rec.call.id)
        assert [p.to_json() for p in stored.pauses] == [pause]  # persisted mid-call
    finally:
        await rec.close()
    rows = await env.server.accounts.audit_list(call_id=rec.call.id)
    actions = [(r["user"], r["action"], r["detail"]["ok"]) for r in reversed(rows)]
    assert actions == [("agent1", "pause", True), ("agent1", "pause", False), ("manager", "resume", True)]


async def test_another_agent_and_anonymous_callers_cannot_pause(env, http):
    rec = await live_call(env)
    url = f"/api/calls/{rec.call.id}/pause"
    try:
        assert (await post(http, env, "agent2", url))[0] == 404  # not their call: no oracle
        async with http.post(url) as r:
            assert r.status == 401
        assert not rec.paused
    finally:
        await rec.close()


async def test_a_call_without_a_live_recording_cannot_be_paused(env, http):
    ended = env.calls["a1_in"]
    status, body = await post(http, env, "admin", f"/api/calls/{ended.id}/pause")
    assert (status, body["error"]) == (409, "the call is not being recorded")


async def test_an_automatic_resume_is_audited_without_a_user_request(env, http):
    rec = await live_call(env)
    try:
        rec.pause("agent1")
        rec._end_pause(rec.position(env.hub.monotonic()), "auto")  # what pause_max_s does
        await env.hub.bus.drain()
        for task in list(env.hub._tasks):
            if task.get_name() == "http audit auto-resume":
                await task
    finally:
        await rec.close()
    rows = await env.server.accounts.audit_list(call_id=rec.call.id, action="resume")
    assert [(r["user"], r["detail"]["auto"]) for r in rows] == [("auto", True)]


async def test_keypad_and_home_assistant_pauses_are_audited(env, http):
    """A pause from a desk phone's keypad (``by: keypad``) or Home Assistant's switch
    (``by: mqtt``) has no web user: the audit entry's user says how it came."""
    rec = await live_call(env)
    try:
        for how in ("keypad", "mqtt"):
            assert rec.pause(how) and rec.resume(how)
        await env.hub.bus.drain()
        for task in list(env.hub._tasks):
            if task.get_name() == "http audit keypad pause":
                await task
    finally:
        await rec.close()
    rows = await env.server.accounts.audit_list(call_id=rec.call.id)
    seen = sorted((r["user"], r["action"]) for r in rows if r["user"] in ("keypad", "mqtt"))
    assert seen == [("keypad", "pause"), ("keypad", "resume"), ("mqtt", "pause"), ("mqtt", "resume")]
    assert all(r["detail"]["ok"] for r in rows if r["user"] in ("keypad", "mqtt"))
