"""Deletions must win over backups: what the live store deleted after a backup stays deleted.

Before a restore overwrites the store, the live store's deletion log is read; every entry the
backup's log does not have (the same call, what and time) was made after the backup.  The
restore then leaves those recordings out, destroys their data keys in the restored
``keys.db`` (the crypto-erase again), writes the entries back into the restored log and puts
the live call object (status ``deleted``, an erasure's blanked number and notes) in place of
the backup's older one.  A restore can bring calls back; it never brings back what was erased.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from salvesti.backup.sqlite_copy import rows

_COLUMNS = "call_id, what, path, deleted_at, rule, reason"


@dataclass(frozen=True)
class DeletionRow:
    """One entry of the store's deletion log (``deleted_at`` as the store keeps it)."""

    call_id: str
    what: str
    path: str | None
    deleted_at: str
    rule: str
    reason: str

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.call_id, self.what, self.deleted_at)


@dataclass
class LiveState:
    """What the live store says was deleted, read before the restore replaces it."""

    deletions: list[DeletionRow] = field(default_factory=list)
    #: The live call objects (CONTRACT JSON) of the calls those deletions name.
    calls: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: Why the live store could not be read (then nothing can be re-applied, and we say so).
    problem: str | None = None
    #: True when the live store is the one being restored (SQLite); False for PostgreSQL.
    replaced: bool = True
    #: Every call id in the live store (SQLite), to say which calls a restore drops.
    call_ids: set[str] = field(default_factory=set)


def sqlite_deletions(path: Path) -> list[DeletionRow]:
    return [DeletionRow(*map(_text, r)) for r in rows(path, f"SELECT {_COLUMNS} FROM deletions ORDER BY id")]


def read_live_sqlite(path: Path) -> LiveState:
    """The deletion log and the deleted calls of the live SQLite store (empty when none yet)."""
    if not path.exists():
        return LiveState()
    try:
        found = sqlite_deletions(path)
        ids = sorted({d.call_id for d in found})
        calls: dict[str, dict[str, Any]] = {}
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            marks = ", ".join("?" * len(chunk))
            sql = f"SELECT id, data FROM calls WHERE id IN ({marks})"
            for call_id, data in rows(path, sql, tuple(chunk)):
                calls[str(call_id)] = json.loads(str(data))
        every = {str(r[0]) for r in rows(path, "SELECT id FROM calls")}
    except (sqlite3.DatabaseError, ValueError) as err:
        return LiveState(problem=f"the live store {path} could not be read ({err})")
    return LiveState(found, calls, call_ids=every)


def newer_than_backup(live: LiveState, backed_up: list[DeletionRow]) -> list[DeletionRow]:
    known = {d.key for d in backed_up}
    return [d for d in live.deletions if d.key not in known]


def forget_keys(keys_db: Path, call_ids: set[str]) -> int:
    """Destroy the data keys of ``call_ids`` in a (restored) ``keys.db``; returns how many."""
    if not call_ids or not keys_db.exists():
        return 0
    conn = sqlite3.connect(keys_db, isolation_level=None)
    try:
        conn.execute("PRAGMA secure_delete = ON")
        with contextlib.suppress(sqlite3.OperationalError):  # no table: nothing to forget
            marks = ", ".join("?" * len(call_ids))
            sql = f"DELETE FROM data_keys WHERE call_id IN ({marks})"
            return conn.execute(sql, sorted(call_ids)).rowcount
        return 0
    finally:
        conn.close()


async def rewrite_store(store: Any, redo: list[DeletionRow], live: LiveState) -> None:
    """Put the re-applied deletions into a restored :class:`SqliteStore` (open)."""
    from salvesti.core.call import Call

    async with store.write() as db:
        await db.executemany(
            f"INSERT INTO deletions ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)",
            [(d.call_id, d.what, d.path, d.deleted_at, d.rule, d.reason) for d in redo],
        )
    for call_id in sorted({d.call_id for d in redo}):
        data = live.calls.get(call_id)
        call = Call.from_json(data) if data is not None else await store.get_call(call_id)
        if call is None:
            continue
        if call.recording is not None:
            call.recording.status = "deleted"
        await store.save_call(call)


def _text(value: object) -> Any:
    return None if value is None else str(value)
