"""The HTTP plugin's own tables (users, API tokens, sessions, audit log) in the store's SQLite file.

They live beside the calls so one backup holds everything, but they belong to this plugin:
the store only runs the migrations we register.  Every function takes an open
``aiosqlite`` connection, so the server (one long-lived connection) and the CLI (a short one)
share the same code.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import aiosqlite

from salvesti.plugins.store_sqlite_migrations import apply_migrations, register_migration

#: Our migration namespace in the store's migration mechanism; versions are applied once, in order.
NAMESPACE = "http"
MIGRATIONS: dict[int, str] = {
    1: """
    CREATE TABLE http_users (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        role TEXT NOT NULL,
        extension TEXT,
        password_hash TEXT NOT NULL,
        disabled INTEGER NOT NULL DEFAULT 0,
        created_at TEXT NOT NULL
    );
    CREATE TABLE http_tokens (
        id INTEGER PRIMARY KEY,
        user_id INTEGER NOT NULL REFERENCES http_users(id) ON DELETE CASCADE,
        name TEXT NOT NULL DEFAULT '',
        role TEXT NOT NULL,
        token_hash TEXT NOT NULL UNIQUE,
        created_at TEXT NOT NULL,
        last_used_at TEXT,
        revoked_at TEXT
    );
    CREATE TABLE http_sessions (
        token_hash TEXT PRIMARY KEY,
        user_id INTEGER NOT NULL REFERENCES http_users(id) ON DELETE CASCADE,
        csrf TEXT NOT NULL,
        created_at TEXT NOT NULL,
        expires_at REAL NOT NULL,
        source_addr TEXT
    );
    CREATE INDEX http_sessions_expires ON http_sessions(expires_at);
    CREATE TABLE http_audit (
        seq INTEGER PRIMARY KEY,
        at TEXT NOT NULL,
        user TEXT,
        action TEXT NOT NULL,
        call_id TEXT,
        source_addr TEXT,
        detail TEXT NOT NULL DEFAULT '{}',
        prev_hash TEXT NOT NULL,
        hash TEXT NOT NULL
    );
    CREATE INDEX http_audit_call ON http_audit(call_id, seq);
    CREATE INDEX http_audit_user ON http_audit(user, seq);
    CREATE INDEX http_audit_action ON http_audit(action, seq);
    """,
    # v2: list indexes for the web UI (see fastlist.py).  Keyset keys per tag and per extension,
    # so "newest calls with tag X" walks an index in order instead of sorting every tagged
    # call, and a trigram index over the searchable text so a rare word or a part of a number
    # does not scan every call.  Triggers keep them in step with whatever writes the store.
    2: """
    CREATE TABLE http_tag_keys (
        k_tag TEXT NOT NULL, k_started TEXT NOT NULL, k_call TEXT NOT NULL,
        PRIMARY KEY (k_tag, k_started, k_call)
    ) WITHOUT ROWID;
    CREATE INDEX http_tag_keys_call ON http_tag_keys(k_call);
    CREATE TABLE http_ext_keys (
        k_ext TEXT NOT NULL, k_started TEXT NOT NULL, k_call TEXT NOT NULL,
        PRIMARY KEY (k_ext, k_started, k_call)
    ) WITHOUT ROWID;
    CREATE INDEX http_ext_keys_call ON http_ext_keys(k_call);
    INSERT INTO http_tag_keys SELECT t.tag, c.started_at, t.call_id
        FROM call_tags t JOIN calls c ON c.id = t.call_id;
    INSERT INTO http_ext_keys SELECT e.extension, c.started_at, e.call_id
        FROM call_extensions e JOIN calls c ON c.id = e.call_id;
    CREATE TRIGGER http_tag_keys_ins AFTER INSERT ON call_tags BEGIN
        INSERT OR IGNORE INTO http_tag_keys SELECT new.tag, started_at, new.call_id
            FROM calls WHERE id = new.call_id;
    END;
    CREATE TRIGGER http_tag_keys_del AFTER DELETE ON call_tags BEGIN
        DELETE FROM http_tag_keys WHERE k_call = old.call_id AND k_tag = old.tag;
    END;
    CREATE TRIGGER http_ext_keys_ins AFTER INSERT ON call_extensions BEGIN
        INSERT OR IGNORE INTO http_ext_keys SELECT new.extension, started_at, new.call_id
            FROM calls WHERE id = new.call_id;
    END;
    CREATE TRIGGER http_ext_keys_del AFTER DELETE ON call_extensions BEGIN
        DELETE FROM http_ext_keys WHERE k_call = old.call_id AND k_ext = old.extension;
    END;
    CREATE TRIGGER http_keys_started AFTER UPDATE OF started_at ON calls BEGIN
        UPDATE http_tag_keys SET k_started = new.started_at WHERE k_call = new.id;
        UPDATE http_ext_keys SET k_started = new.started_at WHERE k_call = new.id;
    END;
    CREATE VIRTUAL TABLE http_search USING fts5(body, tokenize = 'trigram');
    INSERT INTO http_search (rowid, body) SELECT rowid, {ALL} FROM calls;
    CREATE TRIGGER http_search_ins AFTER INSERT ON calls BEGIN
        INSERT INTO http_search (rowid, body) VALUES (new.rowid, {NEW});
    END;
    CREATE TRIGGER http_search_upd AFTER UPDATE ON calls BEGIN
        DELETE FROM http_search WHERE rowid = old.rowid;
        INSERT INTO http_search (rowid, body) VALUES (new.rowid, {NEW});
    END;
    CREATE TRIGGER http_search_del AFTER DELETE ON calls BEGIN
        DELETE FROM http_search WHERE rowid = old.rowid;
    END;
    """,
}

#: The searchable text of a call (what the store's ``q`` filter looks at), for ``http_search``.
_SEARCH_COLUMNS = ("id", "remote_number", "line", "extension", "outcome", "notes", "source", "remote_digits")


def search_text_sql(row: str = "") -> str:
    """SQL for the text indexed for a call row (``row`` is ``"new."`` inside a trigger)."""
    parts = [f"coalesce({row}{col}, '')" for col in _SEARCH_COLUMNS]
    parts.append(f"coalesce((SELECT group_concat(value, ' ') FROM json_each({row}data, '$.tags')), '')")
    return " || ' ' || ".join(parts)


MIGRATIONS[2] = MIGRATIONS[2].replace("{ALL}", search_text_sql()).replace("{NEW}", search_text_sql("new."))

for _version, _sql in MIGRATIONS.items():
    register_migration(NAMESPACE, _version, _sql)


async def connect(path: str) -> aiosqlite.Connection:
    """Open the shared SQLite file the way the store does (WAL, foreign keys, busy wait).

    Pending migrations (the store's and ours) are applied, so the CLI works on a fresh file too.
    """
    conn = await aiosqlite.connect(path, isolation_level=None)
    conn.row_factory = aiosqlite.Row
    await conn.execute("PRAGMA journal_mode=WAL")
    await conn.execute("PRAGMA foreign_keys=ON")
    await conn.execute("PRAGMA busy_timeout=5000")
    await conn.execute("PRAGMA synchronous=NORMAL")
    await apply_migrations(conn)
    return conn


# -- users --------------------------------------------------------------------------------------
@dataclass
class User:
    id: int
    name: str
    role: str
    extension: str | None
    disabled: bool
    created_at: str

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "role": self.role,
            "extension": self.extension,
            "disabled": self.disabled,
            "created_at": self.created_at,
        }


def _user(row: Any) -> User:
    return User(
        row["id"], row["name"], row["role"], row["extension"], bool(row["disabled"]), row["created_at"]
    )


_USER_COLS = "id, name, role, extension, disabled, created_at"


async def add_user(
    conn: aiosqlite.Connection, name: str, role: str, password_hash: str, extension: str | None, now: str
) -> User:
    cur = await conn.execute(
        "INSERT INTO http_users (name, role, extension, password_hash, created_at) VALUES (?, ?, ?, ?, ?)",
        (name, role, extension, password_hash, now),
    )
    return User(int(cur.lastrowid or 0), name, role, extension, False, now)


async def get_user(conn: aiosqlite.Connection, name: str) -> tuple[User, str] | None:
    """The user and their password hash, or None."""
    async with conn.execute(
        f"SELECT {_USER_COLS}, password_hash FROM http_users WHERE name = ?", (name,)
    ) as cur:
        row = await cur.fetchone()
    return (_user(row), row["password_hash"]) if row else None


async def list_users(conn: aiosqlite.Connection) -> list[User]:
    async with conn.execute(f"SELECT {_USER_COLS} FROM http_users ORDER BY name") as cur:
        return [_user(r) for r in await cur.fetchall()]


async def update_user(conn: aiosqlite.Connection, name: str, fields: dict[str, Any]) -> bool:
    allowed = {"role", "extension", "password_hash", "disabled"}
    sets = {k: v for k, v in fields.items() if k in allowed}
    if not sets:
        return True
    cols = ", ".join(f"{k} = ?" for k in sets)
    cur = await conn.execute(f"UPDATE http_users SET {cols} WHERE name = ?", (*sets.values(), name))
    if "password_hash" in sets or sets.get("disabled"):
        await conn.execute(
            "DELETE FROM http_sessions WHERE user_id = (SELECT id FROM http_users WHERE name = ?)", (name,)
        )
    return cur.rowcount > 0


async def delete_user(conn: aiosqlite.Connection, name: str) -> bool:
    cur = await conn.execute("DELETE FROM http_users WHERE name = ?", (name,))
    return cur.rowcount > 0


async def count_users(conn: aiosqlite.Connection) -> int:
    async with conn.execute("SELECT count(*) FROM http_users") as cur:
        row = await cur.fetchone()
    return int(row[0]) if row else 0


# -- API tokens ---------------------------------------------------------------------------------
async def add_token(
    conn: aiosqlite.Connection, user_id: int, name: str, role: str, token_hash: str, now: str
) -> int:
    cur = await conn.execute(
        "INSERT INTO http_tokens (user_id, name, role, token_hash, created_at) VALUES (?, ?, ?, ?, ?)",
        (user_id, name, role, token_hash, now),
    )
    return int(cur.lastrowid or 0)


async def user_for_token(conn: aiosqlite.Connection, token_hash: str) -> tuple[User, str, int] | None:
    """The token's user, the token's own role ceiling and the token id (live tokens only)."""
    async with conn.execute(
        f"SELECT {', '.join('u.' + c for c in _USER_COLS.split(', '))}, t.role AS token_role, t.id AS tid "
        "FROM http_tokens t JOIN http_users u ON u.id = t.user_id "
        "WHERE t.token_hash = ? AND t.revoked_at IS NULL",
        (token_hash,),
    ) as cur:
        row = await cur.fetchone()
    return (_user(row), row["token_role"], row["tid"]) if row else None


async def touch_token(conn: aiosqlite.Connection, token_id: int, now: str) -> None:
    await conn.execute("UPDATE http_tokens SET last_used_at = ? WHERE id = ?", (now, token_id))


async def list_tokens(conn: aiosqlite.Connection) -> list[dict[str, Any]]:
    async with conn.execute(
        "SELECT t.id, u.name AS user, t.name, t.role, t.created_at, t.last_used_at, t.revoked_at "
        "FROM http_tokens t JOIN http_users u ON u.id = t.user_id ORDER BY t.id"
    ) as cur:
        return [dict(r) for r in await cur.fetchall()]


async def revoke_token(conn: aiosqlite.Connection, token_id: int, now: str) -> bool:
    cur = await conn.execute(
        "UPDATE http_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", (now, token_id)
    )
    return cur.rowcount > 0


# -- sessions -----------------------------------------------------------------------------------
async def add_session(
    conn: aiosqlite.Connection,
    token_hash: str,
    user_id: int,
    csrf: str,
    now: str,
    expires_at: float,
    source_addr: str | None,
) -> None:
    await conn.execute(
        "INSERT INTO http_sessions (token_hash, user_id, csrf, created_at, expires_at, source_addr) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        (token_hash, user_id, csrf, now, expires_at, source_addr),
    )


async def user_for_session(
    conn: aiosqlite.Connection, token_hash: str, now_ts: float
) -> tuple[User, str] | None:
    """The session's user and its CSRF token, when the session exists and has not expired."""
    async with conn.execute(
        f"SELECT {', '.join('u.' + c for c in _USER_COLS.split(', '))}, s.csrf "
        "FROM http_sessions s JOIN http_users u ON u.id = s.user_id "
        "WHERE s.token_hash = ? AND s.expires_at > ?",
        (token_hash, now_ts),
    ) as cur:
        row = await cur.fetchone()
    return (_user(row), row["csrf"]) if row else None


async def delete_session(conn: aiosqlite.Connection, token_hash: str) -> None:
    await conn.execute("DELETE FROM http_sessions WHERE token_hash = ?", (token_hash,))


async def purge_sessions(conn: aiosqlite.Connection, now_ts: float) -> None:
    await conn.execute("DELETE FROM http_sessions WHERE expires_at <= ?", (now_ts,))
