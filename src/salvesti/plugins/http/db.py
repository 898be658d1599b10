"""The HTTP plugin's own tables (users, API tokens, sessions, audit log) in the store's SQLite file.

They live beside the calls so one backup holds everything, but they belong to this plugin:
the store only runs the migrations we register.  This module is their schema and
:func:`connect`; the queries are :class:`~salvesti.plugins.http.db_sqlite.SqliteAccounts`
(the PostgreSQL counterparts are in db_postgresql.py).
"""

from __future__ import annotations

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
    # v2 once made the web UI's list indexes here; they are the store's own now
    # (store_sqlite_list.py, which drops these).  Kept as a no-op so the numbering stays.
    2: "SELECT 1;",
}

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
