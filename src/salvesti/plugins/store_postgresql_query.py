"""From a :class:`CallQuery` to PostgreSQL, answering exactly what the SQLite store answers.

The shared store suite (tests/plugins/test_store_shared.py) holds both to the same answers.
Differences in the dialect are kept here: ``$n`` parameters, aware ``TIMESTAMPTZ`` values
instead of UTC text keys, ``ILIKE`` for SQLite's case-blind ``LIKE``, and a ``tsvector`` over
transcript lines where SQLite has FTS5 (:func:`ts_query` reads the user's text the way
``fts_query`` does).
"""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime, tzinfo
from typing import Any

from salvesti.core.components import CallQuery
from salvesti.core.numbers import normalize_number, number_search_key
from salvesti.plugins.store_sqlite_query import digits

__all__ = ["aware", "build_where", "digits", "fold", "snippet", "ts_query"]

_WORD = re.compile(r"\w+")
_PART = re.compile(r'"([^"]*)"?|(\S+)')


def fold(text: str) -> str:
    """Lower-case words without diacritics, space-separated: what a transcript line is indexed
    as, so ``tanan`` finds "Tänan" as SQLite's ``remove_diacritics`` tokenizer does."""
    bare = "".join(c for c in unicodedata.normalize("NFKD", text.lower()) if not unicodedata.combining(c))
    return " ".join(_WORD.findall(bare))


def ts_query(text: str) -> str | None:
    """The user's search text as a ``to_tsquery('simple', …)`` argument: every word must occur,
    a quoted phrase in order, ``salvest*`` as a prefix.  Only ``\\w`` words pass, each quoted,
    so no input is tsquery syntax; None when there are no words."""
    parts: list[str] = []
    for match in _PART.finditer(text or ""):
        if match.group(1) is not None:
            words = fold(match.group(1)).split()
            if words:
                parts.append("(" + " <-> ".join(f"'{w}'" for w in words) + ")")
            continue
        raw = match.group(2)
        words = fold(raw).split()
        for i, word in enumerate(words):
            star = ":*" if raw.endswith("*") and i == len(words) - 1 else ""
            parts.append(f"'{word}'{star}")
    return " & ".join(parts) if parts else None


def aware(value: datetime | str | None, tz: tzinfo) -> datetime | None:
    """An aware datetime (ISO text parsed; naive taken as ``tz`` local time), or None."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo is not None else value.replace(tzinfo=tz)


_LEXEME = re.compile(r"'(\w+)'(:\*)?")


def snippet(text: str, query: str, width: int = 16) -> str:
    """Up to ``width`` words of ``text`` around its first match of ``query`` (a :func:`ts_query`),
    every matching word between « and », "…" where words were cut: what SQLite's FTS5
    ``snippet()`` gives.  Words are compared folded, so "Tänan" is marked for ``tanan``."""
    terms = [(word, bool(star)) for word, star in _LEXEME.findall(query)]

    def hit(word: str) -> bool:
        folded = fold(word)
        return any(folded.startswith(t) if star else folded == t for t, star in terms)

    words = list(_WORD.finditer(text))
    marked = [i for i, w in enumerate(words) if hit(w.group())]
    if not words:
        return text
    first = max(0, min(marked[0] - width // 4, len(words) - width)) if marked else 0
    last = min(len(words), first + width)
    out, pos = [], words[first].start()
    for i in range(first, last):
        w = words[i]
        out.append(text[pos : w.start()])
        out.append(f"«{w.group()}»" if i in marked else w.group())
        pos = w.end()
    tail = text[pos:] if last == len(words) else ""
    return ("…" if first > 0 else "") + "".join(out) + tail + ("…" if last < len(words) else "")


def _like(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


class _Params:
    """Collects parameters and hands out their ``$n`` placeholders."""

    def __init__(self) -> None:
        self.values: list[Any] = []

    def __call__(self, value: Any) -> str:
        self.values.append(value)
        return f"${len(self.values)}"


def build_where(query: CallQuery, *, tz: tzinfo, default_country: str) -> tuple[str, list[Any]]:
    """The WHERE clause (without the keyword) and its parameters for ``query``."""
    p = _Params()
    clauses: list[str] = []
    if query.since is not None:
        clauses.append(f"started_at >= {p(aware(query.since, tz))}")
    if query.until is not None:
        clauses.append(f"started_at < {p(aware(query.until, tz))}")
    if query.direction:
        clauses.append(f"direction = {p(query.direction)}")
    if query.line:
        lines = list(dict.fromkeys([normalize_number(query.line, default_country), query.line]))
        clauses.append(f"line = ANY({p(lines)}::text[])")
    if query.number:
        key = number_search_key(query.number, default_country)
        if key:
            normal = normalize_number(query.number, default_country)
            clauses.append(f"(remote_digits LIKE {p(_like(key))} OR remote_number = {p(normal)})")
        else:
            clauses.append(f"remote_number = {p(query.number)}")
    if query.extension:
        ext = p(query.extension)
        clauses.append(
            f"(extension = {ext} OR id IN (SELECT call_id FROM call_extensions WHERE extension = {ext}))"
        )
    if query.outcome:
        clauses.append(f"outcome = {p(query.outcome)}")
    if query.tag:
        clauses.append(f"id IN (SELECT call_id FROM call_tags WHERE tag = {p(query.tag)})")
    if query.q:
        text = p(_like(query.q.strip()))
        parts = [
            f"{col} ILIKE {text}"
            for col in ("id", "remote_number", "line", "extension", "outcome", "notes", "source")
        ]
        # A scalar subquery, probed per call through call_tags' primary key: written as EXISTS,
        # PostgreSQL hashes every tag that matches first (a scan of all tags, ~170 ms at 1 M
        # calls) even when the newest-first walk needs only a few hundred calls.
        parts.append(
            f"coalesce((SELECT bool_or(t.tag ILIKE {text}) FROM call_tags t"
            " WHERE t.call_id = calls.id), FALSE)"
        )
        key = digits(query.q)
        if key and len(key) >= 3:
            parts.append(f"remote_digits LIKE {p(_like(key))}")
        spoken = ts_query(query.q)
        if spoken is not None:
            parts.append(
                "calls.id IN (SELECT call_id FROM analysis_lines"
                f" WHERE tsv @@ to_tsquery('simple', {p(spoken)}))"
            )
        clauses.append("(" + " OR ".join(parts) + ")")
    if query.flag:
        clauses.append(f"calls.id IN (SELECT call_id FROM analysis_flags WHERE flag = {p(query.flag)})")
    if query.unhealthy == "any":
        clauses.append("calls.id IN (SELECT call_id FROM call_health)")
    elif query.unhealthy:
        clauses.append(f"calls.id IN (SELECT call_id FROM call_health WHERE reason = {p(query.unhealthy)})")
    if query.cursor is not None:
        started, call_id = query.cursor
        clauses.append(f"(started_at, id) < ({p(aware(started, tz))}, {p(call_id)})")
    return (" AND ".join(clauses) or "TRUE"), p.values
