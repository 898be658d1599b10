"""The cluster's side: compare each item with what the target holds under the same id, then write.

Every ``put_*`` answers one :data:`Outcome`: ``added`` (written now, or would be on a dry run),
``same`` (the target holds exactly this already: a previous, interrupted run wrote it) or
``conflict`` (the target holds something *different* under this id: nothing is written and
the engine reports it).  Each write is one transaction, so an interruption leaves an item
either wholly there or not at all.

Calls go through the store protocol (``get_call`` / ``save_call``).  Users, tokens and the
deletion log are written with SQL on the store's pool, because the accounts interface makes
new rows (new ids, ``created_at`` = now, a token live until revoked in a second statement)
where a migration must keep the old ones exactly; the tables are the HTTP plugin's and the
store's own (``db_postgresql.py``, ``store_postgresql_migrations.py``).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Literal

from salvesti.core.call import Call
from salvesti.migrate.source import DeletionRow, TokenRow, UserRow
from salvesti.plugins.http.db_postgresql import PostgresAccounts
from salvesti.plugins.store_postgresql import PostgresStore

if TYPE_CHECKING:
    import asyncpg

Outcome = Literal["added", "same", "conflict"]


class PgTarget:
    """The target cluster's PostgreSQL store (open), with the HTTP plugin's tables migrated."""

    def __init__(self, store: PostgresStore, *, dry_run: bool) -> None:
        self.store = store
        self.dry_run = dry_run

    @classmethod
    async def open(cls, store: PostgresStore, *, dry_run: bool) -> PgTarget:
        await PostgresAccounts.open(store.pool)  # the http_* tables exist even on a fresh database
        return cls(store, dry_run=dry_run)

    @property
    def pool(self) -> asyncpg.Pool:
        return self.store.pool

    # -- calls -------------------------------------------------------------------------------
    async def held_call(self, call_id: str) -> Call | None:
        return await self.store.get_call(call_id)

    async def put_call(self, call: Call, held: Call | None) -> Outcome:
        """Save ``call`` unless the target holds it (``held``, read before any upload)."""
        if held is not None:
            return "same" if held.to_json() == call.to_json() else "conflict"
        if not self.dry_run:
            await self.store.save_call(call)
        return "added"

    # -- users and tokens --------------------------------------------------------------------
    async def put_user(self, user: UserRow) -> Outcome:
        row = await self.pool.fetchrow(
            "SELECT role, extension, password_hash, disabled, created_at FROM http_users WHERE name = $1",
            user.name,
        )
        if row is not None:
            mine = (user.role, user.extension, user.password_hash, user.disabled, user.created_at)
            return "same" if tuple(row) == mine else "conflict"
        if self.dry_run:
            return "added"
        status = await self.pool.execute(
            "INSERT INTO http_users (name, role, extension, password_hash, disabled, created_at)"
            " VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (name) DO NOTHING",
            user.name, user.role, user.extension, user.password_hash, user.disabled, user.created_at,
        )  # fmt: skip
        if status.endswith(" 0"):  # added on a node between our look and our insert
            return await self.put_user(user)
        return "added"

    async def put_token(self, token: TokenRow) -> Outcome:
        """By its hash; ``last_used_at`` and ``revoked_at`` may have moved on in the cluster since."""
        row = await self.pool.fetchrow(
            "SELECT u.name AS user, t.name, t.role, t.created_at FROM http_tokens t"
            " JOIN http_users u ON u.id = t.user_id WHERE t.token_hash = $1",
            token.token_hash,
        )
        if row is not None:
            mine = (token.user, token.name, token.role, token.created_at)
            return "same" if tuple(row) == mine else "conflict"
        if self.dry_run:
            return "added"
        status = await self.pool.execute(
            "INSERT INTO http_tokens (user_id, name, role, token_hash, created_at, last_used_at, revoked_at)"
            " SELECT id, $2, $3, $4, $5, $6, $7 FROM http_users WHERE name = $1",
            token.user, token.name, token.role, token.token_hash, token.created_at,
            token.last_used_at, token.revoked_at,
        )  # fmt: skip
        return "added" if status.endswith(" 1") else "conflict"

    # -- the deletion log --------------------------------------------------------------------
    async def put_deletion(self, entry: DeletionRow) -> Outcome:
        """The same (call, what, time) is the same entry; the log has no other identity."""
        when = datetime.fromisoformat(entry.deleted_at)
        if when.tzinfo is None:
            when = when.replace(tzinfo=self.store.tz)
        row = await self.pool.fetchrow(
            "SELECT path, rule, reason FROM deletions WHERE call_id = $1 AND what = $2 AND deleted_at = $3",
            entry.call_id, entry.what, when,
        )  # fmt: skip
        if row is not None:
            return "same" if tuple(row) == (entry.path, entry.rule, entry.reason) else "conflict"
        if not self.dry_run:
            await self.pool.execute(
                "INSERT INTO deletions (call_id, what, path, deleted_at, rule, reason)"
                " VALUES ($1, $2, $3, $4, $5, $6)",
                entry.call_id, entry.what, entry.path, when, entry.rule, entry.reason,
            )  # fmt: skip
        return "added"
