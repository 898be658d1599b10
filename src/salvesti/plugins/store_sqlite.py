"""The ``sqlite`` store: calls, tags, extensions and the deletion log in ``<data_dir>/salvesti.db``.

Each call is kept whole as JSON (the CONTRACT call object) plus one column per field the
API filters on, so lists are answered from indexes and the object round-trips exactly.
WAL mode and a busy timeout let ``salvesti calls list`` read while ``salvesti run`` writes
from another process.  Writes go through :meth:`SqliteStore.write`, one ``BEGIN IMMEDIATE``
transaction at a time, which other plugins sharing the database (users, tokens, audit)
use too.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiosqlite
import voluptuous as vol

from salvesti.core.call import Call
from salvesti.core.components import CallQuery
from salvesti.core.plugins import Platform, hookimpl
from salvesti.plugins import store_sqlite_list  # (also registers the list indexes)
from salvesti.plugins.store_claim import LocalClaim, local_claim
from salvesti.plugins.store_edits import UNSET, apply_edits, edit_rows, reapply
from salvesti.plugins.store_sqlite_analysis import SqliteAnalysis  # (also registers the analysis tables)
from salvesti.plugins.store_sqlite_migrations import (
    MigrationError,
    apply_migrations,
    register_migration,
    registered,
)
from salvesti.plugins.store_sqlite_query import digits, time_key

__all__ = [
    "UNSET",
    "MigrationError",
    "SqliteStore",
    "StoreError",
    "open_store",
    "register_migration",
    "registered",
]

_LOGGER = logging.getLogger(__name__)

DB_NAME = "salvesti.db"

SCHEMA = vol.Schema(
    {
        vol.Required("platform"): "sqlite",
        vol.Optional("id"): str,
        vol.Optional("path"): str,
        vol.Optional("busy_timeout", default=10.0): vol.All(vol.Coerce(float), vol.Range(min=0, max=600)),
    }
)


class StoreError(RuntimeError):
    """The database file cannot be created, opened or read."""


_CALL_COLUMNS = (
    "id, source, direction, line, remote_number, remote_digits, extension, started_at, answered_at,"
    " ended_at, disposition, outcome, notes, legal_hold, delete_after, recording_status, data, updated_at"
)


class SqliteStore:
    """A :class:`~salvesti.core.components.CallStore` on one SQLite file."""

    def __init__(
        self,
        path: Path,
        *,
        tz: tzinfo = UTC,
        default_country: str = "EE",
        busy_timeout: float = 10.0,
    ) -> None:
        self.path = Path(path)
        self.tz = tz
        self.default_country = default_country
        self.busy_timeout = busy_timeout
        self._db: aiosqlite.Connection | None = None
        self._lock = asyncio.Lock()

    @classmethod
    def from_config(cls, hub: Any, conf: dict[str, Any]) -> SqliteStore:
        path = hub.path(conf["path"]) if conf.get("path") else Path(hub.data_dir) / DB_NAME
        return cls(
            path,
            tz=hub.tz,
            default_country=hub.default_country,
            busy_timeout=conf.get("busy_timeout", 10.0),
        )

    # -- lifecycle ---------------------------------------------------------------------------
    async def async_setup(self) -> None:
        """Open the file (creating it and its folder), switch to WAL, apply migrations."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            db = await aiosqlite.connect(self.path, isolation_level=None, timeout=self.busy_timeout)
        except (OSError, sqlite3.Error) as err:
            raise StoreError(f"cannot open the database {self.path}: {err}") from err
        try:
            await db.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout * 1000)}")
            await db.execute("PRAGMA journal_mode = WAL")
            await db.execute("PRAGMA synchronous = NORMAL")
            await db.execute("PRAGMA foreign_keys = ON")
            applied = await apply_migrations(db)
        except sqlite3.DatabaseError as err:
            await db.close()
            raise StoreError(f"cannot use the database {self.path}: {err}") from err
        except BaseException:
            await db.close()
            raise
        self._db = db
        if applied:
            _LOGGER.info("sqlite(%s): applied migrations %s", self.path, applied)

    async def async_unload(self) -> None:
        if self._db is not None:
            db, self._db = self._db, None
            await db.close()

    async def __aenter__(self) -> SqliteStore:
        await self.async_setup()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.async_unload()

    @property
    def db(self) -> aiosqlite.Connection:
        """The open connection, for plugins that keep their own tables here (read with it;
        write inside :meth:`write`)."""
        if self._db is None:
            raise RuntimeError(f"sqlite store {self.path} is not open")
        return self._db

    @property
    def analysis(self) -> SqliteAnalysis:
        """The analysis queue, results and transcript index in this file."""
        return SqliteAnalysis(self)

    @asynccontextmanager
    async def write(self) -> AsyncIterator[aiosqlite.Connection]:
        """One write transaction (``BEGIN IMMEDIATE`` … ``COMMIT``, rolled back on error)."""
        async with self._lock:
            db = self.db
            await db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                await db.execute("ROLLBACK")
                raise
            await db.execute("COMMIT")

    # -- calls -------------------------------------------------------------------------------
    async def save_call(self, call: Call) -> None:
        """Insert or replace the call, its tags, its extensions and its health problems.

        Fields a user edited (``update_call_fields``) keep the edit: they are laid over
        ``call`` first, which is brought up to date with them (store_edits.py).
        """
        async with self.write() as db:
            edits = await db.execute_fetchall(
                "SELECT field, value FROM call_edits WHERE call_id = ?", (call.id,)
            )
            reapply(call, [(r[0], r[1]) for r in edits])
            await self._upsert(db, call)

    async def _upsert(self, db: aiosqlite.Connection, call: Call) -> None:
        data = call.to_json()
        rec = call.recording
        row = (
            call.id,
            call.source,
            str(call.direction),
            call.line,
            call.remote_number,
            digits(call.remote_number),
            call.extension,
            time_key(call.started_at, self.tz),
            time_key(call.answered_at, self.tz),
            time_key(call.ended_at, self.tz),
            str(call.disposition) if call.disposition else None,
            call.outcome,
            call.notes or "",
            1 if call.retention.legal_hold else 0,
            time_key(call.retention.delete_after, self.tz),
            rec.status if rec is not None else None,
            json.dumps(data, default=str, ensure_ascii=False),
            time_key(datetime.now(UTC)),
        )
        updates = ", ".join(f"{c.strip()} = excluded.{c.strip()}" for c in _CALL_COLUMNS.split(",")[1:])
        await db.execute(
            f"INSERT INTO calls ({_CALL_COLUMNS}) VALUES ({', '.join('?' * len(row))})"
            f" ON CONFLICT (id) DO UPDATE SET {updates}",
            row,
        )
        await db.execute("DELETE FROM call_tags WHERE call_id = ?", (call.id,))
        await db.executemany(
            "INSERT OR IGNORE INTO call_tags (call_id, tag) VALUES (?, ?)", [(call.id, t) for t in call.tags]
        )
        extensions = list(call.extensions)
        if call.extension and call.extension not in extensions:
            extensions.insert(0, call.extension)
        await db.execute("DELETE FROM call_health WHERE call_id = ?", (call.id,))
        await db.executemany(
            "INSERT OR IGNORE INTO call_health (call_id, reason) VALUES (?, ?)",
            [(call.id, str(p.reason)) for p in call.health],
        )
        await db.execute("DELETE FROM call_extensions WHERE call_id = ?", (call.id,))
        await db.executemany(
            "INSERT OR IGNORE INTO call_extensions (call_id, extension, position) VALUES (?, ?, ?)",
            [(call.id, ext, i) for i, ext in enumerate(extensions)],
        )

    async def get_call(self, call_id: str) -> Call | None:
        rows = await self.db.execute_fetchall("SELECT data FROM calls WHERE id = ?", (call_id,))
        for (data,) in rows:
            return Call.from_json(json.loads(data))
        return None

    async def _calls(self, where: str, params: list[Any] | tuple[Any, ...], tail: str = "") -> list[Call]:
        rows = await self.db.execute_fetchall(f"SELECT data FROM calls WHERE {where} {tail}", params)
        return [Call.from_json(json.loads(data)) for (data,) in rows]

    async def list_calls(self, query: CallQuery) -> list[Call]:
        """Calls matching ``query``, newest first; ``limit <= 0`` means no limit."""
        return await store_sqlite_list.list_calls(
            self.db, query, tz=self.tz, default_country=self.default_country
        )

    async def unfinished_calls(self) -> list[Call]:
        """Calls that never ended (a crash cut them off), oldest first."""
        return await self._calls("ended_at IS NULL", (), "ORDER BY started_at, id")

    async def update_call_fields(
        self,
        call_id: str,
        *,
        outcome: str | None = UNSET,
        tags: list[str] = UNSET,
        notes: str = UNSET,
        legal_hold: bool = UNSET,
    ) -> Call | None:
        """Change what users may edit on a call; returns the updated call, or None if unknown.

        Fields left ``UNSET`` are kept; ``outcome=None`` clears the outcome.
        """
        async with self.write() as db:
            rows = await db.execute_fetchall("SELECT data FROM calls WHERE id = ?", (call_id,))
            if not rows:
                return None
            call = Call.from_json(json.loads(next(iter(rows))[0]))
            apply_edits(call, outcome=outcome, tags=tags, notes=notes, legal_hold=legal_hold)
            await self._upsert(db, call)
            given = dict(outcome=outcome, tags=tags, notes=notes, legal_hold=legal_hold)
            await db.executemany(
                "INSERT INTO call_edits (call_id, field, value, edited_at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (call_id, field) DO UPDATE SET value = excluded.value,"
                " edited_at = excluded.edited_at",
                edit_rows(call, given, time_key(datetime.now(UTC))),
            )
            return call

    # -- retention ---------------------------------------------------------------------------
    _HAS_RECORDING = "recording_status IS NOT NULL AND recording_status NOT IN ('deleted', 'recording')"

    async def calls_due_for_deletion(self, now: datetime) -> list[Call]:
        """Calls whose recording is past ``delete_after``, not on legal hold, not yet deleted."""
        return await self._calls(
            f"delete_after IS NOT NULL AND delete_after <= ? AND legal_hold = 0 AND {self._HAS_RECORDING}",
            (time_key(now, self.tz),),
            "ORDER BY delete_after, id",
        )

    async def calls_without_retention(self) -> list[Call]:
        """Ended calls with a recording but no ``delete_after`` (no rule matched when they ended)."""
        return await self._calls(
            f"ended_at IS NOT NULL AND delete_after IS NULL AND legal_hold = 0 AND {self._HAS_RECORDING}",
            (),
            "ORDER BY started_at, id",
        )

    async def oldest_recordings(self) -> dict[str, datetime]:
        """Per retention rule, the earliest end of a call whose recording is still kept.

        Only ruled calls not on legal hold count (a held recording may outlive its rule; the
        partial ``calls_delete_after`` index finds ruled calls); the rule id lives
        in the call's JSON, so this reads those rows once.  ``/metrics`` caches the answer.
        """
        rows = await self.db.execute_fetchall(
            "SELECT json_extract(data, '$.retention.rule') AS rule, MIN(ended_at) FROM calls"
            " WHERE delete_after IS NOT NULL AND ended_at IS NOT NULL AND legal_hold = 0"
            f" AND {self._HAS_RECORDING}"
            " GROUP BY rule"
        )
        return {
            str(rule): datetime.fromisoformat(str(ended).replace("Z", "+00:00"))
            for rule, ended in rows
            if rule is not None and ended is not None
        }

    def claim_call(
        self, call_id: str, still: Callable[[Call], bool]
    ) -> AbstractAsyncContextManager[LocalClaim | None]:
        """The call to act on if ``still(call)`` holds now (one writer process: no lock needed)."""
        return local_claim(self, call_id, still)

    async def log_deletion(
        self, call: Call, *, rule: str, reason: str, when: datetime, what: str = "recording"
    ) -> None:
        """Record that something of ``call`` was deleted, when, by which rule and why."""
        path = call.recording.path if call.recording is not None else None
        async with self.write() as db:
            await db.execute(
                "INSERT INTO deletions (call_id, what, path, deleted_at, rule, reason)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (call.id, what, path, time_key(when, self.tz), rule, reason),
            )

    async def list_deletions(self, *, call_id: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
        """The deletion log, newest first."""
        where, params = ("call_id = ?", [call_id]) if call_id else ("1", [])
        rows = await self.db.execute_fetchall(
            f"SELECT call_id, what, path, deleted_at, rule, reason FROM deletions WHERE {where}"
            " ORDER BY id DESC LIMIT ?",
            [*params, limit],
        )
        keys = ("call_id", "what", "path", "deleted_at", "rule", "reason")
        out = [dict(zip(keys, row, strict=True)) for row in rows]
        for item in out:
            item["deleted_at"] = _from_key(item["deleted_at"], self.tz)
        return out


def _from_key(key: str, tz: tzinfo) -> str:
    return datetime.strptime(key, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC).astimezone(tz).isoformat()


def open_store(config: dict[str, Any]) -> SqliteStore:
    """A store for a validated config (``load_config`` output), not yet open.

    Use ``async with open_store(config) as store:``.  ``data_dir`` is absolute after
    ``load_config``; a relative one is taken from the current folder.
    """
    core = config.get("salvesti") or {}
    conf = SCHEMA(dict(config.get("store") or {"platform": "sqlite"}))
    path = Path(conf["path"]) if conf.get("path") else Path(core.get("data_dir", "./data")) / DB_NAME
    return SqliteStore(
        path.expanduser().resolve(),
        tz=ZoneInfo(core.get("timezone") or "UTC"),
        default_country=core.get("default_country", "EE"),
        busy_timeout=conf["busy_timeout"],
    )


@hookimpl
def register_stores(register: Any) -> None:
    register(
        Platform(
            kind="store",
            name="sqlite",
            schema=SCHEMA,
            factory=SqliteStore.from_config,
            description="Calls and the deletion log in <data_dir>/salvesti.db (SQLite, WAL)",
        )
    )
