"""Listing calls fast at a million calls: the SQLite store's list and search indexes.

``build_where`` answers every :class:`CallQuery` correctly; three shapes are slow for SQLite
at scale because it must collect and sort every match before it can return the newest 50: a
tag, an extension (what every agent's list is), and a rare word or part of a number (a full
scan).  The indexes made here (migration ``call_list`` v1, kept in step by triggers) serve them:

- tag / extension: walk ``list_tag_keys`` / ``list_ext_keys`` (key, started_at, id) newest first,
  joining each call and applying the other filters, so the first 50 matches end the walk;
- ``q`` / ``number``: ask the trigram index (FTS5 ``trigram``) for candidate calls; when there
  are few (a rare term) only those are filtered and sorted, otherwise (a common term) the
  newest-first scan finds 50 matches quickly anyway.

Every path applies the store's own WHERE clause to the rows it returns, so the answer is
exactly the scan's; a test compares them on random queries, and the shared store suite holds
it to PostgreSQL's (store_postgresql_list.py).  The indexes were the http plugin's once
(``http_*`` tables); this migration drops those.
"""

from __future__ import annotations

import dataclasses
import json
from datetime import tzinfo
from typing import Any

import aiosqlite

from salvesti.core.call import Call
from salvesti.core.components import CallQuery
from salvesti.core.numbers import normalize_number, number_search_key
from salvesti.plugins import store_sqlite_analysis
from salvesti.plugins.store_sqlite_migrations import register_migration
from salvesti.plugins.store_sqlite_query import build_where, time_key

#: More candidates than this from the trigram index means the term is common: scan instead.
CANDIDATE_LIMIT = 2000
_ORDER = "ORDER BY started_at DESC, id DESC"
#: Numbers are looked up by their last digits: every number shares its country code's
#: trigrams ("372", "725"), and a trigram in every row makes the index read every row.
#: Any number containing the digits asked for contains their tail, so this only widens the
#: candidates, which the store's WHERE clause then narrows exactly.
DIGITS = 6


async def scan(db: aiosqlite.Connection, query: CallQuery, *, tz: tzinfo, default_country: str) -> list[Call]:
    """The answer from the calls table alone (newest first through its keyset index)."""
    clause, params = build_where(query, tz=tz, default_country=default_country)
    sql = f"SELECT data FROM calls WHERE {clause} {_ORDER} LIMIT ?"
    return _calls(await db.execute_fetchall(sql, [*params, _limit(query)]))


async def list_calls(
    db: aiosqlite.Connection, query: CallQuery, *, tz: tzinfo, default_country: str
) -> list[Call]:
    """The same answer as :func:`scan`, through an index when one helps."""
    def where(q: CallQuery) -> tuple[str, list[Any]]:
        return build_where(q, tz=tz, default_country=default_country)

    limit = _limit(query)
    if query.tag or query.extension:
        # Walk one key table newest first; with both a tag and an extension, check the
        # extension by a seek in its key table (no call row is read until both match).
        table, col, key = (
            ("list_tag_keys", "k_tag", query.tag)
            if query.tag
            else ("list_ext_keys", "k_ext", query.extension)
        )
        both = bool(query.tag and query.extension)
        rest = dataclasses.replace(
            query,
            cursor=None,
            tag=None,
            extension=None if (both or not query.tag) else query.extension,
        )
        clause, params = where(rest)
        sql = f"SELECT calls.data FROM {table}"
        args: list[Any] = []
        if both:
            sql += (
                " CROSS JOIN list_ext_keys AS e ON e.k_ext = ? AND e.k_started = list_tag_keys.k_started"
                " AND e.k_call = list_tag_keys.k_call"
            )
            args.append(query.extension)
        sql += f" CROSS JOIN calls ON calls.id = {table}.k_call WHERE {table}.{col} = ?"
        args.append(key)
        if query.cursor is not None:
            sql += f" AND ({table}.k_started, {table}.k_call) < (?, ?)"
            args += [time_key(query.cursor[0], tz), query.cursor[1]]
        sql += f" AND ({clause}) ORDER BY {table}.k_started DESC, {table}.k_call DESC LIMIT ?"
        return _calls(await db.execute_fetchall(sql, [*args, *params, limit]))
    terms = search_terms(query, default_country)
    if terms:
        candidates: set[int] = set()
        for term in terms:
            rows = await db.execute_fetchall(
                "SELECT rowid FROM list_search WHERE body LIKE ? LIMIT ?", (f"%{term}%", CANDIDATE_LIMIT + 1)
            )
            candidates.update(r[0] for r in rows)
            if len(candidates) > CANDIDATE_LIMIT:
                break
        if query.q and len(candidates) <= CANDIDATE_LIMIT:
            # The store's q also matches transcripts: their own index gives those candidates.
            spoken = await store_sqlite_analysis.transcript_candidates(db, query.q, CANDIDATE_LIMIT + 1)
            candidates.update(spoken or ())
        if len(candidates) <= CANDIDATE_LIMIT:
            clause, params = where(query)
            sql = (
                "SELECT data FROM calls WHERE rowid IN (SELECT value FROM json_each(?))"
                f" AND ({clause}) {_ORDER} LIMIT ?"
            )
            return _calls(await db.execute_fetchall(sql, [json.dumps(sorted(candidates)), *params, limit]))
    return await scan(db, query, tz=tz, default_country=default_country)


def search_terms(query: CallQuery, country: str) -> list[str]:
    """Substrings such that every call the store would match contains one of them in its
    indexed text (mirrors ``build_where``); empty when the index cannot answer: a term shorter
    than a trigram, or one with LIKE wildcards."""
    terms: list[str] = []
    if query.number:
        key = number_search_key(query.number, country)
        if key:  # the store: remote_digits LIKE %key% OR remote_number = normal
            terms += [key[-DIGITS:], digits_of(normalize_number(query.number, country) or "")[-DIGITS:]]
        else:  # the store: remote_number = the text as given
            terms.append(query.number)
    elif query.q:
        text = query.q.strip()
        terms.append(_window(text))
        key = digits_of(text)
        if key and len(key) >= 3:  # the store also matches these digits in the number
            terms.append(key[-DIGITS:])
    terms = list(dict.fromkeys(terms))
    if any(len(t) < 3 or any(c in t for c in "%_\\") for t in terms):
        return []
    return terms


def _window(text: str, size: int = 6) -> str:
    """The part of a long term the index narrows best: the ``size``-character window with the
    most distinct characters (``0000181cd`` -> ``0181cd``: runs like ``000`` are in every call
    id).  Any call containing the term contains the window, so this only widens candidates."""
    if len(text) <= size:
        return text
    windows = [text[i : i + size] for i in range(len(text) - size + 1)]
    return max(reversed(windows), key=lambda w: len(set(w.lower())))


def digits_of(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())


def _limit(query: CallQuery) -> int:
    return query.limit if query.limit and query.limit > 0 else -1


def _calls(rows: Any) -> list[Call]:
    return [Call.from_json(json.loads(r[0])) for r in rows]


#: The searchable text of a call (what ``build_where``'s ``q`` looks at), for ``list_search``.
_SEARCH_COLUMNS = ("id", "remote_number", "line", "extension", "outcome", "notes", "source", "remote_digits")


def search_text_sql(row: str = "") -> str:
    """SQL for the text indexed for a call row (``row`` is ``"new."`` inside a trigger)."""
    parts = [f"coalesce({row}{col}, '')" for col in _SEARCH_COLUMNS]
    parts.append(f"coalesce((SELECT group_concat(value, ' ') FROM json_each({row}data, '$.tags')), '')")
    return " || ' ' || ".join(parts)


# Keyset keys per tag and per extension, so "newest calls with tag X" walks an index in order
# instead of sorting every tagged call, and a trigram index over the searchable text so a rare
# word or a part of a number does not scan every call.  Triggers keep them in step with
# whatever writes the calls.  The http plugin's older copies (its migration v2) are dropped.
_MIGRATION = """
DROP TRIGGER IF EXISTS http_tag_keys_ins;
DROP TRIGGER IF EXISTS http_tag_keys_del;
DROP TRIGGER IF EXISTS http_ext_keys_ins;
DROP TRIGGER IF EXISTS http_ext_keys_del;
DROP TRIGGER IF EXISTS http_keys_started;
DROP TRIGGER IF EXISTS http_search_ins;
DROP TRIGGER IF EXISTS http_search_upd;
DROP TRIGGER IF EXISTS http_search_del;
DROP TABLE IF EXISTS http_tag_keys;
DROP TABLE IF EXISTS http_ext_keys;
DROP TABLE IF EXISTS http_search;
CREATE TABLE list_tag_keys (
    k_tag TEXT NOT NULL, k_started TEXT NOT NULL, k_call TEXT NOT NULL,
    PRIMARY KEY (k_tag, k_started, k_call)
) WITHOUT ROWID;
CREATE INDEX list_tag_keys_call ON list_tag_keys(k_call);
CREATE TABLE list_ext_keys (
    k_ext TEXT NOT NULL, k_started TEXT NOT NULL, k_call TEXT NOT NULL,
    PRIMARY KEY (k_ext, k_started, k_call)
) WITHOUT ROWID;
CREATE INDEX list_ext_keys_call ON list_ext_keys(k_call);
INSERT INTO list_tag_keys SELECT t.tag, c.started_at, t.call_id
    FROM call_tags t JOIN calls c ON c.id = t.call_id;
INSERT INTO list_ext_keys SELECT e.extension, c.started_at, e.call_id
    FROM call_extensions e JOIN calls c ON c.id = e.call_id;
CREATE TRIGGER list_tag_keys_ins AFTER INSERT ON call_tags BEGIN
    INSERT OR IGNORE INTO list_tag_keys SELECT new.tag, started_at, new.call_id
        FROM calls WHERE id = new.call_id;
END;
CREATE TRIGGER list_tag_keys_del AFTER DELETE ON call_tags BEGIN
    DELETE FROM list_tag_keys WHERE k_call = old.call_id AND k_tag = old.tag;
END;
CREATE TRIGGER list_ext_keys_ins AFTER INSERT ON call_extensions BEGIN
    INSERT OR IGNORE INTO list_ext_keys SELECT new.extension, started_at, new.call_id
        FROM calls WHERE id = new.call_id;
END;
CREATE TRIGGER list_ext_keys_del AFTER DELETE ON call_extensions BEGIN
    DELETE FROM list_ext_keys WHERE k_call = old.call_id AND k_ext = old.extension;
END;
CREATE TRIGGER list_keys_started AFTER UPDATE OF started_at ON calls BEGIN
    UPDATE list_tag_keys SET k_started = new.started_at WHERE k_call = new.id;
    UPDATE list_ext_keys SET k_started = new.started_at WHERE k_call = new.id;
END;
CREATE VIRTUAL TABLE list_search USING fts5(body, tokenize = 'trigram');
INSERT INTO list_search (rowid, body) SELECT rowid, {ALL} FROM calls;
CREATE TRIGGER list_search_ins AFTER INSERT ON calls BEGIN
    INSERT INTO list_search (rowid, body) VALUES (new.rowid, {NEW});
END;
CREATE TRIGGER list_search_upd AFTER UPDATE ON calls BEGIN
    DELETE FROM list_search WHERE rowid = old.rowid;
    INSERT INTO list_search (rowid, body) VALUES (new.rowid, {NEW});
END;
CREATE TRIGGER list_search_del AFTER DELETE ON calls BEGIN
    DELETE FROM list_search WHERE rowid = old.rowid;
END;
"""

register_migration(
    "call_list", 1, _MIGRATION.replace("{ALL}", search_text_sql()).replace("{NEW}", search_text_sql("new."))
)
