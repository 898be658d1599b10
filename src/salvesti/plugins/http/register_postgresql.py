"""The employee register and subject requests in the PostgreSQL store's database, shared by nodes.

The tables match the SQLite ones (employees_db.py, subject_requests.py) column for column, with
times and dates as the same ISO text, so the API answers alike.  An extension has one active
employee: the partial unique index decides when two nodes add one at the same moment, and an
acknowledgement of one version is unique per employee, so a second one is refused everywhere.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from salvesti.plugins.http.employees_db import METHODS, Acknowledgement, Employee, EmployeeError
from salvesti.plugins.http.subject_requests import (
    KINDS,
    SubjectRequest,
    add_month,
    mask,
    number_hash,
    request_of_row,
)
from salvesti.plugins.store_postgresql_migrations import register_migration

if TYPE_CHECKING:
    import asyncpg

__all__ = ["PostgresRegister"]

# Names and extensions sort bytewise (COLLATE "C"), as SQLite sorts them.
register_migration(
    "http_employees",
    1,
    """
    CREATE TABLE http_employees (
        id BIGSERIAL PRIMARY KEY,
        name TEXT NOT NULL,
        extension TEXT COLLATE "C" NOT NULL,
        created_at TEXT NOT NULL,
        left_at TEXT
    );
    CREATE UNIQUE INDEX http_employees_active_ext ON http_employees (extension) WHERE left_at IS NULL;
    CREATE TABLE http_employee_acks (
        id BIGSERIAL PRIMARY KEY,
        employee_id BIGINT NOT NULL REFERENCES http_employees (id),
        notice_version TEXT NOT NULL,
        method TEXT NOT NULL CHECK (method IN ('web', 'paper')),
        acknowledged_on TEXT NOT NULL,
        recorded_by TEXT NOT NULL,
        recorded_at TEXT NOT NULL,
        UNIQUE (employee_id, notice_version)
    );
    """,
)
register_migration(
    "http_subject_requests",
    1,
    """
    CREATE TABLE http_subject_requests (
        id BIGSERIAL PRIMARY KEY,
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
    CREATE INDEX http_subject_requests_open ON http_subject_requests (closed_at, deadline);
    CREATE INDEX http_subject_requests_number ON http_subject_requests (number_sha256);
    """,
)

_COLS = "id, name, extension, created_at, left_at"
_REQ_COLS = "id, kind, number, received, deadline, logged_at, logged_by, closed_at, outcome"
_LISTENS = (
    'SELECT a.seq, a.at, a."user", a.action, a.call_id FROM http_audit a'
    " WHERE a.action IN ('playback', 'download') AND a.call_id = ANY({ids}) ORDER BY a.seq DESC LIMIT $2"
)


def _count(status: str) -> int:
    return int(status.rsplit(" ", 1)[-1])


class PostgresRegister:
    """:class:`~salvesti.plugins.http.register_db.RegisterDb` on a pool it does not own."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def _with_acks(self, rows: list[Any]) -> list[Employee]:
        people = {
            r["id"]: Employee(r["id"], r["name"], r["extension"], r["created_at"], r["left_at"]) for r in rows
        }
        if people:
            for r in await self.pool.fetch(
                "SELECT employee_id, notice_version, method, acknowledged_on, recorded_by, recorded_at"
                " FROM http_employee_acks WHERE employee_id = ANY($1::bigint[]) ORDER BY id",
                list(people),
            ):
                people[r["employee_id"]].acks.append(Acknowledgement(*list(r.values())[1:]))
        return list(people.values())

    async def list_employees(self, *, include_left: bool = False) -> list[Employee]:
        where = "" if include_left else " WHERE left_at IS NULL"
        return await self._with_acks(
            await self.pool.fetch(f"SELECT {_COLS} FROM http_employees{where} ORDER BY extension, id")
        )

    async def _one(self, where: str, value: int | str) -> Employee | None:
        row = await self.pool.fetchrow(f"SELECT {_COLS} FROM http_employees WHERE {where}", value)
        return (await self._with_acks([row]))[0] if row else None

    async def get_employee(self, employee_id: int) -> Employee | None:
        return await self._one("id = $1", employee_id)

    async def employee_for_extension(self, extension: str) -> Employee | None:
        return await self._one("extension = $1 AND left_at IS NULL", extension)

    async def add_employee(self, name: str, extension: str, now: str) -> Employee:
        import asyncpg

        name, extension = name.strip(), extension.strip()
        if not name or not extension:
            raise EmployeeError("an employee needs a name and an extension")
        taken = EmployeeError(f"extension {extension} already has an employee; mark them as left first")
        if await self.employee_for_extension(extension) is not None:
            raise taken
        try:
            new_id = await self.pool.fetchval(
                "INSERT INTO http_employees (name, extension, created_at) VALUES ($1, $2, $3) RETURNING id",
                name, extension, now,
            )  # fmt: skip
        except asyncpg.UniqueViolationError:  # another node added one meanwhile
            raise taken from None
        return Employee(int(new_id), name, extension, now)

    async def mark_left(self, employee_id: int, now: str) -> bool:
        status = await self.pool.execute(
            "UPDATE http_employees SET left_at = $1 WHERE id = $2 AND left_at IS NULL", now, employee_id
        )
        return _count(status) > 0

    async def acknowledge(
        self,
        employee_id: int,
        *,
        version: str,
        method: str,
        acknowledged_on: str,
        recorded_by: str,
        now: str,
    ) -> Acknowledgement:
        import asyncpg

        if method not in METHODS:
            raise EmployeeError(f"method must be one of {', '.join(METHODS)}")
        try:
            await self.pool.execute(
                "INSERT INTO http_employee_acks (employee_id, notice_version, method, acknowledged_on,"
                " recorded_by, recorded_at) VALUES ($1, $2, $3, $4, $5, $6)",
                employee_id, version, method, acknowledged_on, recorded_by, now,
            )  # fmt: skip
        except asyncpg.UniqueViolationError:
            raise EmployeeError(f"notice {version} is already acknowledged") from None
        except asyncpg.ForeignKeyViolationError:
            raise EmployeeError("no such employee") from None
        return Acknowledgement(version, method, acknowledged_on, recorded_by, now)

    async def acknowledged_extensions(self) -> dict[str, set[str]]:
        out: dict[str, set[str]] = {}
        for r in await self.pool.fetch(
            "SELECT e.extension, a.notice_version FROM http_employees e"
            " JOIN http_employee_acks a ON a.employee_id = e.id WHERE e.left_at IS NULL"
        ):
            out.setdefault(r["extension"], set()).add(r["notice_version"])
        return out

    async def listens(self, extension: str, *, limit: int = 200) -> list[dict[str, Any]] | None:
        ids = "ARRAY(SELECT call_id FROM call_extensions WHERE extension = $1)"
        return [dict(r) for r in await self.pool.fetch(_LISTENS.format(ids=ids), extension, limit)]

    async def listens_of_calls(self, call_ids: list[str], *, limit: int = 200) -> list[dict[str, Any]]:
        return [dict(r) for r in await self.pool.fetch(_LISTENS.format(ids="$1::text[]"), call_ids, limit)]

    # -- subject requests ------------------------------------------------------------------------
    async def log_request(
        self, kind: str, number: str, received: date, *, by: str, now: str
    ) -> SubjectRequest:
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {', '.join(KINDS)}")
        deadline = add_month(received)
        new_id = await self.pool.fetchval(
            "INSERT INTO http_subject_requests (kind, number, number_sha256, received, deadline, logged_at,"
            " logged_by) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
            kind, number, number_hash(number), received.isoformat(), deadline.isoformat(), now, by,
        )  # fmt: skip
        return SubjectRequest(int(new_id), kind, number, received, deadline, now, by, None, None)

    async def open_requests(self, kind: str, number: str) -> list[SubjectRequest]:
        rows = await self.pool.fetch(
            f"SELECT {_REQ_COLS} FROM http_subject_requests WHERE kind = $1 AND number_sha256 = $2"
            " AND closed_at IS NULL ORDER BY received, id",
            kind, number_hash(number),
        )  # fmt: skip
        return [request_of_row(r) for r in rows]

    async def close_requests(self, kind: str, number: str, *, outcome: str, now: str) -> int:
        masked = mask(number) if kind == "erase" else number
        async with self.pool.acquire() as conn, conn.transaction():
            status = await conn.execute(
                "UPDATE http_subject_requests SET closed_at = $1, outcome = $2, number = $3"
                " WHERE kind = $4 AND number_sha256 = $5 AND closed_at IS NULL",
                now, outcome, masked, kind, number_hash(number),
            )  # fmt: skip
            if kind == "erase":  # the erased number must not stay readable in an older export request
                await conn.execute(
                    "UPDATE http_subject_requests SET number = $1 WHERE number_sha256 = $2",
                    masked, number_hash(number),
                )  # fmt: skip
        return _count(status)

    async def list_requests(self, *, include_closed: bool = False) -> list[SubjectRequest]:
        where = "" if include_closed else " WHERE closed_at IS NULL"
        rows = await self.pool.fetch(
            f"SELECT {_REQ_COLS} FROM http_subject_requests{where}"
            " ORDER BY closed_at IS NOT NULL, deadline, id"
        )
        return [request_of_row(r) for r in rows]
