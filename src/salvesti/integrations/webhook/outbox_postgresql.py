"""The webhook outbox on a PostgreSQL store: one table for every node, each delivery sent once.

Several nodes share the table, and each node's sender looks at every row of its hook, not only
the ones its own bus added.  :meth:`PgOutbox.due` therefore claims what it returns: one
statement locks the due rows with ``FOR UPDATE SKIP LOCKED`` (another node's sender passes them
by instead of waiting) and moves their ``next_at`` a lease ahead, so once the statement commits
the other nodes see them as not due.  A delivered row is deleted; a failed one gets its backoff
time instead of the lease; a node that dies mid-delivery leaves its rows to be sent by any node
when the lease ends.  Receivers that must never act twice deduplicate on ``X-Salvesti-Delivery``
(the row id): a delivery slower than its lease can still be sent again.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from salvesti.integrations.webhook.outbox import NAMESPACE, Delivery, backoff
from salvesti.plugins.store_postgresql_migrations import register_migration

if TYPE_CHECKING:
    import asyncpg

register_migration(
    NAMESPACE,
    1,
    """
    CREATE TABLE webhook_outbox (
        id BIGSERIAL PRIMARY KEY,
        hook TEXT NOT NULL,
        event TEXT NOT NULL,
        body BYTEA NOT NULL,
        created_at DOUBLE PRECISION NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        next_at DOUBLE PRECISION NOT NULL,
        last_error TEXT
    );
    CREATE INDEX webhook_outbox_due ON webhook_outbox (hook, next_at);
    """,
)

#: Rows one sender claims at a time (its lease covers sending them one after another).
CLAIM_LIMIT = 10

_CLAIM = """
UPDATE webhook_outbox SET next_at = $3 WHERE id IN (
    SELECT id FROM webhook_outbox WHERE hook = $1 AND next_at <= $2
    ORDER BY id LIMIT $4 FOR UPDATE SKIP LOCKED
) RETURNING id, event, body, attempts
"""


class PgOutbox:
    """One hook's rows in the shared ``webhook_outbox`` table."""

    def __init__(self, pool: asyncpg.Pool, hook: str, *, lease_s: float) -> None:
        self.pool = pool
        self.hook = hook
        self.lease_s = lease_s

    async def add(self, event: str, body: bytes, now: float) -> int:
        sql = (
            "INSERT INTO webhook_outbox (hook, event, body, created_at, next_at)"
            " VALUES ($1, $2, $3, $4, $4) RETURNING id"
        )
        return int(await self.pool.fetchval(sql, self.hook, event, body, now))

    async def due(self, now: float, limit: int = CLAIM_LIMIT) -> list[Delivery]:
        """Claim up to ``limit`` due deliveries for this node (``lease_s`` long), oldest first."""
        rows = await self.pool.fetch(_CLAIM, self.hook, now, now + self.lease_s, min(limit, CLAIM_LIMIT))
        found = [Delivery(int(r["id"]), str(r["event"]), bytes(r["body"]), int(r["attempts"])) for r in rows]
        return sorted(found, key=lambda d: d.id)

    async def next_at(self) -> float | None:
        """When the earliest waiting delivery is due (a claimed one: when its lease ends)."""
        value = await self.pool.fetchval("SELECT MIN(next_at) FROM webhook_outbox WHERE hook = $1", self.hook)
        return None if value is None else float(value)

    async def delivered(self, delivery: Delivery) -> None:
        await self.pool.execute("DELETE FROM webhook_outbox WHERE id = $1", delivery.id)

    async def failed(self, delivery: Delivery, error: str, now: float) -> float:
        """Count the failed attempt and schedule the next (this ends the claim); returns its time."""
        attempts = delivery.attempts + 1
        when = now + backoff(attempts)
        await self.pool.execute(
            "UPDATE webhook_outbox SET attempts = $1, next_at = $2, last_error = $3 WHERE id = $4",
            attempts, when, error[:500], delivery.id,
        )  # fmt: skip
        return when

    async def pending(self) -> list[dict[str, Any]]:
        """Every waiting delivery (for tests and diagnostics), oldest first."""
        rows = await self.pool.fetch(
            "SELECT id, event, attempts, next_at, last_error FROM webhook_outbox WHERE hook = $1 ORDER BY id",
            self.hook,
        )
        return [dict(row) for row in rows]
