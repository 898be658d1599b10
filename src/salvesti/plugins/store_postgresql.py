"""The ``postgresql`` store: the same calls, tags, extensions and deletion log, shared by nodes.

``{platform: postgresql, dsn: "postgresql://user:pass@host:5432/db"}``.  It answers the same
:class:`~salvesti.core.components.CallStore` (and retention) methods as the SQLite store with
the same results -- one shared test suite runs against both -- so several ``salvesti run``
processes can share one database.  Each call is kept whole as JSONB (the CONTRACT call object)
plus one column per field the API filters on.  A pool of asyncpg connections serves readers;
each write is one transaction, and edits lock the call's row (``FOR UPDATE``) so two nodes
changing one call never lose an update.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, tzinfo
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import voluptuous as vol

from salvesti.core.call import Call
from salvesti.core.components import CallQuery
from salvesti.core.plugins import Platform, hookimpl
from salvesti.plugins import store_postgresql_list  # (also registers the list indexes)
from salvesti.plugins.store_edits import UNSET, apply_edits, edit_rows, reapply
from salvesti.plugins.store_postgresql_analysis import PostgresAnalysis  # (also registers its tables)
from salvesti.plugins.store_postgresql_migrations import MigrationError, apply_migrations
from salvesti.plugins.store_postgresql_query import aware, digits
from salvesti.plugins.store_sqlite import StoreError

if TYPE_CHECKING:  # asyncpg (~4 MB) loads when a PostgreSQL store is set up, not with the plugin list
    import asyncpg

__all__ = ["UNSET", "MigrationError", "PostgresStore", "StoreError"]

_LOGGER = logging.getLogger(__name__)

SCHEMA = vol.Schema(
    {
        vol.Required("platform"): "postgresql",
        vol.Optional("id"): str,
        vol.Required("dsn"): vol.All(str, vol.Match(r"^postgres(ql)?://", msg="dsn must be postgresql://…")),
        vol.Optional("pool_size", default=10): vol.All(int, vol.Range(min=1, max=100)),
        vol.Optional("connect_timeout", default=10.0): vol.All(
            vol.Coerce(float), vol.Range(min=0.1, max=600)
        ),
    }
)

_COLUMNS = (
    "id", "source", "direction", "line", "remote_number", "remote_digits", "extension", "started_at",
    "answered_at", "ended_at", "disposition", "outcome", "notes", "legal_hold", "delete_after",
    "recording_status", "data", "updated_at",
)  # fmt: skip

_PLACES = ", ".join(f"${i + 1}" for i in range(len(_COLUMNS)))
_UPSERT = (
    f"INSERT INTO calls ({', '.join(_COLUMNS)}) VALUES ({_PLACES})"
    f" ON CONFLICT (id) DO UPDATE SET {', '.join(f'{c} = excluded.{c}' for c in _COLUMNS[1:])}"
)

_HAS_RECORDING = "recording_status IS NOT NULL AND recording_status NOT IN ('deleted', 'recording')"


def redact_dsn(dsn: str) -> str:
    """``host:port/db`` of a DSN, for log lines and errors (never the password)."""
    parts = urlsplit(dsn)
    return f"{parts.hostname or 'localhost'}:{parts.port or 5432}{parts.path or '/'}"


class PostgresStore:
    """A :class:`~salvesti.core.components.CallStore` on a PostgreSQL database."""

    def __init__(
        self,
        dsn: str,
        *,
        tz: tzinfo = UTC,
        default_country: str = "EE",
        pool_size: int = 10,
        connect_timeout: float = 10.0,
    ) -> None:
        self.dsn = dsn
        self.tz = tz
        self.default_country = default_country
        self.pool_size = pool_size
        self.connect_timeout = connect_timeout
        self._pool: asyncpg.Pool | None = None

    @classmethod
    def from_config(cls, hub: Any, conf: dict[str, Any]) -> PostgresStore:
        return cls(
            conf["dsn"],
            tz=hub.tz,
            default_country=hub.default_country,
            pool_size=conf.get("pool_size", 10),
            connect_timeout=conf.get("connect_timeout", 10.0),
        )

    def __repr__(self) -> str:
        return f"postgresql({redact_dsn(self.dsn)})"

    # -- lifecycle ---------------------------------------------------------------------------
    async def async_setup(self) -> None:
        """Open the pool and bring the schema up to date (serialised with other nodes)."""
        import asyncpg

        try:
            pool = await asyncpg.create_pool(
                self.dsn, min_size=1, max_size=self.pool_size, timeout=self.connect_timeout
            )
        except (OSError, TimeoutError, asyncpg.PostgresError) as err:
            raise StoreError(f"{self!r}: cannot connect: {err}") from err
        try:
            async with pool.acquire() as conn:
                applied = await apply_migrations(conn)
        except BaseException:
            await pool.close()
            raise
        self._pool = pool
        if applied:
            _LOGGER.info("%r: applied migrations %s", self, applied)

    async def async_unload(self) -> None:
        if self._pool is not None:
            pool, self._pool = self._pool, None
            await pool.close()

    async def __aenter__(self) -> PostgresStore:
        await self.async_setup()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.async_unload()

    @property
    def pool(self) -> asyncpg.Pool:
        """The open pool, for plugins that keep their own tables here."""
        if self._pool is None:
            raise RuntimeError(f"{self!r} is not open")
        return self._pool

    @property
    def analysis(self) -> PostgresAnalysis:
        """The analysis queue, results and transcript index in this database, shared by nodes."""
        return PostgresAnalysis(self)

    @asynccontextmanager
    async def write(self) -> AsyncIterator[asyncpg.Connection]:
        """One write transaction on a pooled connection (rolled back on error)."""
        async with self.pool.acquire() as conn, conn.transaction():
            yield conn

    # -- calls -------------------------------------------------------------------------------
    async def save_call(self, call: Call) -> None:
        """Insert or replace the call, its tags, its extensions and its health problems.

        Fields a user edited on any node (``update_call_fields``) keep the edit: under the
        row's lock they are laid over ``call``, which is brought up to date (store_edits.py).
        """
        async with self.write() as conn:
            await self._save(conn, call)

    async def _save(self, conn: asyncpg.Connection, call: Call) -> None:
        """``save_call`` inside the caller's transaction (a claim's, which holds the lock already)."""
        await conn.execute("SELECT 1 FROM calls WHERE id = $1 FOR UPDATE", call.id)
        edits = await conn.fetch("SELECT field, value FROM call_edits WHERE call_id = $1", call.id)
        reapply(call, [(r["field"], r["value"]) for r in edits])
        await self._upsert(conn, call)

    async def _upsert(self, conn: asyncpg.Connection, call: Call) -> None:
        rec = call.recording
        await conn.execute(
            _UPSERT,
            call.id,
            call.source,
            str(call.direction),
            call.line,
            call.remote_number,
            digits(call.remote_number),
            call.extension,
            aware(call.started_at, self.tz),
            aware(call.answered_at, self.tz),
            aware(call.ended_at, self.tz),
            str(call.disposition) if call.disposition else None,
            call.outcome,
            call.notes or "",
            bool(call.retention.legal_hold),
            aware(call.retention.delete_after, self.tz),
            rec.status if rec is not None else None,
            json.dumps(call.to_json(), default=str, ensure_ascii=False),
            datetime.now(UTC),
        )
        extensions = list(call.extensions)
        if call.extension and call.extension not in extensions:
            extensions.insert(0, call.extension)
        for table, sql, rows in (
            ("call_tags", "INSERT INTO call_tags (call_id, tag) VALUES ($1, $2)", [(t,) for t in call.tags]),
            (
                "call_health",
                "INSERT INTO call_health (call_id, reason) VALUES ($1, $2)",
                [(str(p.reason),) for p in call.health],
            ),
            (
                "call_extensions",
                "INSERT INTO call_extensions (call_id, extension, position) VALUES ($1, $2, $3)",
                [(ext, i) for i, ext in enumerate(extensions)],
            ),
        ):
            await conn.execute(f"DELETE FROM {table} WHERE call_id = $1", call.id)
            if rows:
                await conn.executemany(sql + " ON CONFLICT DO NOTHING", [(call.id, *r) for r in rows])

    async def get_call(self, call_id: str) -> Call | None:
        data = await self.pool.fetchval("SELECT data FROM calls WHERE id = $1", call_id)
        return Call.from_json(json.loads(data)) if data is not None else None

    async def _calls(self, where: str, params: list[Any], tail: str = "") -> list[Call]:
        rows = await self.pool.fetch(f"SELECT data FROM calls WHERE {where} {tail}", *params)
        return [Call.from_json(json.loads(row["data"])) for row in rows]

    async def list_calls(self, query: CallQuery) -> list[Call]:
        """Calls matching ``query``, newest first; ``limit <= 0`` means no limit."""
        return await store_postgresql_list.list_calls(
            self.pool, query, tz=self.tz, default_country=self.default_country
        )

    async def unfinished_calls(self) -> list[Call]:
        """Calls that never ended (a crash cut them off), oldest first."""
        return await self._calls("ended_at IS NULL", [], "ORDER BY started_at, id")

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

        Fields left ``UNSET`` are kept; ``outcome=None`` clears the outcome.  The row is locked
        for the transaction, so an edit on another node waits instead of being overwritten.
        """
        async with self.write() as conn:
            data = await conn.fetchval("SELECT data FROM calls WHERE id = $1 FOR UPDATE", call_id)
            if data is None:
                return None
            call = Call.from_json(json.loads(data))
            apply_edits(call, outcome=outcome, tags=tags, notes=notes, legal_hold=legal_hold)
            await self._upsert(conn, call)
            given = dict(outcome=outcome, tags=tags, notes=notes, legal_hold=legal_hold)
            await conn.executemany(
                "INSERT INTO call_edits (call_id, field, value, edited_at) VALUES ($1, $2, $3, $4)"
                " ON CONFLICT (call_id, field) DO UPDATE SET value = excluded.value,"
                " edited_at = excluded.edited_at",
                edit_rows(call, given, datetime.now(UTC)),
            )
            return call

    # -- retention ---------------------------------------------------------------------------
    async def calls_due_for_deletion(self, now: datetime) -> list[Call]:
        """Calls whose recording is past ``delete_after``, not on legal hold, not yet deleted."""
        return await self._calls(
            f"delete_after IS NOT NULL AND delete_after <= $1 AND NOT legal_hold AND {_HAS_RECORDING}",
            [aware(now, self.tz)],
            "ORDER BY delete_after, id",
        )

    async def calls_without_retention(self) -> list[Call]:
        """Ended calls with a recording but no ``delete_after`` (no rule matched when they ended)."""
        return await self._calls(
            f"ended_at IS NOT NULL AND delete_after IS NULL AND NOT legal_hold AND {_HAS_RECORDING}",
            [],
            "ORDER BY started_at, id",
        )

    async def oldest_recordings(self) -> dict[str, datetime]:
        """Per retention rule, the earliest end of a call whose recording is still kept
        (ruled calls not on legal hold; the rule id is in the JSONB).  ``/metrics`` caches it."""
        rows = await self.pool.fetch(
            "SELECT data->'retention'->>'rule' AS rule, MIN(ended_at) AS ended FROM calls"
            " WHERE delete_after IS NOT NULL AND ended_at IS NOT NULL AND NOT legal_hold"
            f" AND {_HAS_RECORDING}"
            " GROUP BY rule"
        )
        return {str(r["rule"]): r["ended"] for r in rows if r["rule"] is not None and r["ended"] is not None}

    @asynccontextmanager
    async def claim_call(
        self, call_id: str, still: Callable[[Call], bool]
    ) -> AsyncIterator[PostgresClaim | None]:
        """Lock the call's row for the block if ``still(call)`` holds; None if not, or if
        another node holds it (``SKIP LOCKED``: no waiting).  The claim's writes commit with
        the block and roll back if it raises, so a recording is deleted and logged once."""
        async with self.write() as conn:
            data = await conn.fetchval("SELECT data FROM calls WHERE id = $1 FOR UPDATE SKIP LOCKED", call_id)
            call = Call.from_json(json.loads(data)) if data is not None else None
            yield PostgresClaim(self, conn, call) if call is not None and still(call) else None

    async def log_deletion(
        self, call: Call, *, rule: str, reason: str, when: datetime, what: str = "recording"
    ) -> None:
        """Record that something of ``call`` was deleted, when, by which rule and why."""
        async with self.pool.acquire() as conn:
            await self._log_deletion(conn, call, rule=rule, reason=reason, when=when, what=what)

    async def _log_deletion(
        self, conn: asyncpg.Connection, call: Call, *, rule: str, reason: str, when: datetime, what: str
    ) -> None:
        path = call.recording.path if call.recording is not None else None
        await conn.execute(
            "INSERT INTO deletions (call_id, what, path, deleted_at, rule, reason)"
            " VALUES ($1, $2, $3, $4, $5, $6)",
            call.id, what, path, aware(when, self.tz), rule, reason,
        )  # fmt: skip

    async def list_deletions(self, *, call_id: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
        """The deletion log, newest first."""
        rows = await self.pool.fetch(
            "SELECT call_id, what, path, deleted_at, rule, reason FROM deletions"
            " WHERE $1::text IS NULL OR call_id = $1 ORDER BY id DESC LIMIT $2",
            call_id,
            limit,
        )
        out = [dict(row) for row in rows]
        for item in out:
            item["deleted_at"] = item["deleted_at"].astimezone(self.tz).isoformat()
        return out


class PostgresClaim:
    """A call whose row is locked by this transaction; its writes go through the same one."""

    def __init__(self, store: PostgresStore, conn: asyncpg.Connection, call: Call) -> None:
        self.store = store
        self.conn = conn
        self.call = call

    async def save(self, call: Call) -> None:
        await self.store._save(self.conn, call)

    async def log_deletion(self, call: Call, *, rule: str, reason: str, when: datetime) -> None:
        await self.store._log_deletion(self.conn, call, rule=rule, reason=reason, when=when, what="recording")


@hookimpl
def register_stores(register: Any) -> None:
    register(
        Platform(
            kind="store",
            name="postgresql",
            schema=SCHEMA,
            factory=PostgresStore.from_config,
            description="Calls and the deletion log in PostgreSQL, shared by several nodes",
        )
    )
