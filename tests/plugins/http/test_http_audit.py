"""The audit log: what is written, the hash chain, tamper detection, and concurrent appends."""

from __future__ import annotations

import asyncio

from salvesti.plugins.http import audit, db


async def _conn(tmp_path):
    return await db.connect(str(tmp_path / "a.db"))


async def _fill(conn, n: int) -> None:
    for i in range(n):
        await audit.append(
            conn, at=f"2026-11-29T10:00:{i:02d}+02:00", user="u", action="playback", call_id=f"c{i}"
        )


async def test_chain_verifies_and_detects_an_edited_entry(tmp_path):
    conn = await _conn(tmp_path)
    try:
        await _fill(conn, 5)
        assert (await audit.verify(conn)).ok
        await conn.execute("UPDATE http_audit SET user = 'someone else' WHERE seq = 3")
        result = await audit.verify(conn)
        assert not result.ok and result.first_bad == 3 and "altered" in result.reason
    finally:
        await conn.close()


async def test_chain_detects_a_deleted_or_rehashed_entry(tmp_path):
    conn = await _conn(tmp_path)
    try:
        await _fill(conn, 5)
        await conn.execute("DELETE FROM http_audit WHERE seq = 2")
        result = await audit.verify(conn)
        assert not result.ok and result.first_bad == 2 and "missing" in result.reason
        # Re-numbering and re-hashing the one entry does not help: the next entry's link breaks.
        await conn.execute("DELETE FROM http_audit")
        await _fill(conn, 4)
        rows = await conn.execute_fetchall("SELECT prev_hash FROM http_audit WHERE seq = 2")
        fields = {
            "seq": 2,
            "at": "x",
            "user": "u",
            "action": "view",
            "call_id": "c1",
            "source_addr": None,
            "detail": "{}",
        }
        forged = audit.entry_hash(rows[0][0], fields)
        await conn.execute(
            "UPDATE http_audit SET at = 'x', action = 'view', hash = ? WHERE seq = 2", (forged,)
        )
        result = await audit.verify(conn)
        assert not result.ok and result.first_bad == 3
    finally:
        await conn.close()


async def test_concurrent_appends_keep_one_chain(tmp_path):
    a = await _conn(tmp_path)
    b = await db.connect(str(tmp_path / "a.db"))  # a second writer, like the CLI next to the server
    try:
        await asyncio.gather(
            *(audit.append(conn, at="t", user=f"u{i}", action="view") for i in range(20) for conn in (a, b))
        )
        result = await audit.verify(a)
        assert result.ok and result.entries == 40
    finally:
        await a.close()
        await b.close()


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
    assert (await audit.verify(env.server.db)).ok


async def test_audit_paging(env, http):
    for _ in range(5):
        await env.server.audit(None, "view", user="x")
    async with http.get("/api/audit?limit=2", headers=env.bearer("admin")) as r:
        page = await r.json()
    assert len(page["entries"]) == 2
    async with http.get(f"/api/audit?limit=2&before={page['next_before']}", headers=env.bearer("admin")) as r:
        page2 = await r.json()
    assert page2["entries"][0]["seq"] == page["entries"][-1]["seq"] - 1
