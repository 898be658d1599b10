"""``/metrics`` asks the store at scrape time: queue lengths (analysis, a failing webhook, the s3
spool), store latency, and the oldest recording against its retention rule, on a fake clock;
a dead store leaves those samples out (logged once) and the page still answers 200."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import aiohttp
import pytest
from aiohttp import web
from http_env import Env, make_call, start_env
from test_http_metrics import samples

from salvesti.core.components import CallQuery
from salvesti.plugins.http.metrics_scrape import AGES_TTL_S

TZ = ZoneInfo("Europe/Tallinn")
NOW = datetime(2027, 3, 1, 12, 0, tzinfo=TZ)
DAY = 86400.0


@dataclass
class Clocks:
    """The hub's wall clock and monotonic clock, moved only by the test."""

    at: datetime = NOW
    mono: float = 1000.0

    def now(self) -> datetime:
        return self.at

    def monotonic(self) -> float:
        return self.mono


async def failing_receiver() -> tuple[web.AppRunner, str]:
    """A webhook receiver on loopback that answers every delivery 500."""
    app = web.Application()

    async def refuse(request: web.Request) -> web.Response:
        return web.Response(status=500)

    app.router.add_post("/hook", refuse)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    return runner, f"http://127.0.0.1:{port}/hook"


@pytest.fixture
async def box(tmp_path: Path) -> AsyncIterator[tuple[Env, aiohttp.ClientSession, Clocks]]:
    """A hub with a 1-day retention rule and a webhook whose receiver always fails."""
    runner, url = await failing_receiver()
    hook = {"platform": "webhook", "id": "crm", "url": url, "secret": "s" * 32, "events": ["call_ended"]}
    hook |= {"timeout_s": 5.0}
    config = {"integrations": [hook], "retention": [{"platform": "max_age", "id": "short", "days": 1}]}
    env = await start_env(tmp_path, config=config, metrics_from=["127.0.0.1"])
    clocks = Clocks()
    env.hub.now = clocks.now  # type: ignore[method-assign]
    env.hub.monotonic = clocks.monotonic  # type: ignore[method-assign]
    try:
        async with aiohttp.ClientSession(env.url) as session:
            yield env, session, clocks
    finally:
        await env.hub.async_stop(call_timeout=0.1)
        await runner.cleanup()


def queue(name: str) -> tuple[str, tuple]:
    return ("salvesti_queue_length", (("queue", name),))


async def test_queue_lengths_move_with_an_analysis_job_and_a_failing_delivery(box):
    env, http, _ = box
    hub = env.hub
    before = await samples(http)
    assert before[queue("analysis_pending")] == 0 and before[queue("analysis_running")] == 0
    assert before[queue("webhook:crm")] == 0
    (first, *_) = await hub.store.list_calls(CallQuery(limit=1))
    assert await hub.store.analysis.enqueue(first.id)
    await hub.call_ended(
        make_call(Path(hub.data_dir) / "recordings" / "q", 30, ext="101", number="+3725559000")
    )
    await hub.bus.drain()
    for _ in range(300):  # the outbox write is a task of its own: wait for it, bounded
        after = await samples(http)
        if after[queue("webhook:crm")]:
            break
        await asyncio.sleep(0.01)
    assert after[queue("analysis_pending")] == 1
    assert after[queue("webhook:crm")] == 1  # answered 500: kept for the retry


async def test_store_latency_is_observed_at_each_scrape(box):
    _, http, _ = box
    count = ("salvesti_store_latency_seconds_count", ())
    first = (await samples(http))[count]
    second = await samples(http)
    assert second[count] == first + 1
    assert second[("salvesti_store_latency_seconds_bucket", (("le", "+Inf"),))] == second[count]


async def test_an_old_recording_shows_against_its_rule_and_the_ages_are_cached(box):
    env, http, clocks = box
    hub = env.hub
    rec = Path(hub.data_dir) / "recordings" / "old"
    call = make_call(rec, 40, ext="101", number="+3725559000")
    call.ended_at = NOW - timedelta(days=3)
    call.set_delete_after(1, "short")
    await hub.store.save_call(call)
    got = await samples(http)
    rule = (("rule", "short"),)
    assert got[("salvesti_retention_max_age_seconds", rule)] == DAY
    assert got[("salvesti_oldest_recording_age_seconds", rule)] == 3 * DAY  # outlived its rule
    clocks.at += timedelta(hours=1)
    older = make_call(rec, 41, ext="101", number="+3725559001")
    older.ended_at = NOW - timedelta(days=5)
    older.set_delete_after(1, "short")
    await hub.store.save_call(older)
    cached = await samples(http)  # the same oldest call (cached), one hour older
    assert cached[("salvesti_oldest_recording_age_seconds", rule)] == 3 * DAY + 3600
    clocks.mono += AGES_TTL_S
    fresh = await samples(http)
    assert fresh[("salvesti_oldest_recording_age_seconds", rule)] == 5 * DAY + 3600


async def test_a_dead_store_leaves_its_samples_out_and_is_logged_once(box, caplog):
    env, http, _ = box
    hub = env.hub
    assert ("salvesti_queue_length", (("queue", "analysis_pending"),)) in await samples(http)
    await hub.store.db.close()  # the real connection gone: every query raises
    caplog.set_level(logging.WARNING, logger="salvesti.plugins.http.metrics_scrape")
    for _ in range(2):
        got = await samples(http)  # still 200
        assert not any(name == "salvesti_queue_length" for name, _ in got if name)
        assert ("salvesti_retention_max_age_seconds", (("rule", "short"),)) in got
    # once per part, not per scrape (the recording ages are still within their cache time)
    lines = [r.getMessage() for r in caplog.records if "unavailable" in r.getMessage()]
    assert sorted(line.split(" unavailable")[0] for line in lines) == [
        "metrics: analysis queue",
        "metrics: store ping",
        "metrics: webhook:crm",
    ]


class StuckQueue:
    """A queue whose count never comes (a hung backend): the deadline must cut it off."""

    queue_name = "stuck"

    async def queue_length(self) -> int:
        await asyncio.Event().wait()
        return 0


async def test_a_part_that_never_answers_is_cut_off_at_the_deadline(box):
    env, http, _ = box
    env.hub.integrations["stuck"] = StuckQueue()
    env.hub.integrations["http"].metrics.probe.deadline_s = 0.05
    got = await samples(http)
    assert queue("stuck") not in got
    assert got[queue("analysis_pending")] == 0  # the other parts still answer
