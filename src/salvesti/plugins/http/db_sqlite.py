"""The HTTP plugin's data in the SQLite store's file: :class:`SqliteAccounts` on one ``aiosqlite``
connection (the tables are db.py's migrations).

The server keeps one long-lived connection, a command a short one; both are in autocommit mode,
so each statement commits at once, and an audit append is one ``BEGIN IMMEDIATE`` transaction,
which serialises it against every other process writing the file.
"""

from __future__ import annotations

import asyncio
import sqlite3
from typing import Any

import aiosqlite

from salvesti.plugins.http import audit
from salvesti.plugins.http.accounts_db import USER_FIELDS, User, UserExists, VerifyResult
from salvesti.plugins.http.register_db import SqliteRegister

_USER_COLS = ("id", "name", "role", "extension", "disabled", "created_at")
_U = ", ".join(_USER_COLS)
_JOINED_U = ", ".join("u." + c for c in _USER_COLS)


def _user(row: Any) -> User:
    return User(
        row["id"], row["name"], row["role"], row["extension"], bool(row["disabled"]), row["created_at"]
    )


class SqliteAccounts:
    """:class:`~salvesti.plugins.http.accounts_db.AccountsDb` on an open autocommit connection."""

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self.conn = conn
        # one transaction at a time on this connection (coroutines share it)
        self._audit_lock = asyncio.Lock()

    def register(self) -> SqliteRegister:
        return SqliteRegister(self.conn)

    async def close(self) -> None:
        await self.conn.close()

    # -- users -------------------------------------------------------------------------------
    async def add_user(
        self, name: str, role: str, password_hash: str, extension: str | None, now: str
    ) -> User:
        try:
            cur = await self.conn.execute(
                "INSERT INTO http_users (name, role, extension, password_hash, created_at)"
                " VALUES (?, ?, ?, ?, ?)",
                (name, role, extension, password_hash, now),
            )
        except sqlite3.IntegrityError:
            raise UserExists(name) from None
        return User(int(cur.lastrowid or 0), name, role, extension, False, now)

    async def get_user(self, name: str) -> tuple[User, str] | None:
        async with self.conn.execute(
            f"SELECT {_U}, password_hash FROM http_users WHERE name = ?", (name,)
        ) as cur:
            row = await cur.fetchone()
        return (_user(row), row["password_hash"]) if row else None

    async def list_users(self) -> list[User]:
        async with self.conn.execute(f"SELECT {_U} FROM http_users ORDER BY name") as cur:
            return [_user(r) for r in await cur.fetchall()]

    async def update_user(self, name: str, fields: dict[str, Any]) -> bool:
        sets = {k: v for k, v in fields.items() if k in USER_FIELDS}
        if not sets:
            return await self.get_user(name) is not None
        cols = ", ".join(f"{k} = ?" for k in sets)
        cur = await self.conn.execute(f"UPDATE http_users SET {cols} WHERE name = ?", (*sets.values(), name))
        if "password_hash" in sets or sets.get("disabled"):
            await self.conn.execute(
                "DELETE FROM http_sessions WHERE user_id = (SELECT id FROM http_users WHERE name = ?)",
                (name,),
            )
        return cur.rowcount > 0

    async def delete_user(self, name: str) -> bool:
        cur = await self.conn.execute("DELETE FROM http_users WHERE name = ?", (name,))
        return cur.rowcount > 0

    async def count_users(self) -> int:
        async with self.conn.execute("SELECT count(*) FROM http_users") as cur:
            row = await cur.fetchone()
        return int(row[0]) if row else 0

    # -- API tokens --------------------------------------------------------------------------
    async def add_token(self, user_id: int, name: str, role: str, token_hash: str, now: str) -> int:
        cur = await self.conn.execute(
            "INSERT INTO http_tokens (user_id, name, role, token_hash, created_at) VALUES (?, ?, ?, ?, ?)",
            (user_id, name, role, token_hash, now),
        )
        return int(cur.lastrowid or 0)

    async def list_tokens(self) -> list[dict[str, Any]]:
        async with self.conn.execute(
            "SELECT t.id, u.name AS user, t.name, t.role, t.created_at, t.last_used_at, t.revoked_at "
            "FROM http_tokens t JOIN http_users u ON u.id = t.user_id ORDER BY t.id"
        ) as cur:
            return [dict(r) for r in await cur.fetchall()]

    async def revoke_token(self, token_id: int, now: str) -> bool:
        cur = await self.conn.execute(
            "UPDATE http_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", (now, token_id)
        )
        return cur.rowcount > 0

    async def touch_token(self, token_id: int, now: str) -> None:
        await self.conn.execute("UPDATE http_tokens SET last_used_at = ? WHERE id = ?", (now, token_id))

    async def user_for_token(self, token_hash: str) -> tuple[User, str, int] | None:
        async with self.conn.execute(
            f"SELECT {_JOINED_U}, t.role AS token_role, t.id AS tid "
            "FROM http_tokens t JOIN http_users u ON u.id = t.user_id "
            "WHERE t.token_hash = ? AND t.revoked_at IS NULL",
            (token_hash,),
        ) as cur:
            row = await cur.fetchone()
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
        await self.conn.execute(
            "INSERT INTO http_sessions (token_hash, user_id, csrf, created_at, expires_at, source_addr) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (token_hash, user_id, csrf, now, expires_at, source_addr),
        )

    async def user_for_session(self, token_hash: str, now_ts: float) -> tuple[User, str] | None:
        async with self.conn.execute(
            f"SELECT {_JOINED_U}, s.csrf FROM http_sessions s JOIN http_users u ON u.id = s.user_id "
            "WHERE s.token_hash = ? AND s.expires_at > ?",
            (token_hash, now_ts),
        ) as cur:
            row = await cur.fetchone()
        return (_user(row), row["csrf"]) if row else None

    async def delete_session(self, token_hash: str) -> None:
        await self.conn.execute("DELETE FROM http_sessions WHERE token_hash = ?", (token_hash,))

    async def purge_sessions(self, now_ts: float) -> None:
        await self.conn.execute("DELETE FROM http_sessions WHERE expires_at <= ?", (now_ts,))

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
        text = audit.detail_text(detail)
        async with self._audit_lock:
            await self.conn.execute("BEGIN IMMEDIATE")
            try:
                async with self.conn.execute(
                    "SELECT seq, hash FROM http_audit ORDER BY seq DESC LIMIT 1"
                ) as cur:
                    row = await cur.fetchone()
                head = (row[0], row[1]) if row else None
                seq, prev, digest = audit.link(head, at, user, action, call_id, source_addr, text)
                await self.conn.execute(
                    f"INSERT INTO http_audit ({', '.join(audit.COLUMNS)}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (seq, at, user, action, call_id, source_addr, text, prev, digest),
                )
                await self.conn.execute("COMMIT")
            except BaseException:
                await self.conn.execute("ROLLBACK")
                raise
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
        where, args = ["1"], []
        for col, val in (("call_id", call_id), ("user", user), ("action", action)):
            if val is not None:
                where.append(f"{col} = ?")
                args.append(val)
        if before is not None:
            where.append("seq < ?")
            args.append(before)
        sql = (
            "SELECT seq, at, user, action, call_id, source_addr, detail, hash FROM http_audit"
            f" WHERE {' AND '.join(where)} ORDER BY seq DESC LIMIT ?"
        )
        async with self.conn.execute(sql, [*args, limit]) as cur:
            return [audit.decode(dict(r)) for r in await cur.fetchall()]

    async def audit_verify(self) -> VerifyResult:
        async with self.conn.execute(
            f"SELECT {', '.join(audit.COLUMNS)} FROM http_audit ORDER BY seq"
        ) as cur:
            return await audit.verify_rows(cur)
