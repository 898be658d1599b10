"""The webhook outbox on one PostgreSQL store shared by two nodes: each delivery sent once.

Both nodes' senders look at the whole table; what one claims (``FOR UPDATE SKIP LOCKED`` and a
lease) the other passes by.  Real PostgreSQL, a real aiohttp receiver on loopback, the hubs'
clocks fake (the lease and the backoff move when the test says so; no sleeping).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from test_webhook import T0, FakeClock, Receiver, ended_call, start_hub

from salvesti.integrations.webhook.outbox_postgresql import CLAIM_LIMIT, PgOutbox
from salvesti.plugins.store_postgresql import PostgresStore
from salvesti.testing import postgres

pytestmark = pytest.mark.timeout(60)


@pytest.fixture(scope="module")
def dsn() -> Iterator[str]:
    """One database for the module (the tests use distinct hooks)."""
    with postgres.temporary_database("salvesti_webhook") as url:
        yield url


@pytest.fixture
async def outboxes(dsn: str, request: pytest.FixtureRequest) -> AsyncIterator[tuple[PgOutbox, PgOutbox]]:
    """Two nodes' outboxes of one hook (named after the test), each on its own store's pool."""
    hook = request.node.name[-40:]
    stores = [PostgresStore(dsn, pool_size=2), PostgresStore(dsn, pool_size=2)]
    await asyncio.gather(*(s.async_setup() for s in stores))
    try:
        yield PgOutbox(stores[0].pool, hook, lease_s=120), PgOutbox(stores[1].pool, hook, lease_s=120)
    finally:
        await asyncio.gather(*(s.async_unload() for s in stores))


async def test_two_senders_claim_disjoint_deliveries(outboxes):
    a, b = outboxes
    now = T0.timestamp()
    ids = [await a.add("call_ended", f"body {n}".encode(), now) for n in range(3 * CLAIM_LIMIT)]
    sent: dict[str, list[int]] = {"a": [], "b": []}

    async def drain(name: str, box: PgOutbox) -> None:
        while batch := await box.due(now):
            for delivery in batch:
                sent[name].append(delivery.id)
                await box.delivered(delivery)

    await asyncio.gather(drain("a", a), drain("b", b))
    assert sent["a"] and sent["b"]  # both took part (their first claims ran at once)
    assert sorted(sent["a"] + sent["b"]) == ids  # and no delivery went out twice
    assert await a.pending() == []


async def test_a_claim_lasts_its_lease_then_any_node_sends_it(outboxes):
    """Node A claims and dies mid-delivery: B leaves the row alone until the lease ends."""
    a, b = outboxes
    now = T0.timestamp()
    row = await a.add("call_ended", b"{}", now)
    assert [d.id for d in await a.due(now)] == [row]
    assert await b.due(now + 1) == []
    assert await b.next_at() == now + 120
    (again,) = await b.due(now + 121)
    assert (again.id, again.attempts) == (row, 0)
    assert await b.failed(again, "HTTP 500", now + 121) == now + 121 + 15  # the backoff ends it
    assert (await a.pending())[0]["last_error"] == "HTTP 500"


async def test_two_hubs_on_one_store_deliver_each_call_once(tmp_path: Path, dsn: str):
    receiver = Receiver([])
    await receiver.start()
    store = {"platform": "postgresql", "dsn": dsn, "pool_size": 2}
    clock = FakeClock()
    hubs = []
    try:
        for name in ("box-a", "box-b"):
            (tmp_path / name).mkdir()
            hubs.append(await start_hub(tmp_path / name, receiver.url, clock, ["call_ended"], store=store))
        assert all(isinstance(h.integrations["crm"].outbox, PgOutbox) for h in hubs)
        first, second = ended_call(), ended_call()
        second.id = second.id[:-2] + "b2"
        await hubs[0].call_ended(first)
        await hubs[1].call_ended(second)
        for hub in hubs:
            await hub.bus.drain()
            hub.integrations["crm"].kick()
        await receiver.wait_for(2)
        for _ in range(200):  # the 200s are answered before the rows are deleted
            if not await hubs[0].integrations["crm"].outbox.pending():
                break
            await asyncio.sleep(0.01)
        assert await hubs[1].integrations["crm"].outbox.pending() == []
        for hub in hubs:  # both senders look again: nothing is left to send
            hub.integrations["crm"].kick()
        await asyncio.gather(*(h.bus.drain() for h in hubs))
        delivered = sorted(h["X-Salvesti-Delivery"] for h, _body in receiver.got)
        assert len(delivered) == 2 and len(set(delivered)) == 2, delivered
    finally:
        for hub in hubs:
            await hub.async_stop(call_timeout=0)
        assert receiver.runner is not None
        await receiver.runner.cleanup()
