"""Ordered, namespaced schema migrations for the PostgreSQL store, serialised across nodes.

Several ``salvesti run`` processes may start at the same moment on an empty database.  Each
takes one session-level advisory lock before it looks at ``schema_migrations``, so exactly one
creates the schema and the others, once they get the lock, find nothing left to do.  Each
version runs in its own transaction; a failure rolls that version back and says which.

The registry is separate from the SQLite store's (the SQL dialects differ), with the same
shape: ``register_migration(namespace, version, sql)``, ``core`` first, then the others
alphabetically.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from salvesti.plugins.store_sqlite_migrations import MigrationError

if TYPE_CHECKING:
    import asyncpg

__all__ = ["LOCK_KEY", "MigrationError", "apply_migrations", "register_migration", "registered"]

_MIGRATIONS: dict[str, dict[int, str]] = {}

CORE = "core"

#: The advisory lock key every Salvesti node takes while it migrates ("salvesti" in ASCII, folded).
LOCK_KEY = 0x73616C7665737469 & 0x7FFFFFFFFFFFFFFF


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


async def apply_migrations(conn: asyncpg.Connection) -> list[tuple[str, int]]:
    """Apply pending migrations under the advisory lock; return the (namespace, version) applied now."""
    await conn.execute("SELECT pg_advisory_lock($1)", LOCK_KEY)
    try:
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " namespace TEXT NOT NULL, version INTEGER NOT NULL, applied_at TIMESTAMPTZ NOT NULL,"
            " PRIMARY KEY (namespace, version))"
        )
        applied_now: list[tuple[str, int]] = []
        for namespace in sorted(_MIGRATIONS, key=lambda ns: (ns != CORE, ns)):
            known = _MIGRATIONS[namespace]
            newest = await conn.fetchval(
                "SELECT COALESCE(MAX(version), 0) FROM schema_migrations WHERE namespace = $1", namespace
            )
            if newest > max(known):
                raise MigrationError(
                    f"the database has {namespace} schema v{newest}, newer than this Salvesti knows "
                    f"(v{max(known)}): upgrade Salvesti or use another database"
                )
            for version in sorted(v for v in known if v > newest):
                await _apply_one(conn, namespace, version, known[version])
                applied_now.append((namespace, version))
        return applied_now
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1)", LOCK_KEY)


async def _apply_one(conn: asyncpg.Connection, namespace: str, version: int, sql: str) -> None:
    import asyncpg

    try:
        async with conn.transaction():
            await conn.execute(sql)
            await conn.execute(
                "INSERT INTO schema_migrations (namespace, version, applied_at) VALUES ($1, $2, $3)",
                namespace,
                version,
                datetime.now(UTC),
            )
    except asyncpg.PostgresError as err:
        raise MigrationError(f"migration {namespace} v{version} failed: {err}") from err


# Times are TIMESTAMPTZ; ids sort bytewise (COLLATE "C") so keyset order equals SQLite's.
register_migration(
    CORE,
    1,
    """
    CREATE TABLE calls (
        id TEXT COLLATE "C" PRIMARY KEY,
        source TEXT NOT NULL,
        direction TEXT NOT NULL,
        line TEXT,
        remote_number TEXT,
        remote_digits TEXT,
        extension TEXT,
        started_at TIMESTAMPTZ NOT NULL,
        answered_at TIMESTAMPTZ,
        ended_at TIMESTAMPTZ,
        disposition TEXT,
        outcome TEXT,
        notes TEXT NOT NULL DEFAULT '',
        legal_hold BOOLEAN NOT NULL DEFAULT FALSE,
        delete_after TIMESTAMPTZ,
        recording_status TEXT,
        data JSONB NOT NULL,
        updated_at TIMESTAMPTZ NOT NULL
    );
    CREATE INDEX calls_started ON calls (started_at DESC, id DESC);
    CREATE INDEX calls_direction ON calls (direction, started_at DESC, id DESC);
    CREATE INDEX calls_line ON calls (line, started_at DESC, id DESC);
    CREATE INDEX calls_remote ON calls (remote_number, started_at DESC, id DESC);
    CREATE INDEX calls_extension ON calls (extension, started_at DESC, id DESC);
    CREATE INDEX calls_outcome ON calls (outcome, started_at DESC, id DESC);
    CREATE INDEX calls_disposition ON calls (disposition, started_at DESC, id DESC);
    CREATE INDEX calls_source ON calls (source, started_at DESC, id DESC);
    CREATE INDEX calls_legal_hold ON calls (legal_hold) WHERE legal_hold;
    CREATE INDEX calls_delete_after ON calls (delete_after) WHERE delete_after IS NOT NULL;
    CREATE INDEX calls_unfinished ON calls (started_at) WHERE ended_at IS NULL;
    CREATE TABLE call_tags (
        call_id TEXT COLLATE "C" NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
        tag TEXT NOT NULL,
        PRIMARY KEY (call_id, tag)
    );
    CREATE INDEX call_tags_tag ON call_tags (tag, call_id);
    CREATE TABLE call_extensions (
        call_id TEXT COLLATE "C" NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
        extension TEXT NOT NULL,
        position INTEGER NOT NULL,
        PRIMARY KEY (call_id, extension)
    );
    CREATE INDEX call_extensions_extension ON call_extensions (extension, call_id);
    CREATE TABLE call_health (
        call_id TEXT COLLATE "C" NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
        reason TEXT NOT NULL,
        PRIMARY KEY (call_id, reason)
    );
    CREATE INDEX call_health_reason ON call_health (reason, call_id);
    CREATE TABLE deletions (
        id BIGSERIAL PRIMARY KEY,
        call_id TEXT NOT NULL,
        what TEXT NOT NULL,
        path TEXT,
        deleted_at TIMESTAMPTZ NOT NULL,
        rule TEXT NOT NULL,
        reason TEXT NOT NULL
    );
    CREATE INDEX deletions_call ON deletions (call_id);
    CREATE INDEX deletions_deleted_at ON deletions (deleted_at);
    """,
)

# Field-level edits (store_edits.py): what a user last set on a call, laid over whole-call
# saves from the node that records it.  Its own namespace, so it stays additive.
register_migration(
    "call_edits",
    1,
    """
    CREATE TABLE call_edits (
        call_id TEXT COLLATE "C" NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
        field TEXT NOT NULL,
        value JSONB NOT NULL,
        edited_at TIMESTAMPTZ NOT NULL,
        PRIMARY KEY (call_id, field)
    );
    """,
)
