"""The box being moved, read straight from its SQLite file (opened read-only, never changed).

The box is stopped (the engine holds its data lock exclusively), so these reads see a file
nobody writes.  Rows come back ordered by their key, which is what the progress marker
remembers: "everything up to this key is done".
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, TypeVar

from salvesti.backup.deletions import DeletionRow, sqlite_deletions
from salvesti.backup.sqlite_copy import rows
from salvesti.core.call import Call

__all__ = ["AuditRow", "DeletionRow", "Items", "SourceBox", "TokenRow", "UserRow"]

#: What the box may hold that this migration does not move (the cluster has no place for it
#: yet, or it is the box's own), with what to say about it.
LEFT_BEHIND = {
    "http_subject_requests": "GDPR subject request(s) (open ones keep their deadline: note them)",
    "http_employees": "employee register entries",
    "analysis_results": "analysis result(s) (salvesti analysis run in the cluster redoes them)",
    "webhook_outbox": "webhook deliveries still waiting",
}

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)
_PAGE = 500


class Items(Protocol[T_co]):
    """A phase's items in key order: how many, and those after the first ``start``."""

    def __len__(self) -> int: ...

    def after(self, start: int) -> Iterable[T_co]: ...


class Listed(list[T]):
    """Items small enough to hold in memory (users, tokens, the deletion log)."""

    def after(self, start: int) -> Iterable[T]:
        return self[start:]


@dataclass(frozen=True)
class CallPages:
    """The calls, read a page at a time by id (keyset), so a box of a million calls fits in memory."""

    path: Path

    def __len__(self) -> int:
        found = rows(self.path, "SELECT count(*) FROM calls")
        return int(str(found[0][0])) if found else 0

    def after(self, start: int) -> Iterator[Call]:
        last = ""
        if start > 0:
            found = rows(self.path, "SELECT id FROM calls ORDER BY id LIMIT 1 OFFSET ?", (start - 1,))
            if not found:
                return
            last = str(found[0][0])
        while page := rows(
            self.path, "SELECT id, data FROM calls WHERE id > ? ORDER BY id LIMIT ?", (last, _PAGE)
        ):
            for _, data in page:
                yield Call.from_json(json.loads(str(data)))
            last = str(page[-1][0])


@dataclass(frozen=True)
class UserRow:
    id: int
    name: str
    role: str
    extension: str | None
    password_hash: str
    disabled: bool
    created_at: str


@dataclass(frozen=True)
class TokenRow:
    """A token by its hash (the token itself was never stored) and its user's *name*: ids differ."""

    id: int
    user: str
    name: str
    role: str
    token_hash: str
    created_at: str
    last_used_at: str | None
    revoked_at: str | None


@dataclass(frozen=True)
class AuditRow:
    seq: int
    at: str
    user: str | None
    action: str
    call_id: str | None
    source_addr: str | None
    detail: str
    prev_hash: str
    hash: str

    def values(self) -> tuple[object, ...]:
        return (
            self.seq, self.at, self.user, self.action, self.call_id, self.source_addr,
            self.detail, self.prev_hash, self.hash,
        )  # fmt: skip


def _opt(value: object) -> str | None:
    return None if value is None else str(value)


@dataclass(frozen=True)
class SourceBox:
    """The store file of a stopped box (calls, deletions and the HTTP plugin's tables)."""

    path: Path

    def calls(self) -> CallPages:
        return CallPages(self.path)

    def users(self) -> Listed[UserRow]:
        sql = (
            "SELECT id, name, role, extension, password_hash, disabled, created_at"
            " FROM http_users ORDER BY id"
        )
        return Listed(
            UserRow(int(str(i)), str(n), str(r), _opt(e), str(h), bool(d), str(c))
            for i, n, r, e, h, d, c in rows(self.path, sql)
        )

    def tokens(self) -> Listed[TokenRow]:
        sql = (
            "SELECT t.id, u.name, t.name, t.role, t.token_hash, t.created_at, t.last_used_at, t.revoked_at"
            " FROM http_tokens t JOIN http_users u ON u.id = t.user_id ORDER BY t.id"
        )
        return Listed(
            TokenRow(int(str(i)), str(u), str(n), str(r), str(h), str(c), _opt(lu), _opt(rv))
            for i, u, n, r, h, c, lu, rv in rows(self.path, sql)
        )

    def audit(self) -> list[AuditRow]:
        sql = (
            "SELECT seq, at, user, action, call_id, source_addr, detail, prev_hash, hash"
            " FROM http_audit ORDER BY seq"
        )
        return [
            AuditRow(int(str(s)), str(a), _opt(u), str(ac), _opt(c), _opt(sa), str(d), str(p), str(h))
            for s, a, u, ac, c, sa, d, p, h in rows(self.path, sql)
        ]

    def left_behind(self) -> list[str]:
        """One line per kind of data the box holds and the migration leaves on it."""
        out = []
        for table, what in LEFT_BEHIND.items():
            found = rows(self.path, f"SELECT count(*) FROM {table}")
            if found and int(str(found[0][0])):
                out.append(f"{found[0][0]} {what} stay on the box ({table})")
        return out

    def deletions(self) -> Listed[DeletionRow]:
        return Listed(sqlite_deletions(self.path))


def data_keys(keys_db: Path) -> list[tuple[str, str, bytes]]:
    """The wrapped data keys (call id, master key id, wrapped key) of a ``keys.db``."""
    if not keys_db.exists():
        return []
    found = rows(keys_db, "SELECT call_id, master_id, wrapped FROM data_keys ORDER BY call_id")
    return [(str(c), str(m), bytes(w)) for c, m, w in found]  # type: ignore[arg-type]
