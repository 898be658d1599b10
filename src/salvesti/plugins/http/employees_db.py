"""The employee notice register's tables: who uses which extension, and which version of the
employee privacy notice they acknowledged, how and when.

GDPR and the AKI ask that employees are told *before* their calls are recorded, and that the
controller can show it (Art. 5(2)).  So an acknowledgement is evidence: it is never edited or
deleted, and an employee who leaves is marked ``left_at`` rather than removed.  One active
employee per extension; a new person on the extension is a new row with no acknowledgement.

Own migration namespace and its own small API (every function takes an open ``aiosqlite``
connection), so this stays put while the rest of ``db.py`` moves behind an interface.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import aiosqlite

from salvesti.plugins.store_sqlite_migrations import register_migration

NAMESPACE = "http_employees"
MIGRATIONS: dict[int, str] = {
    1: """
    CREATE TABLE http_employees (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL,
        extension TEXT NOT NULL,
        created_at TEXT NOT NULL,
        left_at TEXT
    );
    CREATE UNIQUE INDEX http_employees_active_ext ON http_employees(extension) WHERE left_at IS NULL;
    CREATE TABLE http_employee_acks (
        id INTEGER PRIMARY KEY,
        employee_id INTEGER NOT NULL REFERENCES http_employees(id),
        notice_version TEXT NOT NULL,
        method TEXT NOT NULL CHECK (method IN ('web', 'paper')),
        acknowledged_on TEXT NOT NULL,
        recorded_by TEXT NOT NULL,
        recorded_at TEXT NOT NULL,
        UNIQUE (employee_id, notice_version)
    );
    """,
}
for _version, _sql in MIGRATIONS.items():
    register_migration(NAMESPACE, _version, _sql)

#: ``web``: the employee confirmed it logged in; ``paper``: an admin recorded a signed paper.
METHODS = ("web", "paper")


class EmployeeError(ValueError):
    """A change the register refuses (the message says why, for a 409/400)."""


@dataclass
class Acknowledgement:
    notice_version: str
    method: str
    #: ISO date of the paper, or the ISO time the employee confirmed in the web UI.
    acknowledged_on: str
    recorded_by: str
    recorded_at: str

    def to_json(self) -> dict[str, Any]:
        return {
            "notice_version": self.notice_version,
            "method": self.method,
            "acknowledged_on": self.acknowledged_on,
            "recorded_by": self.recorded_by,
            "recorded_at": self.recorded_at,
        }


@dataclass
class Employee:
    id: int
    name: str
    extension: str
    created_at: str
    left_at: str | None = None
    acks: list[Acknowledgement] = field(default_factory=list)

    def ack_of(self, version: str | None) -> Acknowledgement | None:
        return next((a for a in self.acks if a.notice_version == version), None)

    def to_json(self, current_version: str | None) -> dict[str, Any]:
        ack = self.ack_of(current_version)
        return {
            "id": self.id,
            "name": self.name,
            "extension": self.extension,
            "created_at": self.created_at,
            "left_at": self.left_at,
            "acknowledged": ack is not None,
            "acknowledgement": ack.to_json() if ack else None,
            "acknowledgements": [a.to_json() for a in self.acks],
        }


_COLS = "id, name, extension, created_at, left_at"


async def _with_acks(conn: aiosqlite.Connection, rows: list[Any]) -> list[Employee]:
    people = {
        r["id"]: Employee(r["id"], r["name"], r["extension"], r["created_at"], r["left_at"]) for r in rows
    }
    if people:
        marks = ", ".join("?" for _ in people)
        async with conn.execute(
            "SELECT employee_id, notice_version, method, acknowledged_on, recorded_by, recorded_at "
            f"FROM http_employee_acks WHERE employee_id IN ({marks}) ORDER BY id",
            list(people),
        ) as cur:
            for r in await cur.fetchall():
                people[r["employee_id"]].acks.append(Acknowledgement(r[1], r[2], r[3], r[4], r[5]))
    return list(people.values())


async def list_employees(conn: aiosqlite.Connection, *, include_left: bool = False) -> list[Employee]:
    where = "" if include_left else " WHERE left_at IS NULL"
    async with conn.execute(f"SELECT {_COLS} FROM http_employees{where} ORDER BY extension, id") as cur:
        rows = list(await cur.fetchall())
    return await _with_acks(conn, rows)


async def get_employee(conn: aiosqlite.Connection, employee_id: int) -> Employee | None:
    async with conn.execute(f"SELECT {_COLS} FROM http_employees WHERE id = ?", (employee_id,)) as cur:
        row = await cur.fetchone()
    return (await _with_acks(conn, [row]))[0] if row else None


async def employee_for_extension(conn: aiosqlite.Connection, extension: str) -> Employee | None:
    """The active employee on ``extension``."""
    async with conn.execute(
        f"SELECT {_COLS} FROM http_employees WHERE extension = ? AND left_at IS NULL", (extension,)
    ) as cur:
        row = await cur.fetchone()
    return (await _with_acks(conn, [row]))[0] if row else None


async def add_employee(conn: aiosqlite.Connection, name: str, extension: str, now: str) -> Employee:
    if not name.strip() or not extension.strip():
        raise EmployeeError("an employee needs a name and an extension")
    taken = EmployeeError(f"extension {extension} already has an employee; mark them as left first")
    if await employee_for_extension(conn, extension.strip()) is not None:
        raise taken
    try:
        cur = await conn.execute(
            "INSERT INTO http_employees (name, extension, created_at) VALUES (?, ?, ?)",
            (name.strip(), extension.strip(), now),
        )
    except aiosqlite.IntegrityError:  # another process added one meanwhile
        raise taken from None
    return Employee(int(cur.lastrowid or 0), name.strip(), extension.strip(), now)


async def mark_left(conn: aiosqlite.Connection, employee_id: int, now: str) -> bool:
    """The employee no longer uses the extension; their acknowledgements stay as evidence."""
    cur = await conn.execute(
        "UPDATE http_employees SET left_at = ? WHERE id = ? AND left_at IS NULL", (now, employee_id)
    )
    return cur.rowcount > 0


async def acknowledge(
    conn: aiosqlite.Connection,
    employee_id: int,
    *,
    version: str,
    method: str,
    acknowledged_on: str,
    recorded_by: str,
    now: str,
) -> Acknowledgement:
    """Record that the employee acknowledged ``version``; a second one of the same version is refused."""
    if method not in METHODS:
        raise EmployeeError(f"method must be one of {', '.join(METHODS)}")
    try:
        await conn.execute(
            "INSERT INTO http_employee_acks (employee_id, notice_version, method, acknowledged_on, "
            "recorded_by, recorded_at) VALUES (?, ?, ?, ?, ?, ?)",
            (employee_id, version, method, acknowledged_on, recorded_by, now),
        )
    except aiosqlite.IntegrityError:
        raise EmployeeError(f"notice {version} is already acknowledged") from None
    return Acknowledgement(version, method, acknowledged_on, recorded_by, now)


async def acknowledged_extensions(conn: aiosqlite.Connection) -> dict[str, set[str]]:
    """Extension → the notice versions its *active* employee acknowledged (the hub's cache)."""
    out: dict[str, set[str]] = {}
    async with conn.execute(
        "SELECT e.extension, a.notice_version FROM http_employees e "
        "JOIN http_employee_acks a ON a.employee_id = e.id WHERE e.left_at IS NULL"
    ) as cur:
        for ext, version in await cur.fetchall():
            out.setdefault(ext, set()).add(version)
    return out


_LISTEN_COLS = "a.seq, a.at, a.user, a.action, a.call_id"
_LISTENED = "a.action IN ('playback', 'download')"


async def listens(conn: aiosqlite.Connection, extension: str, *, limit: int = 200) -> list[dict[str, Any]]:
    """Who played or downloaded calls ``extension`` took part in, newest first (no addresses:
    the employee learns who and when, not from where).  Needs the SQLite store's
    ``call_extensions`` beside the audit log; see :func:`listens_of_calls` otherwise."""
    async with conn.execute(
        f"SELECT {_LISTEN_COLS} FROM http_audit a WHERE {_LISTENED} "
        "AND a.call_id IN (SELECT call_id FROM call_extensions WHERE extension = ?) "
        "ORDER BY a.seq DESC LIMIT ?",
        (extension, limit),
    ) as cur:
        return [dict(r) for r in await cur.fetchall()]


async def listens_of_calls(
    conn: aiosqlite.Connection, call_ids: list[str], *, limit: int = 200
) -> list[dict[str, Any]]:
    """The same for calls listed by the store itself (a store that is not this SQLite file)."""
    out: list[dict[str, Any]] = []
    for start in range(0, len(call_ids), 500):
        chunk = call_ids[start : start + 500]
        marks = ", ".join("?" for _ in chunk)
        async with conn.execute(
            f"SELECT {_LISTEN_COLS} FROM http_audit a WHERE {_LISTENED} AND a.call_id IN ({marks}) "
            "ORDER BY a.seq DESC LIMIT ?",
            (*chunk, limit),
        ) as cur:
            out += [dict(r) for r in await cur.fetchall()]
    out.sort(key=lambda r: r["seq"], reverse=True)
    return out[:limit]
