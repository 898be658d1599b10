"""The audit log: who listened to, downloaded, searched, changed or deleted which call, when, from where.

Append-only and hash-chained: each entry's ``hash`` is sha256 over the previous entry's hash and
this entry's fields in a canonical JSON form, so editing, deleting or reordering any entry breaks
the chain from that point and ``salvesti audit verify`` names the first bad entry.  The head of
the chain is read and the entry inserted inside one ``BEGIN IMMEDIATE`` transaction, so the
server and a CLI command (subject erase) can append at the same time without forking the chain.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import weakref
from dataclasses import dataclass
from typing import Any

import aiosqlite

GENESIS = "0" * 64

ACTIONS = (
    "login",
    "login_failed",
    "logout",
    "search",
    "view",
    "playback",
    "download",
    "change",
    "delete",
    "export",
    "erase",
    "user_add",
    "user_change",
    "user_delete",
    "token_create",
    "token_revoke",
    "pause",
    "resume",
    "provision",
    "provisioning_view",
    "employee_add",
    "employee_left",
    "employee_ack",
)


_LOCKS: weakref.WeakKeyDictionary[aiosqlite.Connection, asyncio.Lock] = weakref.WeakKeyDictionary()


def _lock_for(conn: aiosqlite.Connection) -> asyncio.Lock:
    """One transaction at a time per connection (coroutines share the server's connection)."""
    lock = _LOCKS.get(conn)
    if lock is None:
        lock = _LOCKS[conn] = asyncio.Lock()
    return lock


def entry_hash(prev_hash: str, fields: dict[str, Any]) -> str:
    canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256((prev_hash + "\n" + canonical).encode("utf-8")).hexdigest()


def _fields(
    at: str, user: str | None, action: str, call_id: str | None, source_addr: str | None, detail: str
) -> dict[str, Any]:
    return {
        "at": at,
        "user": user,
        "action": action,
        "call_id": call_id,
        "source_addr": source_addr,
        "detail": detail,
    }


async def append(
    conn: aiosqlite.Connection,
    *,
    at: str,
    user: str | None,
    action: str,
    call_id: str | None = None,
    source_addr: str | None = None,
    detail: dict[str, Any] | None = None,
) -> int:
    """Append one entry and return its sequence number (the connection must be in autocommit mode)."""
    detail_text = json.dumps(detail or {}, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    async with _lock_for(conn):
        return await _append_locked(conn, at, user, action, call_id, source_addr, detail_text)


async def _append_locked(
    conn: aiosqlite.Connection,
    at: str,
    user: str | None,
    action: str,
    call_id: str | None,
    source_addr: str | None,
    detail_text: str,
) -> int:
    await conn.execute("BEGIN IMMEDIATE")
    try:
        async with conn.execute("SELECT seq, hash FROM http_audit ORDER BY seq DESC LIMIT 1") as cur:
            row = await cur.fetchone()
        prev = row[1] if row else GENESIS
        seq = (row[0] + 1) if row else 1
        fields = _fields(at, user, action, call_id, source_addr, detail_text)
        digest = entry_hash(prev, {"seq": seq, **fields})
        await conn.execute(
            "INSERT INTO http_audit (seq, at, user, action, call_id, source_addr, detail, prev_hash, hash) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (seq, at, user, action, call_id, source_addr, detail_text, prev, digest),
        )
        await conn.execute("COMMIT")
    except BaseException:
        await conn.execute("ROLLBACK")
        raise
    return seq


@dataclass
class VerifyResult:
    ok: bool
    entries: int
    first_bad: int | None = None
    reason: str = ""


async def verify(conn: aiosqlite.Connection) -> VerifyResult:
    """Walk the whole chain; stop at the first entry whose link or hash does not match."""
    prev = GENESIS
    expected_seq = 1
    count = 0
    async with conn.execute(
        "SELECT seq, at, user, action, call_id, source_addr, detail, prev_hash, hash "
        "FROM http_audit ORDER BY seq"
    ) as cur:
        async for row in cur:
            seq = row[0]
            if seq != expected_seq:
                return VerifyResult(False, count, expected_seq, f"entry {expected_seq} is missing")
            if row[7] != prev:
                return VerifyResult(False, count, seq, f"entry {seq} does not link to entry {seq - 1}")
            fields = _fields(row[1], row[2], row[3], row[4], row[5], row[6])
            if entry_hash(prev, {"seq": seq, **fields}) != row[8]:
                return VerifyResult(False, count, seq, f"entry {seq} was altered (hash mismatch)")
            prev = row[8]
            expected_seq += 1
            count += 1
    return VerifyResult(True, count)


async def query(
    conn: aiosqlite.Connection,
    *,
    call_id: str | None = None,
    user: str | None = None,
    action: str | None = None,
    before: int | None = None,
    limit: int = 100,
) -> list[dict[str, Any]]:
    """Newest first; ``before`` is the keyset (a ``seq``) for the next page."""
    where, args = [], []
    for col, val in (("call_id", call_id), ("user", user), ("action", action)):
        if val is not None:
            where.append(f"{col} = ?")
            args.append(val)
    if before is not None:
        where.append("seq < ?")
        args.append(before)
    sql = "SELECT seq, at, user, action, call_id, source_addr, detail, hash FROM http_audit"
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY seq DESC LIMIT ?"
    args.append(limit)
    async with conn.execute(sql, args) as cur:
        rows = await cur.fetchall()
    out = []
    for r in rows:
        item = dict(r)
        try:
            item["detail"] = json.loads(item["detail"])
        except ValueError:
            pass
        out.append(item)
    return out
