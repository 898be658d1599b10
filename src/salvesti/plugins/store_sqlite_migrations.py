"""Ordered, namespaced schema migrations for the SQLite store.

Each plugin that keeps tables in the call database (the HTTP plugin's users, tokens and
audit log) registers its own migrations under its own namespace, at import time:

    from salvesti.plugins.store_sqlite import register_migration
    register_migration("http", 1, "CREATE TABLE users (...); CREATE INDEX ...;")

The store applies every pending migration when it opens, ``core`` first, then the other
namespaces alphabetically, each version in its own ``BEGIN IMMEDIATE`` transaction so that
two processes opening the same file (``run`` and ``calls list``) cannot apply one twice.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime

import aiosqlite

_MIGRATIONS: dict[str, dict[int, str]] = {}

CORE = "core"


class MigrationError(RuntimeError):
    """The database cannot be brought to the schema this code expects."""


def register_migration(namespace: str, version: int, sql: str) -> None:
    """Add migration ``version`` (1, 2, ...) of ``namespace``; the same text twice is a no-op."""
    if not namespace or not isinstance(version, int) or version < 1:
        raise ValueError("a migration needs a namespace and a version >= 1")
    versions = _MIGRATIONS.setdefault(namespace, {})
    if version in versions and versions[version] != sql:
        raise ValueError(f"migration {namespace} v{version} is already registered with other SQL")
    versions[version] = sql


def registered() -> dict[str, dict[int, str]]:
    """A copy of every registered migration, by namespace and version."""
    return {ns: dict(vs) for ns, vs in _MIGRATIONS.items()}


def split_statements(sql: str) -> list[str]:
    """Split a script into complete statements (SQLite's own tokenizer decides, so triggers work)."""
    statements: list[str] = []
    current = ""
    for piece in sql.split(";"):
        current += piece + ";"
        if sqlite3.complete_statement(current):
            if current.strip(" \t\r\n;"):
                statements.append(current.strip())
            current = ""
    if current.strip(" \t\r\n;"):
        raise ValueError(f"incomplete SQL statement in migration: {current.strip()[:60]!r}")
    return statements


async def apply_migrations(db: aiosqlite.Connection) -> list[tuple[str, int]]:
    """Apply pending migrations; return the (namespace, version) pairs applied now."""
    await db.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        " namespace TEXT NOT NULL, version INTEGER NOT NULL, applied_at TEXT NOT NULL,"
        " PRIMARY KEY (namespace, version))"
    )
    applied_now: list[tuple[str, int]] = []
    namespaces = sorted(_MIGRATIONS, key=lambda ns: (ns != CORE, ns))
    for namespace in namespaces:
        known = _MIGRATIONS[namespace]
        rows = await db.execute_fetchall(
            "SELECT MAX(version) FROM schema_migrations WHERE namespace = ?", (namespace,)
        )
        newest = next(iter(rows))[0] or 0
        if newest > max(known):
            raise MigrationError(
                f"the database has {namespace} schema v{newest}, newer than this Salvesti knows "
                f"(v{max(known)}): upgrade Salvesti or use another data_dir"
            )
        for version in sorted(known):
            if version <= newest:
                continue
            if await _apply_one(db, namespace, version, known[version]):
                applied_now.append((namespace, version))
    return applied_now


async def _apply_one(db: aiosqlite.Connection, namespace: str, version: int, sql: str) -> bool:
    await db.execute("BEGIN IMMEDIATE")
    try:
        rows = await db.execute_fetchall(
            "SELECT 1 FROM schema_migrations WHERE namespace = ? AND version = ?", (namespace, version)
        )
        if rows:  # another process applied it while we waited for the lock
            await db.execute("ROLLBACK")
            return False
        for statement in split_statements(sql):
            await db.execute(statement)
        await db.execute(
            "INSERT INTO schema_migrations (namespace, version, applied_at) VALUES (?, ?, ?)",
            (namespace, version, datetime.now(UTC).isoformat()),
        )
        await db.execute("COMMIT")
    except BaseException as err:
        await db.execute("ROLLBACK")
        if isinstance(err, sqlite3.Error):
            raise MigrationError(f"migration {namespace} v{version} failed: {err}") from err
        raise
    return True


register_migration(
    CORE,
    1,
    """
    CREATE TABLE calls (
        id TEXT PRIMARY KEY,
        source TEXT NOT NULL,
        direction TEXT NOT NULL,
        line TEXT,
        remote_number TEXT,
        remote_digits TEXT,
        extension TEXT,
        started_at TEXT NOT NULL,
        answered_at TEXT,
        ended_at TEXT,
        disposition TEXT,
        outcome TEXT,
        notes TEXT NOT NULL DEFAULT '',
        legal_hold INTEGER NOT NULL DEFAULT 0,
        delete_after TEXT,
        recording_status TEXT,
        data TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
    CREATE INDEX calls_started ON calls (started_at DESC, id DESC);
    CREATE INDEX calls_direction ON calls (direction, started_at DESC, id DESC);
    CREATE INDEX calls_line ON calls (line, started_at DESC, id DESC);
    CREATE INDEX calls_remote ON calls (remote_number, started_at DESC, id DESC);
    CREATE INDEX calls_extension ON calls (extension, started_at DESC, id DESC);
    CREATE INDEX calls_outcome ON calls (outcome, started_at DESC, id DESC);
    CREATE INDEX calls_disposition ON calls (disposition, started_at DESC, id DESC);
    CREATE INDEX calls_source ON calls (source, started_at DESC, id DESC);
    CREATE INDEX calls_legal_hold ON calls (legal_hold) WHERE legal_hold = 1;
    CREATE INDEX calls_delete_after ON calls (delete_after) WHERE delete_after IS NOT NULL;
    CREATE INDEX calls_unfinished ON calls (started_at) WHERE ended_at IS NULL;
    CREATE TABLE call_tags (
        call_id TEXT NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
        tag TEXT NOT NULL,
        PRIMARY KEY (call_id, tag)
    );
    CREATE INDEX call_tags_tag ON call_tags (tag, call_id);
    CREATE TABLE call_extensions (
        call_id TEXT NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
        extension TEXT NOT NULL,
        position INTEGER NOT NULL,
        PRIMARY KEY (call_id, extension)
    );
    CREATE INDEX call_extensions_extension ON call_extensions (extension, call_id);
    CREATE TABLE deletions (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        call_id TEXT NOT NULL,
        what TEXT NOT NULL,
        path TEXT,
        deleted_at TEXT NOT NULL,
        rule TEXT NOT NULL,
        reason TEXT NOT NULL
    );
    CREATE INDEX deletions_call ON deletions (call_id);
    CREATE INDEX deletions_deleted_at ON deletions (deleted_at);
    """,
)

# v2: what the after-call health check found (salvesti.core.health), one row per reason, so
# the call list can show only the unhealthy calls (or one kind) from an index.
register_migration(
    CORE,
    2,
    """
    CREATE TABLE call_health (
        call_id TEXT NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
        reason TEXT NOT NULL,
        PRIMARY KEY (call_id, reason)
    );
    CREATE INDEX call_health_reason ON call_health (reason, call_id);
    """,
)

# Field-level edits (store_edits.py): what a user last set on a call, laid over whole-call
# saves.  Its own namespace, so it stays additive beside other branches' core versions.
register_migration(
    "call_edits",
    1,
    """
    CREATE TABLE call_edits (
        call_id TEXT NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
        field TEXT NOT NULL,
        value TEXT NOT NULL,
        edited_at TEXT NOT NULL,
        PRIMARY KEY (call_id, field)
    ) WITHOUT ROWID;
    """,
)
