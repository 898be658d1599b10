"""Every route x every role, allowed and refused, with real bearer tokens against the real server.

Roles: admin (everything), manager (all calls, legal hold; no users/audit/deletion), agent1
(extension 101) and agent2 (extension 102) see only their own calls; another agent's call is 404.
"""

from __future__ import annotations

from typing import Any

import pytest

ORDER = ("agent2", "agent1", "manager", "admin")  # the one allowed destructive role goes last

# (method, path with {a1}/{a2}/{none}, JSON body, expected status per role)
CASES: list[tuple[str, str, Any, dict[str, int]]] = [
    ("GET", "/api/auth/me", None, dict(agent2=200, agent1=200, manager=200, admin=200)),
    ("GET", "/api/calls", None, dict(agent2=200, agent1=200, manager=200, admin=200)),
    ("GET", "/api/calls/{a1}", None, dict(agent2=404, agent1=200, manager=200, admin=200)),
    ("GET", "/api/calls/{none}", None, dict(agent2=404, agent1=404, manager=200, admin=200)),
    ("GET", "/api/calls/{a1}/audio", None, dict(agent2=404, agent1=200, manager=200, admin=200)),
    ("GET", "/api/calls/{a2}/audio?download=1", None, dict(agent2=200, agent1=404, manager=200, admin=200)),
    ("GET", "/api/calls/{a1}/waveform", None, dict(agent2=404, agent1=200, manager=200, admin=200)),
    ("PATCH", "/api/calls/{a1}", {"notes": "n"}, dict(agent2=404, agent1=200, manager=200, admin=200)),
    (
        "PATCH",
        "/api/calls/{a1}",
        {"outcome": "won", "tags": ["x"]},
        dict(agent2=404, agent1=200, manager=200, admin=200),
    ),
    ("PATCH", "/api/calls/{a1}", {"legal_hold": True}, dict(agent2=403, agent1=403, manager=200, admin=200)),
    ("DELETE", "/api/calls/{a2}", None, dict(agent2=403, agent1=403, manager=403, admin=200)),
    ("GET", "/api/audit", None, dict(agent2=403, agent1=403, manager=403, admin=200)),
    ("GET", "/api/diagnostics", None, dict(agent2=403, agent1=403, manager=200, admin=200)),
    ("GET", "/api/users", None, dict(agent2=403, agent1=403, manager=403, admin=200)),
    (
        "POST",
        "/api/users",
        {"name": "new", "role": "agent", "password": "long enough pw", "extension": "103"},
        dict(agent2=403, agent1=403, manager=403, admin=201),
    ),
    (
        "PATCH",
        "/api/users/agent2",
        {"extension": "104"},
        dict(agent2=403, agent1=403, manager=403, admin=200),
    ),
    ("DELETE", "/api/users/agent1", None, dict(agent2=403, agent1=403, manager=403, admin=200)),
    ("GET", "/api/tokens", None, dict(agent2=403, agent1=403, manager=403, admin=200)),
    ("POST", "/api/tokens", {"user": "agent1"}, dict(agent2=403, agent1=403, manager=403, admin=201)),
    ("DELETE", "/api/tokens/1", None, dict(agent2=403, agent1=403, manager=403, admin=200)),
    # No source can dial in this hub: whoever may ask gets 404 for the source (test_http_dial.py dials).
    (
        "POST",
        "/api/calls/dial",
        {"number": "5551234", "source": "gsm", "extension": "101"},
        dict(agent2=403, agent1=404, manager=404, admin=404),
    ),
    (
        "POST",
        "/api/calls/dial",
        {"number": "5551234", "source": "gsm"},
        dict(agent2=404, agent1=404, manager=404, admin=404),
    ),
    # No source can ring a test call here: managers and admins get 404 for the extension
    # (tests/e2e/test_e2e_test_call.py rings a real phone).
    ("GET", "/api/test-call", None, dict(agent2=403, agent1=403, manager=200, admin=200)),
    ("POST", "/api/test-call", {"extension": "101"}, dict(agent2=403, agent1=403, manager=404, admin=404)),
]


def _path(env, template: str) -> str:
    return template.format(a1=env.calls["a1_in"].id, a2=env.calls["a2_in"].id, none=env.calls["none"].id)


@pytest.mark.parametrize(
    ("method", "template", "body", "expected"), CASES, ids=[f"{c[0]} {c[1]}" for c in CASES]
)
async def test_route_by_role(env, http, method, template, body, expected):
    path = _path(env, template)
    async with http.request(method, path, json=body) as r:
        assert r.status == 401, f"anonymous {method} {path}: {r.status}"
    for role in ORDER:
        async with http.request(method, path, json=body, headers=env.bearer(role)) as r:
            raw = await r.read()
            assert r.status == expected[role], f"{role} {method} {path}: {r.status} {raw[:200]!r}"
            if r.status >= 400:
                assert r.content_type == "application/json" and "error" in await r.json()


async def test_agent_lists_only_own_calls(env, http):
    async with http.get("/api/calls", headers=env.bearer("agent1")) as r:
        ids = {c["id"] for c in (await r.json())["calls"]}
    assert ids == {env.calls["a1_in"].id, env.calls["a1_out"].id}
    # Asking for another extension's calls gives nothing, not an error that confirms they exist.
    async with http.get("/api/calls?extension=102", headers=env.bearer("agent1")) as r:
        assert r.status == 200 and (await r.json())["calls"] == []


async def test_agent_without_extension_sees_nothing(env, http):
    server = env.server
    from http_env import PASSWORD

    from salvesti.plugins.http import accounts

    now = env.hub.now().isoformat()
    await accounts.create_user(server.accounts, "noext", "agent", PASSWORD, None, now)
    token = (await accounts.create_token(server.accounts, "noext", None, "", now))[1]
    async with http.get("/api/calls", headers={"Authorization": f"Bearer {token}"}) as r:
        assert (await r.json())["calls"] == []


async def test_agent_sees_a_transferred_call_they_took_part_in(env, http):
    call = env.calls["a2_in"]
    call.add_extension("101")  # transferred from 102 to 101
    await env.hub.store.save_call(call)
    async with http.get(f"/api/calls/{call.id}", headers=env.bearer("agent1")) as r:
        assert r.status == 200
    async with http.get("/api/calls", headers=env.bearer("agent1")) as r:
        assert call.id in {c["id"] for c in (await r.json())["calls"]}
