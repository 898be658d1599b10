"""Data subject requests (GDPR Art. 15 access, Art. 17 erasure) and their one-month deadline.

Art. 12(3): a request is answered within one month of receipt.  ``salvesti subject export``
and ``erase`` log the request with the date it was received (``--received``, default today)
and close it when they ran; ``salvesti subject request`` logs one on arrival, so the web UI
shows admins what is open and what is overdue.  Once an erasure ran, the request keeps only a
masked number and its SHA-256: the log must not keep what was erased.

Own migration namespace and a small API over an open ``aiosqlite`` connection.
"""

from __future__ import annotations

import calendar
import hashlib
from dataclasses import dataclass
from datetime import date
from typing import Any

import aiosqlite

from salvesti.plugins.store_sqlite_migrations import register_migration

NAMESPACE = "http_subject_requests"
MIGRATIONS: dict[int, str] = {
    1: """
    CREATE TABLE http_subject_requests (
        id INTEGER PRIMARY KEY,
        kind TEXT NOT NULL CHECK (kind IN ('export', 'erase')),
        number TEXT NOT NULL,
        number_sha256 TEXT NOT NULL,
        received TEXT NOT NULL,
        deadline TEXT NOT NULL,
        logged_at TEXT NOT NULL,
        logged_by TEXT NOT NULL,
        closed_at TEXT,
        outcome TEXT
    );
    CREATE INDEX http_subject_requests_open ON http_subject_requests(closed_at, deadline);
    """,
}
for _version, _sql in MIGRATIONS.items():
    register_migration(NAMESPACE, _version, _sql)

KINDS = ("export", "erase")


def add_month(day: date) -> date:
    """The same day one calendar month later, or that month's last day (31 Jan → 28/29 Feb)."""
    year, month = (day.year + 1, 1) if day.month == 12 else (day.year, day.month + 1)
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def number_hash(number: str) -> str:
    return hashlib.sha256(number.encode()).hexdigest()


def mask(number: str) -> str:
    """``+3725551234`` → ``+37255…``: enough to tell requests apart, not to call anyone."""
    return number[: max(3, len(number) - 5)] + "…"


@dataclass
class SubjectRequest:
    id: int
    kind: str
    number: str
    received: date
    deadline: date
    logged_at: str
    logged_by: str
    closed_at: str | None
    outcome: str | None

    def overdue(self, today: date) -> bool:
        return self.closed_at is None and today > self.deadline

    def to_json(self, today: date) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "number": self.number,
            "received": self.received.isoformat(),
            "deadline": self.deadline.isoformat(),
            "days_left": (self.deadline - today).days,
            "overdue": self.overdue(today),
            "open": self.closed_at is None,
            "logged_at": self.logged_at,
            "logged_by": self.logged_by,
            "closed_at": self.closed_at,
            "outcome": self.outcome,
        }


def request_of_row(r: Any) -> SubjectRequest:
    """A request from a row of either backend (SQLite and asyncpg rows are read by name)."""
    return SubjectRequest(
        r["id"],
        r["kind"],
        r["number"],
        date.fromisoformat(r["received"]),
        date.fromisoformat(r["deadline"]),
        r["logged_at"],
        r["logged_by"],
        r["closed_at"],
        r["outcome"],
    )


_COLS = "id, kind, number, received, deadline, logged_at, logged_by, closed_at, outcome"


async def log_request(
    conn: aiosqlite.Connection, kind: str, number: str, received: date, *, by: str, now: str
) -> SubjectRequest:
    """A request received on ``received``: open until its export or erasure ran."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}")
    deadline = add_month(received)
    cur = await conn.execute(
        "INSERT INTO http_subject_requests (kind, number, number_sha256, received, deadline, logged_at, "
        "logged_by) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (kind, number, number_hash(number), received.isoformat(), deadline.isoformat(), now, by),
    )
    return SubjectRequest(int(cur.lastrowid or 0), kind, number, received, deadline, now, by, None, None)


async def open_requests(conn: aiosqlite.Connection, kind: str, number: str) -> list[SubjectRequest]:
    async with conn.execute(
        f"SELECT {_COLS} FROM http_subject_requests WHERE kind = ? AND number_sha256 = ? "
        "AND closed_at IS NULL ORDER BY received, id",
        (kind, number_hash(number)),
    ) as cur:
        return [request_of_row(r) for r in await cur.fetchall()]


async def close_requests(
    conn: aiosqlite.Connection, kind: str, number: str, *, outcome: str, now: str
) -> int:
    """Close every open ``kind`` request of ``number``; an erasure also masks the number."""
    masked = mask(number) if kind == "erase" else number
    cur = await conn.execute(
        "UPDATE http_subject_requests SET closed_at = ?, outcome = ?, number = ? "
        "WHERE kind = ? AND number_sha256 = ? AND closed_at IS NULL",
        (now, outcome, masked, kind, number_hash(number)),
    )
    if kind == "erase":  # the erased number must not stay readable in an older export request
        await conn.execute(
            "UPDATE http_subject_requests SET number = ? WHERE number_sha256 = ?",
            (masked, number_hash(number)),
        )
    return int(cur.rowcount or 0)


async def list_requests(conn: aiosqlite.Connection, *, include_closed: bool = False) -> list[SubjectRequest]:
    """Open requests by deadline (soonest first); with ``include_closed`` the closed ones after."""
    where = "" if include_closed else " WHERE closed_at IS NULL"
    async with conn.execute(
        f"SELECT {_COLS} FROM http_subject_requests{where} ORDER BY closed_at IS NOT NULL, deadline, id"
    ) as cur:
        return [request_of_row(r) for r in await cur.fetchall()]
