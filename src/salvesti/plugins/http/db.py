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
