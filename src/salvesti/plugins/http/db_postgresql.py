"""The HTTP plugin's data in the PostgreSQL store's database: :class:`PostgresAccounts` on the store's pool.

Several nodes share these tables, so a user added on one logs in on all, a session made on one
is good on the others, and there is one audit chain.  The tables match the SQLite ones (db.py)
column for column; times are kept as the same ISO text (and session expiry as epoch seconds),
so the API answers with the same JSON on either store.  ``seq`` of the audit log is not a
sequence: it is part of each entry's hash and must have no gaps, so it is the last entry's plus
one, read and written under an advisory lock (see :meth:`PostgresAccounts.audit_append`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from salvesti.plugins.http import audit
from salvesti.plugins.http.accounts_db import USER_FIELDS, User, UserExists, VerifyResult
from salvesti.plugins.http.register_postgresql import PostgresRegister  # (also registers its tables)
from salvesti.plugins.store_postgresql_migrations import apply_migrations, register_migration

if TYPE_CHECKING:
    import asyncpg

NAMESPACE = "http"

#: Held for the transaction of each audit append, by every node ("slvaudit" in ASCII, folded).
AUDIT_LOCK_KEY = int.from_bytes(b"slvaudit", "big") & 0x7FFFFFFFFFFFFFFF

# Names sort bytewise (COLLATE "C"), as SQLite sorts them, so user lists come in the same order.
register_migration(
    NAMESPACE,
    1,
    """
    CREATE TABLE http_users (
        id BIGSERIAL PRIMARY KEY,
        name TEXT COLLATE "C" NOT NULL UNIQUE,
        role TEXT NOT NULL,
        extension TEXT,
        password_hash TEXT NOT NULL,
        disabled BOOLEAN NOT NULL DEFAULT FALSE,
        created_at TEXT NOT NULL
    );
    CREATE TABLE http_tokens (
        id BIGSERIAL PRIMARY KEY,
        user_id BIGINT NOT NULL REFERENCES http_users (id) ON DELETE CASCADE,
        name TEXT NOT NULL DEFAULT '',
        role TEXT NOT NULL,
        token_hash TEXT NOT NULL UNIQUE,
        created_at TEXT NOT NULL,
        last_used_at TEXT,
        revoked_at TEXT
    );
    CREATE INDEX http_tokens_user ON http_tokens (user_id);
    CREATE TABLE http_sessions (
        token_hash TEXT PRIMARY KEY,
        user_id BIGINT NOT NULL REFERENCES http_users (id) ON DELETE CASCADE,
        csrf TEXT NOT NULL,
        created_at TEXT NOT NULL,
        expires_at DOUBLE PRECISION NOT NULL,
        source_addr TEXT
    );
    CREATE INDEX http_sessions_expires ON http_sessions (expires_at);
    CREATE INDEX http_sessions_user ON http_sessions (user_id);
    CREATE TABLE http_audit (
        seq BIGINT PRIMARY KEY,
        at TEXT NOT NULL,
        "user" TEXT,
        action TEXT NOT NULL,
        call_id TEXT,
        source_addr TEXT,
        detail TEXT NOT NULL DEFAULT '{}',
        prev_hash TEXT NOT NULL,
        hash TEXT NOT NULL
    );
    CREATE INDEX http_audit_call ON http_audit (call_id, seq);
    CREATE INDEX http_audit_user ON http_audit ("user", seq);
    CREATE INDEX http_audit_action ON http_audit (action, seq);
    """,
)

_USER_COLS = "u.id, u.name, u.role, u.extension, u.disabled, u.created_at"
_AUDIT_COLS = ", ".join('"user"' if c == "user" else c for c in audit.COLUMNS)


def _user(row: Any) -> User:
    return User(row["id"], row["name"], row["role"], row["extension"], row["disabled"], row["created_at"])


def _count(status: str) -> int:
    """Rows touched, from a command status such as ``UPDATE 1``."""
    return int(status.rsplit(" ", 1)[-1])


class PostgresAccounts:
    """:class:`~salvesti.plugins.http.accounts_db.AccountsDb` on an asyncpg pool it does not own."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    @classmethod
    async def open(cls, pool: asyncpg.Pool) -> PostgresAccounts:
        """Apply pending migrations (the store's registry, under its lock) and wrap ``pool``."""
        async with pool.acquire() as conn:
            await apply_migrations(conn)
        return cls(pool)

    def register(self) -> PostgresRegister:
        return PostgresRegister(self.pool)

    async def close(self) -> None:
        """Nothing to do: the pool is the store's, closed when the store unloads."""

    # -- users -------------------------------------------------------------------------------
    async def add_user(
        self, name: str, role: str, password_hash: str, extension: str | None, now: str
    ) -> User:
        import asyncpg

        try:
            user_id = await self.pool.fetchval(
                "INSERT INTO http_users (name, role, extension, password_hash, created_at)"
                " VALUES ($1, $2, $3, $4, $5) RETURNING id",
                name, role, extension, password_hash, now,
            )  # fmt: skip
        except asyncpg.UniqueViolationError:
            raise UserExists(name) from None
        return User(int(user_id), name, role, extension, False, now)

    async def get_user(self, name: str) -> tuple[User, str] | None:
        row = await self.pool.fetchrow(
            f"SELECT {_USER_COLS}, u.password_hash FROM http_users u WHERE u.name = $1", name
        )
        return (_user(row), row["password_hash"]) if row else None

    async def list_users(self) -> list[User]:
        return [
            _user(r) for r in await self.pool.fetch(f"SELECT {_USER_COLS} FROM http_users u ORDER BY name")
        ]

    async def update_user(self, name: str, fields: dict[str, Any]) -> bool:
        sets = {k: v for k, v in fields.items() if k in USER_FIELDS}
        if "disabled" in sets:
            sets["disabled"] = bool(sets["disabled"])
        if not sets:
            return await self.get_user(name) is not None
        cols = ", ".join(f"{k} = ${i}" for i, k in enumerate(sets, start=1))
        async with self.pool.acquire() as conn, conn.transaction():
            status = await conn.execute(
                f"UPDATE http_users SET {cols} WHERE name = ${len(sets) + 1}", *sets.values(), name
            )
            if "password_hash" in sets or sets.get("disabled"):
                await conn.execute(
                    "DELETE FROM http_sessions WHERE user_id = (SELECT id FROM http_users WHERE name = $1)",
                    name,
                )
        return _count(status) > 0

    async def delete_user(self, name: str) -> bool:
        return _count(await self.pool.execute("DELETE FROM http_users WHERE name = $1", name)) > 0

    async def count_users(self) -> int:
        return int(await self.pool.fetchval("SELECT count(*) FROM http_users"))

    # -- API tokens --------------------------------------------------------------------------
    async def add_token(self, user_id: int, name: str, role: str, token_hash: str, now: str) -> int:
        token_id = await self.pool.fetchval(
            "INSERT INTO http_tokens (user_id, name, role, token_hash, created_at)"
            " VALUES ($1, $2, $3, $4, $5) RETURNING id",
            user_id, name, role, token_hash, now,
        )  # fmt: skip
        return int(token_id)

    async def list_tokens(self) -> list[dict[str, Any]]:
        rows = await self.pool.fetch(
            "SELECT t.id, u.name AS user, t.name, t.role, t.created_at, t.last_used_at, t.revoked_at "
            "FROM http_tokens t JOIN http_users u ON u.id = t.user_id ORDER BY t.id"
        )
        return [dict(r) for r in rows]

    async def revoke_token(self, token_id: int, now: str) -> bool:
        status = await self.pool.execute(
            "UPDATE http_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL", now, token_id
        )
        return _count(status) > 0

    async def touch_token(self, token_id: int, now: str) -> None:
        await self.pool.execute("UPDATE http_tokens SET last_used_at = $1 WHERE id = $2", now, token_id)

    async def user_for_token(self, token_hash: str) -> tuple[User, str, int] | None:
        row = await self.pool.fetchrow(
            f"SELECT {_USER_COLS}, t.role AS token_role, t.id AS tid "
            "FROM http_tokens t JOIN http_users u ON u.id = t.user_id "
            "WHERE t.token_hash = $1 AND t.revoked_at IS NULL",
            token_hash,
        )
        return (_user(row), row["token_role"], row["tid"]) if row else None

    # -- sessions ----------------------------------------------------------------------------
    async def add_session(
        self,
        token_hash: str,
        user_id: int,
        csrf: str,
        now: str,
        expires_at: float,
        source_addr: str | None,
    ) -> None:
        await self.pool.execute(
            "INSERT INTO http_sessions (token_hash, user_id, csrf, created_at, expires_at, source_addr)"
            " VALUES ($1, $2, $3, $4, $5, $6)",
            token_hash, user_id, csrf, now, float(expires_at), source_addr,
        )  # fmt: skip

    async def user_for_session(self, token_hash: str, now_ts: float) -> tuple[User, str] | None:
        row = await self.pool.fetchrow(
            f"SELECT {_USER_COLS}, s.csrf FROM http_sessions s JOIN http_users u ON u.id = s.user_id "
            "WHERE s.token_hash = $1 AND s.expires_at > $2",
            token_hash,
            float(now_ts),
        )
        return (_user(row), row["csrf"]) if row else None

    async def delete_session(self, token_hash: str) -> None:
        await self.pool.execute("DELETE FROM http_sessions WHERE token_hash = $1", token_hash)

    async def purge_sessions(self, now_ts: float) -> None:
        await self.pool.execute("DELETE FROM http_sessions WHERE expires_at <= $1", float(now_ts))

    # -- the audit log -----------------------------------------------------------------------
    async def audit_append(
        self,
        *,
        at: str,
        user: str | None,
        action: str,
        call_id: str | None = None,
        source_addr: str | None = None,
        detail: dict[str, Any] | None = None,
    ) -> int:
        """One transaction: the advisory lock, then the head, then the insert.

        READ COMMITTED (asked for explicitly, whatever the server's default) gives each statement
        a fresh snapshot, so the head read after the lock is granted is the entry the previous
        holder committed; the lock is released with the commit.
        """
        text = audit.detail_text(detail)
        async with self.pool.acquire() as conn, conn.transaction(isolation="read_committed"):
            await conn.execute("SELECT pg_advisory_xact_lock($1)", AUDIT_LOCK_KEY)
            row = await conn.fetchrow("SELECT seq, hash FROM http_audit ORDER BY seq DESC LIMIT 1")
            head = (int(row["seq"]), row["hash"]) if row else None
            seq, prev, digest = audit.link(head, at, user, action, call_id, source_addr, text)
            await conn.execute(
                f"INSERT INTO http_audit ({_AUDIT_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                seq, at, user, action, call_id, source_addr, text, prev, digest,
            )  # fmt: skip
        return seq

    async def audit_list(
        self,
        *,
        call_id: str | None = None,
        user: str | None = None,
        action: str | None = None,
        before: int | None = None,
        limit: int = 100,
    ) -> list[dict[str, Any]]:
        where, args = ["TRUE"], []
        for test, val in (
            ("call_id =", call_id),
            ('"user" =', user),
            ("action =", action),
            ("seq <", before),
        ):
            if val is not None:
                args.append(val)
                where.append(f"{test} ${len(args)}")
        args.append(limit)
        rows = await self.pool.fetch(
            'SELECT seq, at, "user", action, call_id, source_addr, detail, hash FROM http_audit'
            f" WHERE {' AND '.join(where)} ORDER BY seq DESC LIMIT ${len(args)}",
            *args,
        )
        return [audit.decode(dict(r)) for r in rows]

    async def audit_verify(self) -> VerifyResult:
        """The whole chain from one snapshot, read in batches, while other nodes go on appending."""
        async with self.pool.acquire() as conn, conn.transaction(isolation="repeatable_read", readonly=True):
            rows = conn.cursor(f"SELECT {_AUDIT_COLS} FROM http_audit ORDER BY seq", prefetch=1000)
            return await audit.verify_rows(rows)
