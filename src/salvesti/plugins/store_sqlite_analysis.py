"""The SQLite store's analysis tables: the job queue, results, transcript lines and their index.

They belong to the store (not to the analysis plugin) because the store answers ``q`` on the
calls list, and a transcript is part of what ``q`` matches; and because whatever happens to a
recording must happen to what was derived from it.  Triggers do the latter in the database
itself: when a call's recording becomes ``deleted`` (retention, erasure, manual deletion, from
any process) or the call row goes, its transcript lines, index rows, terms, flags, results and
job go too, and the deletion log says so.  No code path can forget it.

Jobs are claimed inside one ``BEGIN IMMEDIATE`` transaction, so ``salvesti run`` and
``salvesti analysis run`` working on one file never take the same job twice.  Every function
takes an open ``aiosqlite`` connection; writes are called inside the store's ``write()``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import aiosqlite

from salvesti.core.analysis.store import (
    STATUSES,
    TRACKER_PREFIX,
    AnalysedCall,
    Badge,
    Failure,
    JobStatus,
    QueueSummary,
    TranscriptHit,
)
from salvesti.core.components import CallQuery
from salvesti.plugins.store_sqlite_migrations import register_migration

if TYPE_CHECKING:
    from salvesti.plugins.store_sqlite import SqliteStore

__all__ = ["STATUSES", "TRACKER_PREFIX", "SqliteAnalysis"]

NAMESPACE = "analysis"

_FORGET = """
    INSERT INTO deletions (call_id, what, path, deleted_at, rule, reason)
        SELECT {row}id, 'analysis', NULL, strftime('%Y-%m-%dT%H:%M:%f000Z', 'now'), 'with recording',
               'transcript, talk metrics and index rows removed with the recording'
        WHERE EXISTS (SELECT 1 FROM analysis_results WHERE call_id = {row}id)
           OR EXISTS (SELECT 1 FROM analysis_lines WHERE call_id = {row}id);
    DELETE FROM analysis_lines WHERE call_id = {row}id;
    DELETE FROM analysis_terms WHERE call_id = {row}id;
    DELETE FROM analysis_flags WHERE call_id = {row}id;
    DELETE FROM analysis_results WHERE call_id = {row}id;
    DELETE FROM analysis_jobs WHERE call_id = {row}id;
"""

MIGRATIONS: dict[int, str] = {
    1: f"""
    CREATE TABLE analysis_jobs (
        call_id TEXT PRIMARY KEY,
        status TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        next_at TEXT NOT NULL,
        queued_at TEXT NOT NULL,
        started_at TEXT,
        finished_at TEXT,
        claimed_by TEXT,
        error TEXT
    );
    CREATE INDEX analysis_jobs_due ON analysis_jobs (status, next_at);
    CREATE TABLE analysis_results (
        call_id TEXT PRIMARY KEY,
        data TEXT NOT NULL,
        analysed_at TEXT NOT NULL
    );
    CREATE TABLE analysis_flags (
        call_id TEXT NOT NULL,
        flag TEXT NOT NULL,
        PRIMARY KEY (flag, call_id)
    ) WITHOUT ROWID;
    CREATE INDEX analysis_flags_call ON analysis_flags (call_id);
    CREATE TABLE analysis_lines (
        id INTEGER PRIMARY KEY,
        call_id TEXT NOT NULL,
        channel TEXT NOT NULL,
        start_s REAL NOT NULL,
        end_s REAL NOT NULL,
        text TEXT NOT NULL,
        words TEXT NOT NULL DEFAULT '[]'
    );
    CREATE INDEX analysis_lines_call ON analysis_lines (call_id, start_s);
    CREATE VIRTUAL TABLE analysis_fts USING fts5(
        text, content = 'analysis_lines', content_rowid = 'id', tokenize = 'unicode61 remove_diacritics 2'
    );
    CREATE TRIGGER analysis_lines_ai AFTER INSERT ON analysis_lines BEGIN
        INSERT INTO analysis_fts (rowid, text) VALUES (new.id, new.text);
    END;
    CREATE TRIGGER analysis_lines_ad AFTER DELETE ON analysis_lines BEGIN
        INSERT INTO analysis_fts (analysis_fts, rowid, text) VALUES ('delete', old.id, old.text);
    END;
    CREATE TABLE analysis_terms (
        call_id TEXT NOT NULL,
        term TEXT NOT NULL,
        PRIMARY KEY (call_id, term)
    ) WITHOUT ROWID;
    CREATE INDEX analysis_terms_term ON analysis_terms (term, call_id);
    CREATE TRIGGER analysis_forget_recording AFTER UPDATE OF recording_status ON calls
        WHEN new.recording_status = 'deleted' BEGIN
        {_FORGET.format(row="new.")}
    END;
    CREATE TRIGGER analysis_forget_call AFTER DELETE ON calls BEGIN
        {_FORGET.format(row="old.")}
    END;
    """,
}

for _version, _sql in MIGRATIONS.items():
    register_migration(NAMESPACE, _version, _sql)


def now_key() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def key_of(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


# -- the queue ------------------------------------------------------------------------------------
async def enqueue(db: aiosqlite.Connection, call_id: str, *, force: bool = False) -> bool:
    """Queue a call (once); ``force`` queues it again even when done or failed.  True if queued."""
    now = now_key()
    if force:
        cur = await db.execute(
            "INSERT INTO analysis_jobs (call_id, status, attempts, next_at, queued_at)"
            " VALUES (?, 'queued', 0, ?, ?) ON CONFLICT (call_id) DO UPDATE SET status = 'queued',"
            " attempts = 0, next_at = excluded.next_at, queued_at = excluded.queued_at, error = NULL"
            " WHERE analysis_jobs.status != 'running'",
            (call_id, now, now),
        )
    else:
        cur = await db.execute(
            "INSERT OR IGNORE INTO analysis_jobs (call_id, status, attempts, next_at, queued_at)"
            " VALUES (?, 'queued', 0, ?, ?)",
            (call_id, now, now),
        )
    return cur.rowcount > 0


async def claim(db: aiosqlite.Connection, worker: str, limit: int) -> list[tuple[str, int]]:
    """Take up to ``limit`` due jobs for ``worker``: (call id, attempts so far), oldest first."""
    now = now_key()
    rows = await db.execute_fetchall(
        "SELECT call_id, attempts FROM analysis_jobs WHERE status = 'queued' AND next_at <= ?"
        " ORDER BY next_at, call_id LIMIT ?",
        (now, limit),
    )
    taken = [(r[0], int(r[1])) for r in rows]
    for call_id, _ in taken:
        await db.execute(
            "UPDATE analysis_jobs SET status = 'running', started_at = ?, claimed_by = ? WHERE call_id = ?",
            (now, worker, call_id),
        )
    return taken


async def next_due(db: aiosqlite.Connection) -> str | None:
    """When the next queued job is due (a time key), for the scheduler's sleep."""
    rows = await db.execute_fetchall("SELECT MIN(next_at) FROM analysis_jobs WHERE status = 'queued'")
    return next(iter(rows))[0]


async def retry_later(db: aiosqlite.Connection, call_id: str, error: str, at: datetime) -> None:
    await db.execute(
        "UPDATE analysis_jobs SET status = 'queued', attempts = attempts + 1, next_at = ?, error = ?,"
        " claimed_by = NULL WHERE call_id = ?",
        (key_of(at), error, call_id),
    )


async def fail(db: aiosqlite.Connection, call_id: str, error: str) -> None:
    await db.execute(
        "UPDATE analysis_jobs SET status = 'failed', attempts = attempts + 1, finished_at = ?, error = ?,"
        " claimed_by = NULL WHERE call_id = ?",
        (now_key(), error, call_id),
    )


async def release_stale(db: aiosqlite.Connection, alive: Any) -> int:
    """Jobs left ``running`` by a process that is gone go back to the queue (a restart resumes)."""
    rows = await db.execute_fetchall("SELECT call_id, claimed_by FROM analysis_jobs WHERE status = 'running'")
    stale = [r[0] for r in rows if not alive(r[1] or "")]
    for call_id in stale:
        await db.execute(
            "UPDATE analysis_jobs SET status = 'queued', claimed_by = NULL WHERE call_id = ?", (call_id,)
        )
    return len(stale)


async def job_status(db: aiosqlite.Connection, call_id: str) -> JobStatus | None:
    rows = await db.execute_fetchall(
        "SELECT status, attempts, error, queued_at, finished_at FROM analysis_jobs WHERE call_id = ?",
        (call_id,),
    )
    for status, attempts, error, queued_at, finished_at in rows:
        return JobStatus(
            status=status, attempts=attempts, error=error, queued_at=queued_at, finished_at=finished_at
        )
    return None


async def queue_summary(db: aiosqlite.Connection) -> QueueSummary:
    """Counts per status, the oldest queued job and the latest failures (``analysis status``)."""
    counts = dict.fromkeys(STATUSES, 0)
    for status, n in await db.execute_fetchall("SELECT status, count(*) FROM analysis_jobs GROUP BY status"):
        counts[status] = n
    oldest = next(
        iter(await db.execute_fetchall("SELECT MIN(queued_at) FROM analysis_jobs WHERE status = 'queued'"))
    )[0]
    failures = [
        Failure(call_id=r[0], error=r[1], attempts=r[2])
        for r in await db.execute_fetchall(
            "SELECT call_id, error, attempts FROM analysis_jobs WHERE status = 'failed'"
            " ORDER BY finished_at DESC LIMIT 10"
        )
    ]
    retrying = next(
        iter(
            await db.execute_fetchall(
                "SELECT count(*) FROM analysis_jobs WHERE status = 'queued' AND attempts > 0"
            )
        )
    )[0]
    return QueueSummary(counts=counts, oldest_queued=oldest, retrying=retrying, failures=failures)


# -- results -------------------------------------------------------------------------------------
async def save_result(
    db: aiosqlite.Connection,
    call_id: str,
    result: dict[str, Any],
    lines: list[dict[str, Any]],
    terms: set[str],
    flags: set[str],
) -> bool:
    """Replace a call's analysis; False (nothing kept) when its recording is gone meanwhile."""
    rows = await db.execute_fetchall("SELECT recording_status FROM calls WHERE id = ?", (call_id,))
    status = next(iter(rows))[0] if rows else None
    if not rows or status == "deleted":
        await db.execute("DELETE FROM analysis_jobs WHERE call_id = ?", (call_id,))
        return False
    await forget_derived(db, call_id)
    await db.execute(
        "INSERT INTO analysis_results (call_id, data, analysed_at) VALUES (?, ?, ?)",
        (call_id, json.dumps(result, ensure_ascii=False), now_key()),
    )
    await db.executemany(
        "INSERT INTO analysis_lines (call_id, channel, start_s, end_s, text, words)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        [
            (
                call_id,
                line["channel"],
                line["start_s"],
                line["end_s"],
                line["text"],
                json.dumps(line.get("words", []), ensure_ascii=False),
            )
            for line in lines
        ],
    )
    await db.executemany(
        "INSERT OR IGNORE INTO analysis_terms (call_id, term) VALUES (?, ?)", [(call_id, t) for t in terms]
    )
    await db.executemany(
        "INSERT OR IGNORE INTO analysis_flags (call_id, flag) VALUES (?, ?)", [(call_id, f) for f in flags]
    )
    await db.execute(
        "UPDATE analysis_jobs SET status = 'done', finished_at = ?, error = NULL, claimed_by = NULL"
        " WHERE call_id = ?",
        (now_key(), call_id),
    )
    return True


async def forget_derived(db: aiosqlite.Connection, call_id: str) -> None:
    """Drop a call's results, lines (and so their index rows), terms and flags, keeping the job."""
    for table in ("analysis_lines", "analysis_terms", "analysis_flags", "analysis_results"):
        await db.execute(f"DELETE FROM {table} WHERE call_id = ?", (call_id,))


async def get_result(db: aiosqlite.Connection, call_id: str) -> dict[str, Any] | None:
    """The stored result with its transcript lines, or None when the call was not analysed."""
    rows = await db.execute_fetchall("SELECT data FROM analysis_results WHERE call_id = ?", (call_id,))
    if not rows:
        return None
    result: dict[str, Any] = json.loads(next(iter(rows))[0])
    result["transcript"] = [
        {"channel": r[0], "start_s": r[1], "end_s": r[2], "text": r[3], "words": json.loads(r[4])}
        for r in await db.execute_fetchall(
            "SELECT channel, start_s, end_s, text, words FROM analysis_lines WHERE call_id = ?"
            " ORDER BY start_s, id",
            (call_id,),
        )
    ]
    return result


async def summaries(db: aiosqlite.Connection, call_ids: list[str]) -> dict[str, dict[str, Any]]:
    """Status and flags per call, for badges in the calls list."""
    if not call_ids:
        return {}
    ids = json.dumps(call_ids)
    out: dict[str, dict[str, Any]] = {}
    for call_id, status in await db.execute_fetchall(
        "SELECT call_id, status FROM analysis_jobs WHERE call_id IN (SELECT value FROM json_each(?))", (ids,)
    ):
        out[call_id] = {"status": status, "flags": []}
    for call_id, flag in await db.execute_fetchall(
        "SELECT call_id, flag FROM analysis_flags WHERE call_id IN (SELECT value FROM json_each(?))"
        " ORDER BY flag",
        (ids,),
    ):
        out.setdefault(call_id, {"status": "done", "flags": []})["flags"].append(flag)
    return out


# -- search ----------------------------------------------------------------------------------------
_WORD = re.compile(r"\w+")
_PART = re.compile(r'"([^"]*)"?|(\S+)')


def fts_query(text: str) -> str | None:
    """The user's search text as an FTS5 query: every word must occur, a quoted phrase in order,
    ``salvest*`` as a prefix.  Everything is re-quoted, so no input is FTS syntax."""
    parts: list[str] = []
    for match in _PART.finditer(text or ""):
        if match.group(1) is not None:
            words = _WORD.findall(match.group(1))
            if words:
                parts.append('"' + " ".join(words) + '"')
            continue
        raw = match.group(2)
        words = _WORD.findall(raw)
        for i, word in enumerate(words):
            star = "*" if raw.endswith("*") and i == len(words) - 1 else ""
            parts.append(f'"{word}"{star}')
    return " AND ".join(parts) if parts else None


#: SQL for "calls whose transcript matches" (one parameter: an :func:`fts_query`).
TRANSCRIPT_MATCH_SQL = (
    "calls.id IN (SELECT l.call_id FROM analysis_fts JOIN analysis_lines l ON l.id = analysis_fts.rowid"
    " WHERE analysis_fts MATCH ?)"
)


async def transcript_candidates(db: aiosqlite.Connection, text: str, limit: int) -> list[int] | None:
    """Row ids of calls whose transcript matches ``text`` (None when ``text`` has no words)."""
    fts = fts_query(text)
    if fts is None:
        return None
    rows = await db.execute_fetchall(
        "SELECT DISTINCT calls.rowid FROM analysis_fts JOIN analysis_lines l ON l.id = analysis_fts.rowid"
        " JOIN calls ON calls.id = l.call_id WHERE analysis_fts MATCH ? LIMIT ?",
        (fts, limit),
    )
    return [r[0] for r in rows]


async def transcript_hits(db: aiosqlite.Connection, text: str, call_ids: list[str]) -> dict[str, Any]:
    """The first matching transcript line per call, with a snippet (matches between « and »)."""
    fts = fts_query(text)
    if fts is None or not call_ids:
        return {}
    out: dict[str, Any] = {}
    rows = await db.execute_fetchall(
        "SELECT l.call_id, l.channel, l.start_s, l.end_s, snippet(analysis_fts, 0, '«', '»', '…', 16)"
        " FROM analysis_fts JOIN analysis_lines l ON l.id = analysis_fts.rowid"
        " WHERE analysis_fts MATCH ? AND l.call_id IN (SELECT value FROM json_each(?))"
        " ORDER BY l.call_id, l.start_s",
        (fts, json.dumps(call_ids)),
    )
    for call_id, channel, start_s, end_s, snippet in rows:
        out.setdefault(call_id, {"channel": channel, "start_s": start_s, "end_s": end_s, "snippet": snippet})
    return out


# -- insights --------------------------------------------------------------------------------------
async def analysed_with_outcome(
    db: aiosqlite.Connection, where: str, params: list[Any]
) -> list[tuple[str, str, dict[str, Any]]]:
    """(call id, outcome, result) of analysed calls that have an outcome and match ``where``."""
    rows = await db.execute_fetchall(
        "SELECT calls.id, calls.outcome, r.data FROM analysis_results r JOIN calls ON calls.id = r.call_id"
        f" WHERE calls.outcome IS NOT NULL AND ({where})",
        params,
    )
    return [(r[0], r[1], json.loads(r[2])) for r in rows]


async def terms_of(db: aiosqlite.Connection, call_ids: list[str]) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {c: set() for c in call_ids}
    if not call_ids:
        return out
    for call_id, term in await db.execute_fetchall(
        "SELECT call_id, term FROM analysis_terms WHERE call_id IN (SELECT value FROM json_each(?))",
        (json.dumps(call_ids),),
    ):
        out[call_id].add(term)
    return out


# -- the store's AnalysisStore -------------------------------------------------------------------
def _key_time(key: str) -> datetime:
    return datetime.strptime(key, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


class SqliteAnalysis:
    """:class:`~salvesti.core.analysis.store.AnalysisStore` on the SQLite store's file: the
    functions above, each write in the store's ``BEGIN IMMEDIATE`` transaction."""

    def __init__(self, store: SqliteStore) -> None:
        self.store = store

    def _write(self) -> AbstractAsyncContextManager[aiosqlite.Connection]:
        return self.store.write()

    async def enqueue(self, call_id: str, *, force: bool = False) -> bool:
        async with self._write() as db:
            return await enqueue(db, call_id, force=force)

    async def claim(self, worker: str, limit: int) -> list[tuple[str, int]]:
        async with self._write() as db:
            return await claim(db, worker, limit)

    async def next_due(self) -> datetime | None:
        due = await next_due(self.store.db)
        return _key_time(due) if due is not None else None

    async def retry_later(self, call_id: str, error: str, at: datetime) -> None:
        async with self._write() as db:
            await retry_later(db, call_id, error, at)

    async def fail(self, call_id: str, error: str) -> None:
        async with self._write() as db:
            await fail(db, call_id, error)

    async def release_stale(self, alive: Callable[[str], bool]) -> int:
        async with self._write() as db:
            return await release_stale(db, alive)

    async def requeue(self, call_ids: list[str]) -> None:
        async with self._write() as db:
            await db.executemany(
                "UPDATE analysis_jobs SET status = 'queued', claimed_by = NULL"
                " WHERE call_id = ? AND status = 'running'",
                [(c,) for c in call_ids],
            )

    async def requeue_failed(self) -> int:
        async with self._write() as db:
            rows = await db.execute_fetchall("SELECT call_id FROM analysis_jobs WHERE status = 'failed'")
            return sum([await enqueue(db, row[0], force=True) for row in rows])

    async def job_status(self, call_id: str) -> JobStatus | None:
        return await job_status(self.store.db, call_id)

    async def queue_summary(self) -> QueueSummary:
        return await queue_summary(self.store.db)

    async def save_result(
        self,
        call_id: str,
        result: dict[str, Any],
        lines: list[dict[str, Any]],
        terms: set[str],
        flags: set[str],
    ) -> bool:
        async with self._write() as db:
            return await save_result(db, call_id, result, lines, terms, flags)

    async def get_result(self, call_id: str) -> dict[str, Any] | None:
        return await get_result(self.store.db, call_id)

    async def summaries(self, call_ids: list[str]) -> dict[str, Badge]:
        found = await summaries(self.store.db, call_ids)
        return {k: Badge(status=v["status"], flags=v["flags"]) for k, v in found.items()}

    async def transcript_hits(self, text: str, call_ids: list[str]) -> dict[str, TranscriptHit]:
        found = await transcript_hits(self.store.db, text, call_ids)
        return {
            k: TranscriptHit(
                channel=v["channel"], start_s=v["start_s"], end_s=v["end_s"], snippet=v["snippet"]
            )
            for k, v in found.items()
        }

    async def analysed_with_outcome(self, query: CallQuery) -> list[AnalysedCall]:
        from salvesti.plugins.store_sqlite_query import build_where  # it imports this module

        where, params = build_where(query, tz=self.store.tz, default_country=self.store.default_country)
        rows = await self.store.db.execute_fetchall(
            "SELECT calls.id, calls.outcome, calls.started_at, r.data FROM analysis_results r"
            f" JOIN calls ON calls.id = r.call_id WHERE calls.outcome IS NOT NULL AND ({where})"
            " ORDER BY calls.started_at, calls.id",
            params,
        )
        return [AnalysedCall(r[0], r[1], _key_time(r[2]), json.loads(r[3])) for r in rows]

    async def terms_of(self, call_ids: list[str]) -> dict[str, set[str]]:
        return await terms_of(self.store.db, call_ids)
