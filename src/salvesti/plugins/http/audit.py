"""The audit log: who listened to, downloaded, searched, changed or deleted which call, when, from where.

Append-only and hash-chained: each entry's ``hash`` is sha256 over the previous entry's hash and
this entry's fields in a canonical JSON form, so editing, deleting or reordering any entry breaks
the chain from that point and ``salvesti audit verify`` names the first bad entry.

This module is the chain itself, the same for every backend; where entries are kept and how an
append is serialised against other writers is the backend's (``AccountsDb.audit_append``): a
``BEGIN IMMEDIATE`` transaction in the SQLite file, a transaction-scoped advisory lock on
PostgreSQL, so the server, a CLI command and other nodes can append at once without forking it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterable, Sequence
from typing import Any

from salvesti.plugins.http.accounts_db import VerifyResult

__all__ = [
    "ACTIONS",
    "COLUMNS",
    "GENESIS",
    "VerifyResult",
    "decode",
    "detail_text",
    "entry_hash",
    "link",
    "verify_rows",
]

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
    "dial",
    "test_call",
    "employee_add",
    "employee_left",
    "employee_ack",
)

#: The stored columns, in the order :func:`verify_rows` reads them.
COLUMNS = ("seq", "at", "user", "action", "call_id", "source_addr", "detail", "prev_hash", "hash")


def entry_hash(prev_hash: str, fields: dict[str, Any]) -> str:
    canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256((prev_hash + "\n" + canonical).encode("utf-8")).hexdigest()


def detail_text(detail: dict[str, Any] | None) -> str:
    """The stored form of an entry's detail (hashed as this exact text)."""
    return json.dumps(detail or {}, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


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


def link(
    head: tuple[int, str] | None,
    at: str,
    user: str | None,
    action: str,
    call_id: str | None,
    source_addr: str | None,
    detail: str,
) -> tuple[int, str, str]:
    """The next entry after ``head`` (the last entry's seq and hash, None for an empty log):
    its (seq, prev_hash, hash).  The caller holds the log's write lock from reading ``head``
    until the entry is stored."""
    seq, prev = (head[0] + 1, head[1]) if head else (1, GENESIS)
    fields = _fields(at, user, action, call_id, source_addr, detail)
    return seq, prev, entry_hash(prev, {"seq": seq, **fields})


async def verify_rows(rows: AsyncIterable[Sequence[Any]]) -> VerifyResult:
    """Check entries (:data:`COLUMNS`, in ``seq`` order) against the chain from its start."""
    prev = GENESIS
    expected_seq = 1
    count = 0
    async for row in rows:
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


def decode(item: dict[str, Any]) -> dict[str, Any]:
    """An entry as the API shows it: ``detail`` as JSON again (kept as text if it is not JSON)."""
    try:
        item["detail"] = json.loads(item["detail"])
    except ValueError:
        pass
    return item
