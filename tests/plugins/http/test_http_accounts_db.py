"""The accounts database (users, tokens, sessions, the audit chain), run against both backends.

Each test runs once on the SQLite store's file and once on a PostgreSQL database, through
``open_accounts`` as the server and the CLI use it, and expects the very same values, so the
API answers alike on either store.  ``again`` opens a second, independent handle on the same
data: another connection to the file (the CLI beside the server), or another store pool (a
second node).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from salvesti.plugins.http import audit
from salvesti.plugins.http.accounts_db import AccountsDb, UserExists, open_accounts
from salvesti.plugins.http.db_postgresql import PostgresAccounts
from salvesti.plugins.store_postgresql import PostgresStore
from salvesti.plugins.store_sqlite import SqliteStore
from salvesti.testing import postgres

NOW = "2026-11-29T10:00:00+02:00"
Opener = Callable[[], Awaitable[AccountsDb]]


@pytest.fixture(params=["sqlite", "postgresql"])
async def again(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Opener]:
    """Opens handles on one database; every handle (and store) is closed after the test."""
    opened: list[Any] = []

    async def store() -> Any:
        if request.param == "sqlite":
            s: Any = SqliteStore(tmp_path / "data" / "salvesti.db")
        else:
            s = PostgresStore(request.getfixturevalue("pg_dsn"), pool_size=3)
        await s.async_setup()
        opened.append(s)
        return s

    async def open_one() -> AccountsDb:
        db = await open_accounts(SimpleNamespace(store=await store(), data_dir=tmp_path / "data"))
        opened.append(db)
        return db

    if request.param == "postgresql":
        first = await store()
        await PostgresAccounts.open(first.pool)  # our tables exist before they are emptied
        await postgres.truncate(request.getfixturevalue("pg_dsn"))
    try:
        yield open_one
    finally:
        for thing in reversed(opened):
            await (thing.close() if hasattr(thing, "close") else thing.async_unload())


@pytest.fixture
async def db(again: Opener) -> AccountsDb:
    return await again()


async def raw(db: Any, sql: str, *args: Any) -> list[Any]:
    """Bypass the interface (to tamper with the log): ``$n`` placeholders on either backend."""
    if isinstance(db, PostgresAccounts):
        return list(await db.pool.fetch(sql, *args))
    return list(await db.conn.execute_fetchall(re.sub(r"\$\d+", "?", sql), args))


# -- users ----------------------------------------------------------------------------------------
async def test_backend_has_every_method_of_the_interface(db):
    assert isinstance(db, AccountsDb)


async def test_users_round_trip(db):
    mari = await db.add_user("mari", "agent", "scrypt$x", "101", NOW)
    assert (mari.name, mari.role, mari.extension, mari.disabled, mari.created_at) == (
        "mari", "agent", "101", False, NOW,
    )  # fmt: skip
    await db.add_user("Boss", "admin", "scrypt$y", None, NOW)
    await db.add_user("anna", "manager", "scrypt$z", None, NOW)
    with pytest.raises(UserExists):
        await db.add_user("mari", "admin", "scrypt$w", None, NOW)
    found = await db.get_user("mari")
    assert found is not None and found[0] == mari and found[1] == "scrypt$x"
    assert await db.get_user("Mari") is None  # names are case-sensitive
    assert [u.name for u in await db.list_users()] == ["Boss", "anna", "mari"]  # bytewise order
    assert await db.count_users() == 3
    assert mari.to_json() == {
        "name": "mari", "role": "agent", "extension": "101", "disabled": False, "created_at": NOW,
    }  # fmt: skip

    assert await db.update_user("mari", {"role": "manager", "extension": None, "name": "ignored"})
    assert not await db.update_user("nobody", {"role": "admin"})
    assert await db.update_user("mari", {}) and not await db.update_user("nobody", {})
    user = (await db.get_user("mari"))[0]
    assert (user.role, user.extension, user.id) == ("manager", None, mari.id)
    assert await db.delete_user("anna") and not await db.delete_user("anna")
    assert await db.count_users() == 2


async def test_a_new_password_or_disabling_ends_the_users_sessions(db):
    mari = await db.add_user("mari", "agent", "h1", None, NOW)
    for n in range(3):
        await db.add_session(f"s{n}", mari.id, f"csrf{n}", NOW, 2000.0, "10.0.0.1")
    found = await db.user_for_session("s0", 1000.0)
    assert found is not None and found[0] == mari and found[1] == "csrf0"
    await db.update_user("mari", {"extension": "101"})  # neither: sessions stay
    assert await db.user_for_session("s0", 1000.0) is not None
    await db.update_user("mari", {"password_hash": "h2"})
    assert await db.user_for_session("s0", 1000.0) is None
    await db.add_session("s9", mari.id, "c", NOW, 2000.0, None)
    await db.update_user("mari", {"disabled": True})
    assert await db.user_for_session("s9", 1000.0) is None
    assert (await db.get_user("mari"))[0].disabled is True


async def test_sessions_expire_and_are_purged(db):
    mari = await db.add_user("mari", "agent", "h", None, NOW)
    await db.add_session("old", mari.id, "c1", NOW, 1000.5, None)
    await db.add_session("new", mari.id, "c2", NOW, 5000.0, "::1")
    assert await db.user_for_session("old", 1000.0) is not None
    assert await db.user_for_session("old", 1000.5) is None  # expires_at is the first instant it is gone
    await db.purge_sessions(1000.5)
    assert await db.user_for_session("old", 0.0) is None
    assert await db.user_for_session("new", 1000.5) is not None
    await db.delete_session("new")
    assert await db.user_for_session("new", 0.0) is None
    assert await db.user_for_session("unknown", 0.0) is None


# -- tokens ---------------------------------------------------------------------------------------
async def test_tokens_round_trip(db):
    mari = await db.add_user("mari", "manager", "h", None, NOW)
    first = await db.add_token(mari.id, "crm", "agent", "a" * 64, NOW)
    second = await db.add_token(mari.id, "", "manager", "b" * 64, NOW)
    assert 0 < first < second
    found = await db.user_for_token("a" * 64)
    assert found is not None and found[0] == mari and found[1:] == ("agent", first)
    await db.touch_token(first, "2026-11-29T10:05:00+02:00")
    assert await db.revoke_token(second, "2026-11-29T10:06:00+02:00")
    assert not await db.revoke_token(second, NOW) and not await db.revoke_token(999, NOW)
    assert await db.user_for_token("b" * 64) is None
    assert await db.list_tokens() == [
        {"id": first, "user": "mari", "name": "crm", "role": "agent", "created_at": NOW,
         "last_used_at": "2026-11-29T10:05:00+02:00", "revoked_at": None},
        {"id": second, "user": "mari", "name": "", "role": "manager", "created_at": NOW,
         "last_used_at": None, "revoked_at": "2026-11-29T10:06:00+02:00"},
    ]  # fmt: skip


async def test_deleting_a_user_deletes_their_tokens_and_sessions(db):
    mari = await db.add_user("mari", "agent", "h", None, NOW)
    await db.add_token(mari.id, "", "agent", "t" * 64, NOW)
    await db.add_session("s", mari.id, "c", NOW, 2000.0, None)
    await db.delete_user("mari")
    assert await db.list_tokens() == []
    assert await db.user_for_token("t" * 64) is None and await db.user_for_session("s", 0.0) is None
    again = await db.add_user("mari", "agent", "h", None, NOW)  # a new mari has nothing of the old one's
    assert await db.user_for_token("t" * 64) is None and await db.user_for_session("s", 0.0) is None
    assert again.disabled is False


# -- the audit chain --------------------------------------------------------------------------
async def _fill(db: AccountsDb, n: int, *, user: str = "u") -> None:
    for i in range(n):
        await db.audit_append(
            at=f"2026-11-29T10:00:{i:02d}+02:00", user=user, action="playback", call_id=f"c{i}"
        )


async def test_audit_append_and_list(db):
    assert await db.audit_verify() == audit.VerifyResult(True, 0)
    assert await db.audit_append(at=NOW, user="mari", action="login", source_addr="10.0.0.1") == 1
    assert await db.audit_append(
        at=NOW, user="mari", action="view", call_id="c1", detail={"role": "agent", "õ": [1, None]}
    ) == 2  # fmt: skip
    assert await db.audit_append(at=NOW, user=None, action="resume", call_id="c1") == 3
    entries = await db.audit_list()
    assert [e["seq"] for e in entries] == [3, 2, 1]
    assert {k: v for k, v in entries[1].items() if k != "hash"} == {
        "seq": 2, "at": NOW, "user": "mari", "action": "view", "call_id": "c1", "source_addr": None,
        "detail": {"role": "agent", "õ": [1, None]},
    }  # fmt: skip
    assert len(entries[1]["hash"]) == 64
    assert [e["seq"] for e in await db.audit_list(call_id="c1")] == [3, 2]
    assert [e["seq"] for e in await db.audit_list(user="mari", action="login")] == [1]
    assert [e["seq"] for e in await db.audit_list(before=3, limit=1)] == [2]
    assert await db.audit_verify() == audit.VerifyResult(True, 3)


async def test_the_chain_is_the_same_on_either_backend(db):
    """The hashes depend only on the entries, so a chain moved between stores still verifies."""
    await _fill(db, 3)
    hashes = [e["hash"] for e in await db.audit_list()]
    assert hashes[-1] == audit.entry_hash(
        audit.GENESIS,
        {"seq": 1, "at": "2026-11-29T10:00:00+02:00", "user": "u", "action": "playback", "call_id": "c0",
         "source_addr": None, "detail": "{}"},
    )  # fmt: skip


async def test_chain_detects_an_edited_entry(db):
    await _fill(db, 5)
    await raw(db, 'UPDATE http_audit SET "user" = $1 WHERE seq = 3', "someone else")
    result = await db.audit_verify()
    assert (result.ok, result.entries, result.first_bad) == (False, 2, 3) and "altered" in result.reason


async def test_chain_detects_a_deleted_entry(db):
    await _fill(db, 5)
    await raw(db, "DELETE FROM http_audit WHERE seq = 2")
    result = await db.audit_verify()
    assert (result.ok, result.first_bad) == (False, 2) and "missing" in result.reason


async def test_rehashing_an_edited_entry_breaks_the_next_link(db):
    await _fill(db, 4)
    prev = (await raw(db, "SELECT prev_hash FROM http_audit WHERE seq = 2"))[0][0]
    fields = {"seq": 2, "at": "x", "user": "u", "action": "view", "call_id": "c1", "source_addr": None}
    forged = audit.entry_hash(prev, {**fields, "detail": "{}"})
    await raw(db, "UPDATE http_audit SET at = 'x', action = 'view', hash = $1 WHERE seq = 2", forged)
    result = await db.audit_verify()
    assert (result.ok, result.first_bad) == (False, 3) and "does not link" in result.reason


async def test_concurrent_appends_from_two_handles_keep_one_chain(again):
    """Two connections to the file (server and CLI) or two pools on the database (two nodes)."""
    a, b = await again(), await again()
    seqs = await asyncio.gather(
        *(
            h.audit_append(at=NOW, user=f"{name}{i}", action="view")
            for i in range(25)
            for name, h in (("a", a), ("b", b))
        )
    )
    assert sorted(seqs) == list(range(1, 51))
    for handle in (a, b):
        assert await handle.audit_verify() == audit.VerifyResult(True, 50)
    users = {e["user"] for e in await a.audit_list(limit=100)}
    assert users == {f"{n}{i}" for n in "ab" for i in range(25)}
