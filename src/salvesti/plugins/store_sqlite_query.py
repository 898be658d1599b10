"""From a :class:`CallQuery` to SQL, and the time keys that make text columns sort by time.

Times are stored as fixed-width UTC text (``2026-11-29T08:15:00.000000Z``) so that string
order is time order and the keyset index ``(started_at DESC, id DESC)`` serves paging.
"""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from typing import Any

from salvesti.core.components import CallQuery
from salvesti.core.numbers import normalize_number, number_search_key
from salvesti.plugins.store_sqlite_analysis import TRANSCRIPT_MATCH_SQL, fts_query


def time_key(value: datetime | str | None, tz: tzinfo = UTC) -> str | None:
    """Sortable UTC text for an aware datetime (naive ones are taken as ``tz`` local time)."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=tz)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def digits(number: str | None) -> str | None:
    """The digits of a number, for suffix/substring search ('+372 555 1234' → '3725551234')."""
    if not number:
        return None
    only = "".join(ch for ch in number if ch.isdigit())
    return only or None


def _like(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def build_where(query: CallQuery, *, tz: tzinfo, default_country: str) -> tuple[str, list[Any]]:
    """The WHERE clause (without the keyword) and its parameters for ``query``."""
    clauses: list[str] = []
    params: list[Any] = []
    if query.since is not None:
        clauses.append("started_at >= ?")
        params.append(time_key(query.since, tz))
    if query.until is not None:
        clauses.append("started_at < ?")
        params.append(time_key(query.until, tz))
    if query.direction:
        clauses.append("direction = ?")
        params.append(query.direction)
    if query.line:
        lines = list(dict.fromkeys([normalize_number(query.line, default_country), query.line]))
        clauses.append("line = ?" if len(lines) == 1 else "line IN (?, ?)")
        params += lines
    if query.number:
        key = number_search_key(query.number, default_country)
        normal = normalize_number(query.number, default_country)
        if key:
            clauses.append("(remote_digits LIKE ? ESCAPE '\\' OR remote_number = ?)")
            params += [_like(key), normal]
        else:
            clauses.append("remote_number = ?")
            params.append(query.number)
    if query.extension:
        clauses.append("(extension = ? OR id IN (SELECT call_id FROM call_extensions WHERE extension = ?))")
        params += [query.extension, query.extension]
    if query.outcome:
        clauses.append("outcome = ?")
        params.append(query.outcome)
    if query.tag:
        clauses.append("id IN (SELECT call_id FROM call_tags WHERE tag = ?)")
        params.append(query.tag)
    if query.q:
        text = _like(query.q.strip())
        parts = [
            f"{col} LIKE ? ESCAPE '\\'"
            for col in ("id", "remote_number", "line", "extension", "outcome", "notes", "source")
        ]
        parts.append(
            "EXISTS (SELECT 1 FROM call_tags t WHERE t.call_id = calls.id AND t.tag LIKE ? ESCAPE '\\')"
        )
        params += [text] * len(parts)
        key = digits(query.q)
        if key and len(key) >= 3:
            parts.append("remote_digits LIKE ? ESCAPE '\\'")
            params.append(_like(key))
        fts = fts_query(query.q)
        if fts is not None:  # what was said in the call (analysed calls' transcripts)
            parts.append(TRANSCRIPT_MATCH_SQL)
            params.append(fts)
        clauses.append("(" + " OR ".join(parts) + ")")
    if query.flag:
        clauses.append("calls.id IN (SELECT call_id FROM analysis_flags WHERE flag = ?)")
        params.append(query.flag)
    if query.unhealthy == "any":
        clauses.append("calls.id IN (SELECT call_id FROM call_health)")
    elif query.unhealthy:
        clauses.append("calls.id IN (SELECT call_id FROM call_health WHERE reason = ?)")
        params.append(query.unhealthy)
    if query.cursor is not None:
        started, call_id = query.cursor
        clauses.append("(started_at, id) < (?, ?)")
        params += [time_key(started, tz), call_id]
    return (" AND ".join(clauses) or "1"), params
