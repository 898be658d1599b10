"""The PostgreSQL store's analysis tables: the job queue, results, transcript lines and their index.

The same tables and rules as the SQLite store's (store_sqlite_analysis.py), in PostgreSQL's
terms, so that several nodes share one queue:

- a job is claimed with ``FOR UPDATE SKIP LOCKED``: two nodes claiming at once take different
  jobs, and neither waits for the other's transaction;
- transcript lines carry a ``tsvector`` (a generated column over the line folded to plain
  lower-case words, :func:`~salvesti.plugins.store_postgresql_query.fold`) with a GIN index;
- a trigger forgets everything derived from a recording when it becomes ``deleted`` or the
  call row goes, whichever node or process did it, and the deletion log says so.

A claim is released as stale only by a process on the host that made it (only there can one
tell that the claimer is gone); each node releases its own cut-off jobs when it starts again.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from salvesti.core.analysis.store import (
    STATUSES,
    AnalysedCall,
    Badge,
    Failure,
    JobStatus,
    QueueSummary,
    TranscriptHit,
)
from salvesti.core.components import CallQuery
from salvesti.plugins.store_postgresql_migrations import register_migration
from salvesti.plugins.store_postgresql_query import build_where, fold, snippet, ts_query
from salvesti.plugins.store_sqlite_analysis import NAMESPACE, key_of

if TYPE_CHECKING:
    import asyncpg

    from salvesti.plugins.store_postgresql import PostgresStore

__all__ = ["PostgresAnalysis"]

register_migration(
    NAMESPACE,
    1,
    """
    CREATE TABLE analysis_jobs (
        call_id TEXT COLLATE "C" PRIMARY KEY,
        status TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        next_at TIMESTAMPTZ NOT NULL,
        queued_at TIMESTAMPTZ NOT NULL,
        started_at TIMESTAMPTZ,
        finished_at TIMESTAMPTZ,
        claimed_by TEXT,
        error TEXT
    );
    CREATE INDEX analysis_jobs_due ON analysis_jobs (status, next_at);
    CREATE TABLE analysis_results (
        call_id TEXT COLLATE "C" PRIMARY KEY,
        data JSONB NOT NULL,
        analysed_at TIMESTAMPTZ NOT NULL
    );
    CREATE TABLE analysis_flags (
        call_id TEXT COLLATE "C" NOT NULL,
        flag TEXT NOT NULL,
        PRIMARY KEY (flag, call_id)
    );
    CREATE INDEX analysis_flags_call ON analysis_flags (call_id);
    CREATE TABLE analysis_lines (
        id BIGSERIAL PRIMARY KEY,
        call_id TEXT COLLATE "C" NOT NULL,
        channel TEXT NOT NULL,
        start_s DOUBLE PRECISION NOT NULL,
        end_s DOUBLE PRECISION NOT NULL,
        text TEXT NOT NULL,
        words JSONB NOT NULL DEFAULT '[]',
        folded TEXT NOT NULL,
        tsv TSVECTOR GENERATED ALWAYS AS (to_tsvector('simple', folded)) STORED
    );
    CREATE INDEX analysis_lines_call ON analysis_lines (call_id, start_s);
    CREATE INDEX analysis_lines_tsv ON analysis_lines USING GIN (tsv);
    CREATE TABLE analysis_terms (
        call_id TEXT COLLATE "C" NOT NULL,
        term TEXT NOT NULL,
        PRIMARY KEY (call_id, term)
    );
    CREATE INDEX analysis_terms_term ON analysis_terms (term, call_id);
    CREATE FUNCTION analysis_forget() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
        cid TEXT := CASE WHEN TG_OP = 'DELETE' THEN OLD.id ELSE NEW.id END;
    BEGIN
        INSERT INTO deletions (call_id, what, path, deleted_at, rule, reason)
            SELECT cid, 'analysis', NULL, now(), 'with recording',
                   'transcript, talk metrics and index rows removed with the recording'
            WHERE EXISTS (SELECT 1 FROM analysis_results WHERE call_id = cid)
               OR EXISTS (SELECT 1 FROM analysis_lines WHERE call_id = cid);
        DELETE FROM analysis_lines WHERE call_id = cid;
        DELETE FROM analysis_terms WHERE call_id = cid;
        DELETE FROM analysis_flags WHERE call_id = cid;
        DELETE FROM analysis_results WHERE call_id = cid;
        DELETE FROM analysis_jobs WHERE call_id = cid;
        RETURN NULL;
    END $$;
    CREATE TRIGGER analysis_forget_recording AFTER UPDATE OF recording_status ON calls
        FOR EACH ROW WHEN (NEW.recording_status = 'deleted') EXECUTE FUNCTION analysis_forget();
    CREATE TRIGGER analysis_forget_call AFTER DELETE ON calls
        FOR EACH ROW EXECUTE FUNCTION analysis_forget();
    """,
)

_DERIVED = ("analysis_lines", "analysis_terms", "analysis_flags", "analysis_results")


def _key(when: datetime | None) -> str | None:
    return key_of(when) if when is not None else None


def _this_host_or(alive: Callable[[str], bool]) -> Callable[[str], bool]:
    """``alive``, but a claim made on another host counts as alive (see the module docstring)."""
    host = socket.gethostname()
    return lambda who: who.rpartition(":")[0] != host or alive(who)


class PostgresAnalysis:
    """:class:`~salvesti.core.analysis.store.AnalysisStore` on the PostgreSQL store's pool."""

    def __init__(self, store: PostgresStore) -> None:
        self.store = store

    # -- the queue -------------------------------------------------------------------------------
    async def enqueue(self, call_id: str, *, force: bool = False) -> bool:
        now = datetime.now(UTC)
        sql = (
            "INSERT INTO analysis_jobs (call_id, status, attempts, next_at, queued_at)"
            " VALUES ($1, 'queued', 0, $2, $2)"
        )
        if force:
            sql += (
                " ON CONFLICT (call_id) DO UPDATE SET status = 'queued', attempts = 0,"
                " next_at = excluded.next_at, queued_at = excluded.queued_at, error = NULL"
                " WHERE analysis_jobs.status <> 'running'"
            )
        else:
            sql += " ON CONFLICT (call_id) DO NOTHING"
        return await self.store.pool.execute(sql, call_id, now) != "INSERT 0 0"

    async def claim(self, worker: str, limit: int) -> list[tuple[str, int]]:
        rows = await self.store.pool.fetch(
            "UPDATE analysis_jobs j SET status = 'running', started_at = $1, claimed_by = $2"
            " FROM (SELECT call_id FROM analysis_jobs WHERE status = 'queued' AND next_at <= $1"
            "       ORDER BY next_at, call_id LIMIT $3 FOR UPDATE SKIP LOCKED) due"
            " WHERE j.call_id = due.call_id RETURNING j.call_id, j.attempts, j.next_at",
            datetime.now(UTC), worker, limit,
        )  # fmt: skip
        return [
            (r["call_id"], r["attempts"]) for r in sorted(rows, key=lambda r: (r["next_at"], r["call_id"]))
        ]

    async def next_due(self) -> datetime | None:
        due: datetime | None = await self.store.pool.fetchval(
            "SELECT MIN(next_at) FROM analysis_jobs WHERE status = 'queued'"
        )
        return due

    async def retry_later(self, call_id: str, error: str, at: datetime) -> None:
        await self.store.pool.execute(
            "UPDATE analysis_jobs SET status = 'queued', attempts = attempts + 1, next_at = $2,"
            " error = $3, claimed_by = NULL WHERE call_id = $1",
            call_id, at, error,
        )  # fmt: skip

    async def fail(self, call_id: str, error: str) -> None:
        await self.store.pool.execute(
            "UPDATE analysis_jobs SET status = 'failed', attempts = attempts + 1, finished_at = $2,"
            " error = $3, claimed_by = NULL WHERE call_id = $1",
            call_id, datetime.now(UTC), error,
        )  # fmt: skip

    async def release_stale(self, alive: Callable[[str], bool]) -> int:
        check = _this_host_or(alive)
        async with self.store.write() as conn:
            rows = await conn.fetch(
                "SELECT call_id, claimed_by FROM analysis_jobs WHERE status = 'running'"
                " FOR UPDATE SKIP LOCKED"
            )
            stale = [r["call_id"] for r in rows if not check(r["claimed_by"] or "")]
            await self._requeue(conn, stale)
        return len(stale)

    async def requeue(self, call_ids: list[str]) -> None:
        async with self.store.write() as conn:
            await self._requeue(conn, call_ids)

    @staticmethod
    async def _requeue(conn: asyncpg.Connection, call_ids: list[str]) -> None:
        await conn.execute(
            "UPDATE analysis_jobs SET status = 'queued', claimed_by = NULL"
            " WHERE call_id = ANY($1::text[]) AND status = 'running'",
            call_ids,
        )

    async def requeue_failed(self) -> int:
        done = await self.store.pool.execute(
            "UPDATE analysis_jobs SET status = 'queued', attempts = 0, next_at = $1, queued_at = $1,"
            " error = NULL WHERE status = 'failed'",
            datetime.now(UTC),
        )
        return int(done.rsplit(" ", 1)[-1])

    async def job_status(self, call_id: str) -> JobStatus | None:
        row = await self.store.pool.fetchrow(
            "SELECT status, attempts, error, queued_at, finished_at FROM analysis_jobs WHERE call_id = $1",
            call_id,
        )
        if row is None:
            return None
        return JobStatus(
            status=row["status"],
            attempts=row["attempts"],
            error=row["error"],
            queued_at=key_of(row["queued_at"]),
            finished_at=_key(row["finished_at"]),
        )

    async def queue_summary(self) -> QueueSummary:
        pool = self.store.pool
        counts = dict.fromkeys(STATUSES, 0)
        for row in await pool.fetch("SELECT status, count(*) AS n FROM analysis_jobs GROUP BY status"):
            counts[row["status"]] = row["n"]
        oldest = await pool.fetchval("SELECT MIN(queued_at) FROM analysis_jobs WHERE status = 'queued'")
        failures = [
            Failure(call_id=r["call_id"], error=r["error"], attempts=r["attempts"])
            for r in await pool.fetch(
                "SELECT call_id, error, attempts FROM analysis_jobs WHERE status = 'failed'"
                " ORDER BY finished_at DESC LIMIT 10"
            )
        ]
        retrying = await pool.fetchval(
            "SELECT count(*) FROM analysis_jobs WHERE status = 'queued' AND attempts > 0"
        )
        return QueueSummary(counts=counts, oldest_queued=_key(oldest), retrying=retrying, failures=failures)

    # -- results -------------------------------------------------------------------------------
    async def save_result(
        self,
        call_id: str,
        result: dict[str, Any],
        lines: list[dict[str, Any]],
        terms: set[str],
        flags: set[str],
    ) -> bool:
        now = datetime.now(UTC)
        async with self.store.write() as conn:
            # FOR SHARE: a deletion of the recording on another node waits for this transaction
            found = await conn.fetchrow("SELECT recording_status FROM calls WHERE id = $1 FOR SHARE", call_id)
            if found is None or found["recording_status"] == "deleted":
                await conn.execute("DELETE FROM analysis_jobs WHERE call_id = $1", call_id)
                return False
            for table in _DERIVED:
                await conn.execute(f"DELETE FROM {table} WHERE call_id = $1", call_id)
            await conn.execute(
                "INSERT INTO analysis_results (call_id, data, analysed_at) VALUES ($1, $2, $3)",
                call_id, json.dumps(result, ensure_ascii=False), now,
            )  # fmt: skip
            await conn.executemany(
                "INSERT INTO analysis_lines (call_id, channel, start_s, end_s, text, words, folded)"
                " VALUES ($1, $2, $3, $4, $5, $6, $7)",
                [
                    (
                        call_id,
                        line["channel"],
                        float(line["start_s"]),
                        float(line["end_s"]),
                        line["text"],
                        json.dumps(line.get("words", []), ensure_ascii=False),
                        fold(line["text"]),
                    )
                    for line in lines
                ],
            )
            await conn.executemany(
                "INSERT INTO analysis_terms (call_id, term) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                [(call_id, t) for t in terms],
            )
            await conn.executemany(
                "INSERT INTO analysis_flags (call_id, flag) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                [(call_id, f) for f in flags],
            )
            await conn.execute(
                "UPDATE analysis_jobs SET status = 'done', finished_at = $2, error = NULL, claimed_by = NULL"
                " WHERE call_id = $1",
                call_id, now,
            )  # fmt: skip
        return True

    async def get_result(self, call_id: str) -> dict[str, Any] | None:
        pool = self.store.pool
        data = await pool.fetchval("SELECT data FROM analysis_results WHERE call_id = $1", call_id)
        if data is None:
            return None
        result: dict[str, Any] = json.loads(data)
        result["transcript"] = [
            {
                "channel": r["channel"],
                "start_s": r["start_s"],
                "end_s": r["end_s"],
                "text": r["text"],
                "words": json.loads(r["words"]),
            }
            for r in await pool.fetch(
                "SELECT channel, start_s, end_s, text, words FROM analysis_lines WHERE call_id = $1"
                " ORDER BY start_s, id",
                call_id,
            )
        ]
        return result

    async def summaries(self, call_ids: list[str]) -> dict[str, Badge]:
        if not call_ids:
            return {}
        pool = self.store.pool
        out: dict[str, Badge] = {}
        for r in await pool.fetch(
            "SELECT call_id, status FROM analysis_jobs WHERE call_id = ANY($1::text[])", call_ids
        ):
            out[r["call_id"]] = Badge(status=r["status"], flags=[])
        for r in await pool.fetch(
            "SELECT call_id, flag FROM analysis_flags WHERE call_id = ANY($1::text[])"
            ' ORDER BY flag COLLATE "C"',
            call_ids,
        ):
            out.setdefault(r["call_id"], Badge(status="done", flags=[]))["flags"].append(r["flag"])
        return out

    async def transcript_hits(self, text: str, call_ids: list[str]) -> dict[str, TranscriptHit]:
        query = ts_query(text)
        if query is None or not call_ids:
            return {}
        rows = await self.store.pool.fetch(
            "SELECT DISTINCT ON (l.call_id) l.call_id, l.channel, l.start_s, l.end_s, l.text"
            " FROM analysis_lines l WHERE l.tsv @@ to_tsquery('simple', $1) AND l.call_id = ANY($2::text[])"
            " ORDER BY l.call_id, l.start_s, l.id",
            query, call_ids,
        )  # fmt: skip
        return {
            r["call_id"]: TranscriptHit(
                channel=r["channel"],
                start_s=r["start_s"],
                end_s=r["end_s"],
                snippet=snippet(r["text"], query),
            )
            for r in rows
        }

    # -- insights ------------------------------------------------------------------------------
    async def analysed_with_outcome(self, query: CallQuery) -> list[AnalysedCall]:
        store = self.store
        where, params = build_where(query, tz=store.tz, default_country=store.default_country)
        rows = await store.pool.fetch(
            "SELECT calls.id, calls.outcome, calls.started_at, r.data AS result FROM calls"
            f" JOIN analysis_results r ON r.call_id = calls.id WHERE calls.outcome IS NOT NULL AND ({where})"
            " ORDER BY calls.started_at, calls.id",
            *params,
        )
        return [AnalysedCall(r["id"], r["outcome"], r["started_at"], json.loads(r["result"])) for r in rows]

    async def terms_of(self, call_ids: list[str]) -> dict[str, set[str]]:
        out: dict[str, set[str]] = {c: set() for c in call_ids}
        if call_ids:
            for r in await self.store.pool.fetch(
                "SELECT call_id, term FROM analysis_terms WHERE call_id = ANY($1::text[])", call_ids
            ):
                out[r["call_id"]].add(r["term"])
        return out
