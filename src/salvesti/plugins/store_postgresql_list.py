"""Listing calls fast at a million calls: the PostgreSQL store's list and search indexes.

The btree keyset indexes of the core schema (``started_at DESC, id DESC``, one per filter
column) serve the newest-first walk for most filters.  Two shapes they cannot serve:

- a tag or an extension (every agent's list) lives in its own table, so the walk must hash or
  probe it per call; migration ``call_list`` v2 adds keyset key tables (key, started_at, id)
  kept by triggers, walked in order as on SQLite;
- a word or a part of a number: ``q`` and ``number`` are substring matches, which without an
  index read every call when the term is rare.  Migration ``call_list`` v1 adds a pg_trgm GIN
  index for them:

- ``calls_columns_trgm`` (v3; v1's first try also parsed the tags out of the JSON) over the
  columns ``build_where``'s ``q`` looks at, one immutable expression, so rows written any way
  (``save_call``, COPY, another node) are indexed without a trigger, and ``call_tags_tag_trgm``
  over the tags;
- the transcripts already have their ``tsvector`` GIN index (store_postgresql_analysis.py).

As on SQLite (store_sqlite_list.py, whose :func:`search_terms` decides which substrings to ask
for) the index gives candidate calls; when there are few (a rare term) only those are
filtered and sorted, otherwise (a common term) the newest-first walk finds a page quickly.
The store's own WHERE clause is applied to every row returned, so the answer is exactly the
scan's; the shared store suite holds it to SQLite's.
"""

from __future__ import annotations

import dataclasses
import json
import re
from datetime import tzinfo
from typing import TYPE_CHECKING

from salvesti.core.call import Call
from salvesti.core.components import CallQuery
from salvesti.plugins.store_postgresql_migrations import register_migration
from salvesti.plugins.store_postgresql_query import aware, build_where, ts_query
from salvesti.plugins.store_sqlite_list import CANDIDATE_LIMIT, search_terms

if TYPE_CHECKING:
    import asyncpg

_ORDER = "ORDER BY started_at DESC, id DESC"
#: How many of the newest calls a search looks through before it asks the trigram index.
WINDOW = 1000

#: What ``q`` searches in a call's own columns, as one text; the same expression in the index
#: and in the candidate query, or PostgreSQL would not use the index.  (v1 also took the tags
#: from the JSON, which made every recheck parse the call object: 50-100 ms per common word at
#: 1 M calls; v3 indexes the tags in call_tags instead.)
SEARCH_TEXT = (
    "salvesti_call_columns(id, remote_number, line, extension, outcome, notes, source, remote_digits)"
)

register_migration(
    "call_list",
    1,
    """
    CREATE EXTENSION IF NOT EXISTS pg_trgm;
    CREATE FUNCTION salvesti_call_text(
        id TEXT, remote_number TEXT, line TEXT, extension TEXT, outcome TEXT, notes TEXT,
        source TEXT, remote_digits TEXT, data JSONB
    ) RETURNS TEXT LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
        SELECT concat_ws(' ', id, remote_number, line, extension, outcome, notes, source, remote_digits,
            (SELECT string_agg(t, ' ') FROM jsonb_array_elements_text(data -> 'tags') AS t))
    $$;
    CREATE INDEX calls_search_trgm ON calls USING gin (salvesti_call_text(
        id, remote_number, line, extension, outcome, notes, source, remote_digits, data) gin_trgm_ops);
    """,
)

# Keyset keys per tag and per extension (as on SQLite): "the newest calls of extension 117"
# walks (key, started_at, id) in order instead of hashing every call of that extension and
# filtering the newest-first walk, and "tag X and extension Y" seeks the second key per row.
# Row triggers keep them in step with whatever writes call_tags / call_extensions (COPY too);
# a call's deletion cascades to its tags and extensions and so to these.
_KEYS = """
CREATE TABLE list_{what}_keys (
    k_{what} TEXT NOT NULL, k_started TIMESTAMPTZ NOT NULL, k_call TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (k_{what}, k_started, k_call)
);
CREATE INDEX list_{what}_keys_call ON list_{what}_keys (k_call);
INSERT INTO list_{what}_keys SELECT t.{col}, c.started_at, t.call_id
    FROM {table} t JOIN calls c ON c.id = t.call_id;
CREATE FUNCTION list_{what}_keys_sync() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        DELETE FROM list_{what}_keys WHERE k_call = OLD.call_id AND k_{what} = OLD.{col};
    ELSE
        INSERT INTO list_{what}_keys SELECT NEW.{col}, started_at, NEW.call_id
            FROM calls WHERE id = NEW.call_id ON CONFLICT DO NOTHING;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER list_{what}_keys_sync AFTER INSERT OR DELETE ON {table}
    FOR EACH ROW EXECUTE FUNCTION list_{what}_keys_sync();
"""

register_migration(
    "call_list",
    2,
    _KEYS.format(what="tag", col="tag", table="call_tags")
    + _KEYS.format(what="ext", col="extension", table="call_extensions")
    + """
    CREATE FUNCTION list_keys_started() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        UPDATE list_tag_keys SET k_started = NEW.started_at WHERE k_call = NEW.id;
        UPDATE list_ext_keys SET k_started = NEW.started_at WHERE k_call = NEW.id;
        RETURN NULL;
    END $$;
    CREATE TRIGGER list_keys_started AFTER UPDATE OF started_at ON calls
        FOR EACH ROW WHEN (OLD.started_at IS DISTINCT FROM NEW.started_at)
        EXECUTE FUNCTION list_keys_started();
    """,
)


register_migration(
    "call_list",
    3,
    f"""
    CREATE FUNCTION salvesti_call_columns(
        id TEXT, remote_number TEXT, line TEXT, extension TEXT, outcome TEXT, notes TEXT,
        source TEXT, remote_digits TEXT
    ) RETURNS TEXT LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
        SELECT concat_ws(' ', id, remote_number, line, extension, outcome, notes, source, remote_digits)
    $$;
    CREATE INDEX calls_columns_trgm ON calls USING gin ({SEARCH_TEXT} gin_trgm_ops);
    CREATE INDEX call_tags_tag_trgm ON call_tags USING gin (tag gin_trgm_ops);
    DROP INDEX calls_search_trgm;
    DROP FUNCTION salvesti_call_text;
    """,
)

#: Where a search term's candidate calls come from: the call's columns, then its tags.
_CANDIDATES = (
    f"SELECT id FROM calls WHERE {SEARCH_TEXT} ILIKE $1 LIMIT $2",
    "SELECT DISTINCT call_id FROM call_tags WHERE tag ILIKE $1 LIMIT $2",
)


async def scan(pool: asyncpg.Pool, query: CallQuery, *, tz: tzinfo, default_country: str) -> list[Call]:
    """The answer from the calls table alone (newest first through its keyset indexes)."""
    where, params = build_where(query, tz=tz, default_country=default_country)
    return await _fetch(pool, where, params, query)


async def list_calls(pool: asyncpg.Pool, query: CallQuery, *, tz: tzinfo, default_country: str) -> list[Call]:
    """The same answer as :func:`scan`, through the key tables or the trigram index when they help."""
    if query.tag or query.extension:
        return await _walk_keys(pool, query, tz=tz, default_country=default_country)
    terms = search_terms(query, default_country)
    if terms:
        page = await _newest_window(pool, query, tz=tz, default_country=default_country)
        if page is not None:
            return page
        candidates: set[str] = set()
        async with pool.acquire() as conn:
            for term in terms:
                for sql in _CANDIDATES:
                    rows = await conn.fetch(sql, f"%{term}%", CANDIDATE_LIMIT + 1)
                    candidates.update(r[0] for r in rows)
                    if len(candidates) > CANDIDATE_LIMIT:
                        break
                if len(candidates) > CANDIDATE_LIMIT:
                    break
            spoken = ts_query(query.q) if query.q else None
            if spoken is not None and len(candidates) <= CANDIDATE_LIMIT:
                # The store's q also matches transcripts: their own index gives those candidates.
                rows = await conn.fetch(
                    "SELECT DISTINCT call_id FROM analysis_lines"
                    " WHERE tsv @@ to_tsquery('simple', $1) LIMIT $2",
                    spoken,
                    CANDIDATE_LIMIT + 1,
                )
                candidates.update(r["call_id"] for r in rows)
        if len(candidates) <= CANDIDATE_LIMIT:
            where, params = build_where(query, tz=tz, default_country=default_country)
            params.append(sorted(candidates))
            # The candidates first, whatever the plan: a generic plan (asyncpg prepares every
            # statement) may not know the array is short and walk every call newest first.
            source = f"(SELECT * FROM calls WHERE id = ANY(${len(params)}::text[]) OFFSET 0) AS calls"
            return await _fetch(pool, where, params, query, source=source)
    return await scan(pool, query, tz=tz, default_country=default_country)


async def _newest_window(
    pool: asyncpg.Pool, query: CallQuery, *, tz: tzinfo, default_country: str
) -> list[Call] | None:
    """A full page from the newest :data:`WINDOW` calls (after the cursor, within the dates),
    or None.  A common word fills a page there (in ~850 calls for one in 6 %) for less than
    the trigram index costs to list its candidates; a page found in the window is the answer,
    as every match outside it is older than every call in it."""
    if not query.limit or query.limit <= 0:
        return None
    where, params = build_where(query, tz=tz, default_country=default_country)
    bounds = CallQuery(since=query.since, until=query.until, cursor=query.cursor, limit=0)
    inner, inner_params = build_where(bounds, tz=tz, default_country=default_country)
    inner = re.sub(r"\$(\d+)", lambda m: f"${int(m[1]) + len(params)}", inner)
    params += inner_params
    params.append(WINDOW)
    source = f"(SELECT * FROM calls WHERE {inner} {_ORDER} LIMIT ${len(params)}) AS calls"
    page = await _fetch(pool, where, params, query, source=source)
    return page if len(page) >= query.limit else None


async def _walk_keys(pool: asyncpg.Pool, query: CallQuery, *, tz: tzinfo, default_country: str) -> list[Call]:
    """Walk one key table newest first, joining each call and applying the other filters, so
    the first ``limit`` matches end the walk; with a tag and an extension, the extension is a
    seek in its key table (no call row is read until both match)."""
    table, col, key = (
        ("list_tag_keys", "k_tag", query.tag) if query.tag else ("list_ext_keys", "k_ext", query.extension)
    )
    both = bool(query.tag and query.extension)
    rest = dataclasses.replace(
        query, cursor=None, tag=None, extension=None if (both or not query.tag) else query.extension
    )
    where, params = build_where(rest, tz=tz, default_country=default_country)

    def p(value: object) -> str:
        params.append(value)
        return f"${len(params)}"

    sql = f"SELECT calls.data FROM {table}"
    if both:
        sql += (
            f" JOIN list_ext_keys AS e ON e.k_ext = {p(query.extension)}"
            f" AND e.k_started = {table}.k_started AND e.k_call = {table}.k_call"
        )
    sql += f" JOIN calls ON calls.id = {table}.k_call WHERE {table}.{col} = {p(key)}"
    if query.cursor is not None:
        started, call_id = p(aware(query.cursor[0], tz)), p(query.cursor[1])
        sql += f" AND ({table}.k_started, {table}.k_call) < ({started}, {call_id})"
    sql += f" AND ({where}) ORDER BY {table}.k_started DESC, {table}.k_call DESC"
    if query.limit and query.limit > 0:
        sql += f" LIMIT {p(int(query.limit))}"
    return await _calls(pool, sql, params)


async def _fetch(
    pool: asyncpg.Pool, where: str, params: list[object], query: CallQuery, *, source: str = "calls"
) -> list[Call]:
    tail = _ORDER
    if query.limit and query.limit > 0:
        params.append(int(query.limit))
        tail += f" LIMIT ${len(params)}"
    return await _calls(pool, f"SELECT data FROM {source} WHERE {where} {tail}", params)


async def _calls(pool: asyncpg.Pool, sql: str, params: list[object]) -> list[Call]:
    """Run a list query planned for its own parameters: asyncpg prepares every statement, and
    after five runs PostgreSQL may keep one generic plan, which for these data-dependent
    queries (a rare word, a short candidate list) can walk every call instead of a few."""
    async with pool.acquire() as conn, conn.transaction(readonly=True):
        await conn.execute("SET LOCAL plan_cache_mode = force_custom_plan")
        rows = await conn.fetch(sql, *params)
    return [Call.from_json(json.loads(row["data"])) for row in rows]
