"""What the analysis asks of a call store: its queue, results, transcript search and aggregates.

Each store backend keeps these in its own tables (SQLite: FTS5 and ``BEGIN IMMEDIATE``;
PostgreSQL: tsvector and ``FOR UPDATE SKIP LOCKED``) and hands them out as its ``analysis``
property, so the runner, the routes and Insights never see SQL or ask which backend they
have.  One shared store suite holds both implementations to the same answers.

Times that the API shows (``queued_at``, ``finished_at``) are UTC text keys
(``2026-03-01T07:00:00.000000Z``) on both backends, so the JSON is the same.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, TypedDict

from salvesti.core.components import CallQuery

#: Statuses of a job in the queue.
STATUSES = ("queued", "running", "done", "failed")
#: Prefix of tracker ids among a call's terms (phrases and trackers share one table).
TRACKER_PREFIX = "tracker:"


class JobStatus(TypedDict):
    status: str
    attempts: int
    error: str | None
    queued_at: str
    finished_at: str | None


class Failure(TypedDict):
    call_id: str
    error: str | None
    attempts: int


class QueueSummary(TypedDict):
    """What ``salvesti analysis status`` shows: jobs per status, the oldest queued (a UTC text
    key), how many wait for a retry, and the ten latest failures."""

    counts: dict[str, int]
    oldest_queued: str | None
    retrying: int
    failures: list[Failure]


class Badge(TypedDict):
    """A call's analysis status and flags, for the calls list."""

    status: str
    flags: list[str]


class TranscriptHit(TypedDict):
    """The first transcript line of a call that matched a search, with ``«match»`` marks."""

    channel: str
    start_s: float
    end_s: float
    snippet: str


@dataclass(frozen=True)
class AnalysedCall:
    """An analysed call with an outcome, as Insights aggregates it."""

    call_id: str
    outcome: str
    started_at: datetime
    result: dict[str, Any]


class AnalysisStore(Protocol):
    """The analysis tables of one store.  Writes are each one transaction."""

    # -- the queue -------------------------------------------------------------------------------
    async def enqueue(self, call_id: str, *, force: bool = False) -> bool:
        """Queue a call once (``force``: again, unless running); True if queued now."""

    async def claim(self, worker: str, limit: int) -> list[tuple[str, int]]:
        """Take up to ``limit`` due jobs for ``worker``: (call id, attempts so far), oldest due
        first.  Two workers, processes or nodes claiming at once never get the same job."""

    async def next_due(self) -> datetime | None:
        """When the next queued job falls due (aware, UTC), or None when the queue is empty."""

    async def retry_later(self, call_id: str, error: str, at: datetime) -> None: ...

    async def fail(self, call_id: str, error: str) -> None: ...

    async def release_stale(self, alive: Callable[[str], bool]) -> int:
        """Jobs left ``running`` by a claimer that ``alive`` says is gone go back to the queue."""

    async def requeue(self, call_ids: list[str]) -> None:
        """Jobs of these calls still ``running`` go back to the queue (a stop cut them off)."""

    async def requeue_failed(self) -> int:
        """Every failed job queued again from scratch; how many."""

    async def job_status(self, call_id: str) -> JobStatus | None: ...

    async def queue_summary(self) -> QueueSummary: ...

    # -- results -------------------------------------------------------------------------------
    async def save_result(
        self,
        call_id: str,
        result: dict[str, Any],
        lines: list[dict[str, Any]],
        terms: set[str],
        flags: set[str],
    ) -> bool:
        """Replace a call's analysis; False (nothing kept) when its recording is gone meanwhile."""

    async def get_result(self, call_id: str) -> dict[str, Any] | None:
        """The stored result with its ``transcript`` lines, or None."""

    async def summaries(self, call_ids: list[str]) -> dict[str, Badge]: ...

    async def transcript_hits(self, text: str, call_ids: list[str]) -> dict[str, TranscriptHit]: ...

    # -- insights ------------------------------------------------------------------------------
    async def analysed_with_outcome(self, query: CallQuery) -> list[AnalysedCall]:
        """Analysed calls that have an outcome and match ``query`` (its limit is ignored)."""

    async def terms_of(self, call_ids: list[str]) -> dict[str, set[str]]: ...
