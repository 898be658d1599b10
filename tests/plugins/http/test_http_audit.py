"""The audit log through the API: every kind of access is written (the chain itself, tampering
and concurrent writers are tested on both backends in test_http_accounts_db.py)."""

from __future__ import annotations


async def test_every_kind_of_access_is_audited_through_the_api(env, http):
    call = env.calls["a1_in"]
    h = env.bearer("manager")
    await (await http.get(f"/api/calls?number={call.remote_number[1:]}", headers=h)).read()
    await (await http.get(f"/api/calls/{call.id}", headers=h)).read()
    await (await http.get(f"/api/calls/{call.id}/audio", headers=h)).read()
    await (await http.get(f"/api/calls/{call.id}/audio?download=1", headers=h)).read()
    await (await http.patch(f"/api/calls/{call.id}", json={"outcome": "won"}, headers=h)).read()
    await (await http.delete(f"/api/calls/{call.id}", headers=env.bearer("admin"))).read()
    async with http.get("/api/audit?limit=20", headers=env.bearer("admin")) as r:
        entries = (await r.json())["entries"]
    actions = [(e["action"], e["user"]) for e in reversed(entries)]
    assert actions == [
        ("search", "manager"),
        ("view", "manager"),
        ("playback", "manager"),
        ("download", "manager"),
        ("change", "manager"),
        ("delete", "admin"),
    ]
    assert all(e["source_addr"] == "127.0.0.1" and e["at"] for e in entries)
    assert all(e["call_id"] == call.id for e in entries[:-1])
    async with http.get("/api/audit?action=delete", headers=env.bearer("admin")) as r:
        assert [e["action"] for e in (await r.json())["entries"]] == ["delete"]
    assert (await env.server.accounts.audit_verify()).ok


async def test_audit_paging(env, http):
    for _ in range(5):
        await env.server.audit(None, "view", user="x")
    async with http.get("/api/audit?limit=2", headers=env.bearer("admin")) as r:
        page = await r.json()
    assert len(page["entries"]) == 2
    async with http.get(f"/api/audit?limit=2&before={page['next_before']}", headers=env.bearer("admin")) as r:
        page2 = await r.json()
    assert page2["entries"][0]["seq"] == page["entries"][-1]["seq"] - 1
