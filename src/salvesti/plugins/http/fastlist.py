"""Listing calls for the web UI fast at a million calls, on the SQLite store's own file.

The store answers every :class:`CallQuery` correctly; three shapes are slow for it at scale
because SQLite must collect and sort every match before it can return the newest 50: a tag,
an extension (what every agent's list is), and a rare word or part of a number (a full scan).
Here they use this plugin's indexes (db.py migration 2, kept in step by triggers):

- tag / extension: walk ``http_tag_keys`` / ``http_ext_keys`` (key, started_at, id) newest first,
  joining each call and applying the other filters, so the first 50 matches end the walk;
- ``q`` / ``number``: ask the trigram index for candidate calls; when there are few (a rare
  term) only those are filtered and sorted, otherwise (a common term) the store's newest-first
  scan finds 50 matches quickly anyway.

Every path applies the store's own WHERE clause (``store_sqlite_query.build_where``) to the
rows it returns, so results are exactly the store's; a test compares them on random queries.

It is SQLite only: on another store (PostgreSQL, whose own indexes serve these shapes) and
without our connection (``HttpServer.sqlite_conn`` is None there) every query is the store's
``list_calls``.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from salvesti.core.call import Call
from salvesti.core.components import CallQuery
from salvesti.core.numbers import normalize_number, number_search_key
from salvesti.plugins import store_sqlite_analysis

#: More candidates than this from the trigram index means the term is common: scan instead.
CANDIDATE_LIMIT = 2000
_ORDER = "ORDER BY started_at DESC, id DESC"
#: Numbers are looked up by their last digits: every number shares its country code's
#: trigrams ("372", "725"), and a trigram in every row makes the index read every row.
#: Any number containing the digits asked for contains their tail, so this only widens the
#: candidates, which the store's WHERE clause then narrows exactly.
DIGITS = 6


def _is_sqlite_store(store: Any) -> bool:
    try:
        from salvesti.plugins.store_sqlite import SqliteStore
    except ImportError:  # pragma: no cover - a build without the sqlite store
        return False
    return isinstance(store, SqliteStore)


async def list_calls(conn: Any, store: Any, query: CallQuery) -> list[Call]:
    """The same answer as ``store.list_calls(query)``, through an index when one helps."""
    if conn is None or not _is_sqlite_store(store):
        return list(await store.list_calls(query))
    from salvesti.plugins.store_sqlite_query import build_where, time_key

    def where(q: CallQuery) -> tuple[str, list[Any]]:
        return build_where(q, tz=store.tz, default_country=store.default_country)

    limit = query.limit if query.limit and query.limit > 0 else -1
    if query.tag or query.extension:
        # Walk one key table newest first; with both a tag and an extension, check the
        # extension by a seek in its key table (no call row is read until both match).
        table, col, key = (
            ("http_tag_keys", "k_tag", query.tag)
            if query.tag
            else ("http_ext_keys", "k_ext", query.extension)
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
                " CROSS JOIN http_ext_keys AS e ON e.k_ext = ? AND e.k_started = http_tag_keys.k_started"
                " AND e.k_call = http_tag_keys.k_call"
            )
            args.append(query.extension)
        sql += f" CROSS JOIN calls ON calls.id = {table}.k_call WHERE {table}.{col} = ?"
        args.append(key)
        if query.cursor is not None:
            sql += f" AND ({table}.k_started, {table}.k_call) < (?, ?)"
            args += [time_key(query.cursor[0], store.tz), query.cursor[1]]
        sql += f" AND ({clause}) ORDER BY {table}.k_started DESC, {table}.k_call DESC LIMIT ?"
        return _calls(await conn.execute_fetchall(sql, [*args, *params, limit]))
    terms = _search_terms(query, store.default_country)
    if terms:
        candidates: set[int] = set()
        for term in terms:
            rows = await conn.execute_fetchall(
                "SELECT rowid FROM http_search WHERE body LIKE ? LIMIT ?", (f"%{term}%", CANDIDATE_LIMIT + 1)
            )
            candidates.update(r[0] for r in rows)
            if len(candidates) > CANDIDATE_LIMIT:
                break
        if query.q and len(candidates) <= CANDIDATE_LIMIT:
            # The store's q also matches transcripts: their own index gives those candidates.
            spoken = await store_sqlite_analysis.transcript_candidates(conn, query.q, CANDIDATE_LIMIT + 1)
            candidates.update(spoken or ())
        if len(candidates) <= CANDIDATE_LIMIT:
            clause, params = where(query)
            sql = (
                "SELECT data FROM calls WHERE rowid IN (SELECT value FROM json_each(?))"
                f" AND ({clause}) {_ORDER} LIMIT ?"
            )
            return _calls(await conn.execute_fetchall(sql, [json.dumps(sorted(candidates)), *params, limit]))
    return list(await store.list_calls(query))


def _search_terms(query: CallQuery, country: str) -> list[str]:
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


def _calls(rows: Any) -> list[Call]:
    return [Call.from_json(json.loads(r[0])) for r in rows]
