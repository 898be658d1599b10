"""The employee notice register and the data subject requests: one interface, two backends.

Routes, the hub's in-memory register (employee_register.py) and the command line call
:class:`RegisterDb`; each accounts backend hands out the register on its own connection or
pool (``AccountsDb.register()``), so the register lives wherever the users live: the SQLite
file (employees_db.py, subject_requests.py) or the PostgreSQL database that several nodes
share (register_postgresql.py).  Both return the same values; one test suite runs on both.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Protocol

import aiosqlite

from salvesti.plugins.http import employees_db, subject_requests
from salvesti.plugins.http.employees_db import Acknowledgement, Employee
from salvesti.plugins.http.subject_requests import SubjectRequest

__all__ = ["RegisterDb", "SqliteRegister"]


class RegisterDb(Protocol):
    """Employees with their acknowledgements (evidence: never edited or deleted), and subject
    requests with their one-month deadline.  Refusals raise ``EmployeeError``."""

    # -- employees -------------------------------------------------------------------------------
    async def list_employees(self, *, include_left: bool = False) -> list[Employee]:
        """By extension, then as added."""

    async def get_employee(self, employee_id: int) -> Employee | None: ...

    async def employee_for_extension(self, extension: str) -> Employee | None:
        """The active employee on ``extension``."""

    async def add_employee(self, name: str, extension: str, now: str) -> Employee:
        """Refused when the extension already has an active employee (on any node)."""

    async def mark_left(self, employee_id: int, now: str) -> bool: ...

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
        """Refused for an unknown method or a version already acknowledged."""

    async def acknowledged_extensions(self) -> dict[str, set[str]]:
        """Extension → the notice versions its active employee acknowledged."""

    async def listens(self, extension: str, *, limit: int = 200) -> list[dict[str, Any]] | None:
        """Playbacks and downloads of calls ``extension`` took part in, newest first; None when
        the calls are not in this database (then ask :meth:`listens_of_calls`)."""

    async def listens_of_calls(self, call_ids: list[str], *, limit: int = 200) -> list[dict[str, Any]]: ...

    # -- subject requests ------------------------------------------------------------------------
    async def log_request(
        self, kind: str, number: str, received: date, *, by: str, now: str
    ) -> SubjectRequest: ...

    async def open_requests(self, kind: str, number: str) -> list[SubjectRequest]: ...

    async def close_requests(self, kind: str, number: str, *, outcome: str, now: str) -> int:
        """Close the open ``kind`` requests of ``number``; an erasure masks the number everywhere."""

    async def list_requests(self, *, include_closed: bool = False) -> list[SubjectRequest]:
        """Open requests by deadline; with ``include_closed`` the closed ones after."""


class SqliteRegister:
    """:class:`RegisterDb` on the SQLite accounts connection (the functions of employees_db.py
    and subject_requests.py)."""

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self.conn = conn

    async def list_employees(self, *, include_left: bool = False) -> list[Employee]:
        return await employees_db.list_employees(self.conn, include_left=include_left)

    async def get_employee(self, employee_id: int) -> Employee | None:
        return await employees_db.get_employee(self.conn, employee_id)

    async def employee_for_extension(self, extension: str) -> Employee | None:
        return await employees_db.employee_for_extension(self.conn, extension)

    async def add_employee(self, name: str, extension: str, now: str) -> Employee:
        return await employees_db.add_employee(self.conn, name, extension, now)

    async def mark_left(self, employee_id: int, now: str) -> bool:
        return await employees_db.mark_left(self.conn, employee_id, now)

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
        return await employees_db.acknowledge(
            self.conn,
            employee_id,
            version=version,
            method=method,
            acknowledged_on=acknowledged_on,
            recorded_by=recorded_by,
            now=now,
        )

    async def acknowledged_extensions(self) -> dict[str, set[str]]:
        return await employees_db.acknowledged_extensions(self.conn)

    async def listens(self, extension: str, *, limit: int = 200) -> list[dict[str, Any]] | None:
        import sqlite3

        try:
            return await employees_db.listens(self.conn, extension, limit=limit)
        except sqlite3.OperationalError:  # no call tables in this file: the calls are elsewhere
            return None

    async def listens_of_calls(self, call_ids: list[str], *, limit: int = 200) -> list[dict[str, Any]]:
        return await employees_db.listens_of_calls(self.conn, call_ids, limit=limit)

    async def log_request(
        self, kind: str, number: str, received: date, *, by: str, now: str
    ) -> SubjectRequest:
        return await subject_requests.log_request(self.conn, kind, number, received, by=by, now=now)

    async def open_requests(self, kind: str, number: str) -> list[SubjectRequest]:
        return await subject_requests.open_requests(self.conn, kind, number)

    async def close_requests(self, kind: str, number: str, *, outcome: str, now: str) -> int:
        return await subject_requests.close_requests(self.conn, kind, number, outcome=outcome, now=now)

    async def list_requests(self, *, include_closed: bool = False) -> list[SubjectRequest]:
        return await subject_requests.list_requests(self.conn, include_closed=include_closed)
