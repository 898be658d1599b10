"""The analysis routes through the HTTP app on both stores: a call's analysis, transcript
search in the calls list (with the matched line) and Insights answer alike on SQLite and on
PostgreSQL, where Insights once answered 500."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from http_env import Env, start_env

from salvesti.testing import postgres


@pytest.fixture(params=["sqlite", "postgresql"])
async def env(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Env]:
    store = None
    if request.param == "postgresql":
        dsn = request.getfixturevalue("pg_dsn")
        await postgres.truncate(dsn)
        store = {"platform": "postgresql", "dsn": dsn, "pool_size": 3}
    e = await start_env(tmp_path, store=store)
    try:
        yield e
    finally:
        await e.hub.async_stop(call_timeout=0.1)


def _line(channel: str, start: float, text: str) -> dict:
    return {"channel": channel, "start_s": start, "end_s": start + 2, "text": text, "words": []}


async def _analyse(env: Env, key: str, text: str, terms: set[str]) -> str:
    call = env.calls[key]
    analysis = env.hub.store.analysis
    await analysis.enqueue(call.id)
    result = {"talk": {"agent_share": 0.5, "agent_s": 30.0}, "flags": ["card_data"]}
    assert await analysis.save_result(call.id, result, [_line("outside", 4, text)], terms, {"card_data"})
    return call.id


async def test_analysis_search_and_insights_through_the_api(env):
    won = await _analyse(env, "a1_out", "Kas allahindlust saab? Hind on hea.", {"hind", "tracker:price"})
    other = await _analyse(env, "a2_in", "Palun helistage tagasi", {"tagasi"})
    async with aiohttp.ClientSession(env.url) as http:
        async with http.get(f"/api/calls/{won}/analysis", headers=env.bearer("manager")) as r:
            assert r.status == 200, await r.text()
            body = await r.json()
        assert body["status"] == "done" and body["talk"]["agent_share"] == 0.5
        assert [x["text"] for x in body["transcript"]] == ["Kas allahindlust saab? Hind on hea."]

        async with http.get("/api/calls?q=allahindlust", headers=env.bearer("manager")) as r:
            assert r.status == 200, await r.text()
            calls = (await r.json())["calls"]
        assert [c["id"] for c in calls] == [won]
        assert calls[0]["match"]["channel"] == "outside" and "«allahindlust»" in calls[0]["match"]["snippet"]
        assert calls[0]["analysis"] == {"status": "done", "flags": ["card_data"]}

        async with http.get("/api/calls?flag=card_data", headers=env.bearer("manager")) as r:
            assert sorted(c["id"] for c in (await r.json())["calls"]) == sorted([won, other])

        # an agent sees a transcript of their own extension's call only
        async with http.get(f"/api/calls/{other}/analysis", headers=env.bearer("agent1")) as r:
            assert r.status == 404

        async with http.get("/api/insights", headers=env.bearer("manager")) as r:
            assert r.status == 200, await r.text()
            insights = await r.json()
        assert insights["calls"] == 1 and insights["outcomes"] == {"won": 1, "lost": 0, "follow_up": 0}
        assert insights["talk_by_outcome"]["won"]["agent_share"] == 0.5
        assert insights["by_week"] and insights["by_week"][0]["won"] == 1

        async with http.get("/api/insights", headers=env.bearer("agent1")) as r:
            assert r.status == 403
        async with http.get("/api/insights?bogus=1", headers=env.bearer("manager")) as r:
            assert r.status == 400
