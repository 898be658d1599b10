"""The webhook outbox: deliveries waiting in the store until the receiver takes them.

A delivery is written here before the first attempt and deleted only after a 2xx, so a
receiver that is down, or a restart in between, loses nothing: the next start sends what is
left.  The body is stored as the exact bytes to send (the signature is computed over them at
send time, so a changed secret applies to the backlog too).  Times are Unix seconds from the
caller's clock, which is how tests drive the backoff with a fake one.  This module is the
SQLite store's outbox; a PostgreSQL store, shared by several nodes, has :mod:`.outbox_postgresql`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from salvesti.plugins.store_sqlite_migrations import register_migration

NAMESPACE = "webhook"

register_migration(
    NAMESPACE,
    1,
    """
    CREATE TABLE webhook_outbox (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        hook TEXT NOT NULL,
        event TEXT NOT NULL,
        body BLOB NOT NULL,
        created_at REAL NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        next_at REAL NOT NULL,
        last_error TEXT
    );
    CREATE INDEX webhook_outbox_due ON webhook_outbox (hook, next_at);
    """,
)

#: Seconds before retry n (1-based): the first within a minute, then slower, capped at an hour.
BACKOFF = (15.0, 60.0, 300.0, 900.0, 3600.0)


def backoff(attempts: int) -> float:
    """Delay after the ``attempts``-th failed attempt."""
    return BACKOFF[min(max(attempts, 1), len(BACKOFF)) - 1]


@dataclass(frozen=True)
class Delivery:
    id: int
    event: str
    body: bytes
    attempts: int


class WebhookOutbox(Protocol):
    """What the sender needs of an outbox: :class:`Outbox` (SQLite) or ``PgOutbox`` (PostgreSQL)."""

    async def add(self, event: str, body: bytes, now: float) -> int: ...

    async def due(self, now: float) -> list[Delivery]: ...

    async def next_at(self) -> float | None: ...

    async def delivered(self, delivery: Delivery) -> None: ...

    async def failed(self, delivery: Delivery, error: str, now: float) -> float: ...

    async def pending(self) -> list[dict[str, Any]]: ...


class Outbox:
    """One hook's rows in ``webhook_outbox``, through the store's connection and write lock."""

    def __init__(self, store: Any, hook: str) -> None:
        if not hasattr(store, "write") or not hasattr(store, "db"):
            raise TypeError("the webhook integration keeps its outbox in the sqlite store")
        self.store = store
        self.hook = hook

    async def add(self, event: str, body: bytes, now: float) -> int:
        async with self.store.write() as db:
            cursor = await db.execute(
                "INSERT INTO webhook_outbox (hook, event, body, created_at, next_at) VALUES (?, ?, ?, ?, ?)",
                (self.hook, event, body, now, now),
            )
            return int(cursor.lastrowid or 0)

    async def due(self, now: float, limit: int = 50) -> list[Delivery]:
        rows = await self.store.db.execute_fetchall(
            "SELECT id, event, body, attempts FROM webhook_outbox WHERE hook = ? AND next_at <= ?"
            " ORDER BY id LIMIT ?",
            (self.hook, now, limit),
        )
        return [Delivery(int(r[0]), str(r[1]), bytes(r[2]), int(r[3])) for r in rows]

    async def next_at(self) -> float | None:
        """When the earliest waiting delivery is due, None when nothing waits."""
        rows = await self.store.db.execute_fetchall(
            "SELECT MIN(next_at) FROM webhook_outbox WHERE hook = ?", (self.hook,)
        )
        value = next(iter(rows))[0]
        return None if value is None else float(value)

    async def delivered(self, delivery: Delivery) -> None:
        async with self.store.write() as db:
            await db.execute("DELETE FROM webhook_outbox WHERE id = ?", (delivery.id,))

    async def failed(self, delivery: Delivery, error: str, now: float) -> float:
        """Count the failed attempt and schedule the next; returns its time."""
        attempts = delivery.attempts + 1
        when = now + backoff(attempts)
        async with self.store.write() as db:
            await db.execute(
                "UPDATE webhook_outbox SET attempts = ?, next_at = ?, last_error = ? WHERE id = ?",
                (attempts, when, error[:500], delivery.id),
            )
        return when

    async def pending(self) -> list[dict[str, Any]]:
        """Every waiting delivery (for tests and diagnostics), oldest first."""
        rows = await self.store.db.execute_fetchall(
            "SELECT id, event, attempts, next_at, last_error FROM webhook_outbox WHERE hook = ? ORDER BY id",
            (self.hook,),
        )
        keys = ("id", "event", "attempts", "next_at", "last_error")
        return [dict(zip(keys, row, strict=True)) for row in rows]
