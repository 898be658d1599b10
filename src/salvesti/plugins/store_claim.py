"""A call held by one worker while it acts on it: the SQLite store's side of ``claim_call``.

The retention sweep deletes a recording only under a claim, so two sweeps (two nodes, or the
hourly one and ``salvesti retention sweep``) cannot both delete it and log it twice.  On
PostgreSQL the claim is a row lock taken with ``FOR UPDATE SKIP LOCKED``
(:mod:`.store_postgresql`); one SQLite file has one writer process (the data lock), so here a
claim re-reads the call and checks it is still wanted -- what the sweep always did.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Protocol

from salvesti.core.call import Call


class ClaimingStore(Protocol):
    """The plain store methods a :class:`LocalClaim` writes through."""

    async def get_call(self, call_id: str) -> Call | None: ...

    async def save_call(self, call: Call) -> None: ...

    async def log_deletion(self, call: Call, *, rule: str, reason: str, when: datetime) -> None: ...


class LocalClaim:
    """A claimed call whose writes go straight to the store (no transaction is held)."""

    def __init__(self, store: ClaimingStore, call: Call) -> None:
        self.store = store
        self.call = call

    async def save(self, call: Call) -> None:
        await self.store.save_call(call)

    async def log_deletion(self, call: Call, *, rule: str, reason: str, when: datetime) -> None:
        await self.store.log_deletion(call, rule=rule, reason=reason, when=when)


@asynccontextmanager
async def local_claim(
    store: ClaimingStore, call_id: str, still: Callable[[Call], bool]
) -> AsyncIterator[LocalClaim | None]:
    """The call as stored now if ``still(call)`` holds, else None."""
    call = await store.get_call(call_id)
    yield LocalClaim(store, call) if call is not None and still(call) else None
