"""The store's analysis protocol (``store.analysis``), run against SQLite and PostgreSQL: the
queue, results, transcript search, flags, Insights rows, and derived data going with the
recording.  The ``store`` fixture is the shared suite's, so both backends answer alike."""

from __future__ import annotations

import asyncio
import socket
from datetime import UTC, datetime, timedelta

from test_store_shared import T0, TZ, make_call, pg_dsn, store  # noqa: F401  (fixtures)

from salvesti.core.components import CallQuery
from salvesti.plugins.store_postgresql import PostgresStore

HOST = socket.gethostname()


def line(channel: str, start: float, text: str) -> dict:
    return {"channel": channel, "start_s": start, "end_s": start + 2, "text": text, "words": []}


async def analysed(store, call, lines, terms=(), flags=(), result=None) -> None:  # noqa: F811
    await store.save_call(call)
    await store.analysis.enqueue(call.id)
    assert await store.analysis.save_result(call.id, result or {"talk": {}}, lines, set(terms), set(flags))


async def ids(store, **kw) -> list[str]:  # noqa: F811
    return sorted(c.id for c in await store.list_calls(CallQuery(limit=0, **kw)))


async def test_words_phrases_and_prefixes_find_exactly_the_right_calls(store):  # noqa: F811
    await analysed(store, make_call(1), [line("agent", 1, "See kõne salvestatakse. Hind on hea.")])
    await analysed(store, make_call(2), [line("outside", 1, "The price is good, any discount?")])
    await analysed(store, make_call(3), [line("outside", 1, "Is it good? The price, yes.")])
    await store.save_call(make_call(4))
    assert await ids(store, q="salvest*") == ["c001"]
    assert await ids(store, q="price good") == ["c002", "c003"]  # both words, any order
    assert await ids(store, q='"price is good"') == ["c002"]  # the phrase, in order
    assert await ids(store, q="discount") == ["c002"]
    assert await ids(store, q='"') == []  # search syntax in the input is never an error
    assert await ids(store, q="AND OR NOT (") == []
    assert await ids(store, q="it's & | ! <-> :*") == []
    hits = await store.analysis.transcript_hits("discount", ["c002", "c003"])
    assert list(hits) == ["c002"]
    assert hits["c002"]["channel"] == "outside" and hits["c002"]["start_s"] == 1
    assert "«discount»" in hits["c002"]["snippet"]


async def test_diacritics_fold_so_a_word_typed_without_them_matches(store):  # noqa: F811
    await analysed(store, make_call(1), [line("agent", 1, "Tänan, et helistasite")])
    assert await ids(store, q="tanan") == ["c001"]
    assert await ids(store, q="TÄNAN") == ["c001"]
    hits = await store.analysis.transcript_hits("tanan", ["c001"])
    assert hits["c001"]["snippet"].startswith("«Tänan»")  # marked although typed without diacritics


async def test_a_snippet_is_the_words_around_the_match(store):  # noqa: F811
    text = "Tere. " + " ".join(f"sõna{i}" for i in range(40)) + " allahindlus on võimalik"
    await analysed(store, make_call(1), [line("agent", 1, text)])
    snippet = (await store.analysis.transcript_hits("allahind*", ["c001"]))["c001"]["snippet"]
    assert snippet.startswith("…") and "«allahindlus» on võimalik" in snippet
    assert len(snippet.split()) <= 16


async def test_flag_filter_and_badges(store):  # noqa: F811
    await analysed(store, make_call(1), [], flags={"notice_unverified"})
    await analysed(store, make_call(2), [], flags={"card_data", "Zeta"})
    await store.save_call(make_call(3))
    await store.analysis.enqueue("c003")
    assert await ids(store, flag="notice_unverified") == ["c001"]
    badges = await store.analysis.summaries(["c001", "c002", "c003", "nope"])
    assert badges == {
        "c001": {"status": "done", "flags": ["notice_unverified"]},
        "c002": {"status": "done", "flags": ["Zeta", "card_data"]},  # bytewise, as SQLite sorts
        "c003": {"status": "queued", "flags": []},
    }


async def test_result_round_trips_with_its_transcript(store):  # noqa: F811
    lines = [line("outside", 3, "teine"), {**line("agent", 1, "esimene"), "words": [["esimene", 1, 1.5]]}]
    await analysed(store, make_call(1), lines, result={"talk": {"agent_share": 0.5}, "flags": []})
    result = await store.analysis.get_result("c001")
    assert result["talk"] == {"agent_share": 0.5}
    assert [(x["channel"], x["start_s"], x["text"]) for x in result["transcript"]] == [
        ("agent", 1, "esimene"),
        ("outside", 3, "teine"),
    ]
    assert result["transcript"][0]["words"] == [["esimene", 1, 1.5]]
    assert await store.analysis.get_result("nope") is None
    # analysed again: the old lines go, so nothing is found twice
    assert await store.analysis.save_result("c001", {}, [line("agent", 1, "kolmas")], set(), set())
    assert [x["text"] for x in (await store.analysis.get_result("c001"))["transcript"]] == ["kolmas"]
    assert await ids(store, q="esimene") == []


async def test_deleted_recording_takes_transcript_index_and_terms_with_it(store):  # noqa: F811
    call = make_call(1)
    await analysed(store, call, [line("agent", 1, "hind allahindlus")], terms={"hind"}, flags={"x"})
    call.recording.status = "deleted"  # what retention, erasure and manual deletion do
    await store.save_call(call)
    assert await store.analysis.get_result(call.id) is None
    assert await store.analysis.job_status(call.id) is None
    assert await store.analysis.terms_of([call.id]) == {call.id: set()}
    assert await ids(store, q="allahindlus") == []
    assert await ids(store, flag="x") == []
    log = await store.list_deletions(call_id=call.id)
    assert [d["what"] for d in log] == ["analysis"]
    await store.save_call(call)  # saved again while deleted: nothing more to forget, no new entry
    assert len(await store.list_deletions(call_id=call.id)) == 1


async def test_result_arriving_after_the_recording_was_deleted_is_dropped(store):  # noqa: F811
    call = make_call(1)
    await store.save_call(call)
    await store.analysis.enqueue(call.id)
    call.recording.status = "deleted"
    await store.save_call(call)
    assert not await store.analysis.save_result(call.id, {}, [line("agent", 1, "hind")], set(), set())
    assert await store.analysis.get_result(call.id) is None
    assert not await store.analysis.save_result("nope", {}, [], set(), set())


async def test_claim_retry_fail_and_stale_release(store):  # noqa: F811
    a = store.analysis
    for n in (1, 2, 3):
        await store.save_call(make_call(n))
        assert await a.enqueue(f"c{n:03d}")
        assert not await a.enqueue(f"c{n:03d}")  # once
    assert await a.next_due() is not None
    taken = await a.claim(f"{HOST}:1", 2)
    assert [c for c, _ in taken] == ["c001", "c002"]
    assert [c for c, _ in await a.claim(f"{HOST}:2", 5)] == ["c003"]
    assert await a.claim(f"{HOST}:2", 5) == []
    assert await a.next_due() is None  # nothing queued
    later = datetime.now(UTC) + timedelta(hours=1)
    await a.retry_later("c001", "boom", later)
    assert abs((await a.next_due()) - later) < timedelta(milliseconds=1)
    await a.fail("c002", "the recording file is missing")
    assert await a.claim(f"{HOST}:3", 5) == []  # c001 is not due yet
    assert await a.release_stale(lambda who: who == f"{HOST}:2") == 0  # host:2 still runs
    assert await a.release_stale(lambda who: False) == 1  # host:2 is gone: c003 back
    summary = await a.queue_summary()
    assert summary["counts"] == {"queued": 2, "running": 0, "done": 0, "failed": 1}
    assert summary["retrying"] == 1
    assert summary["oldest_queued"].endswith("Z")
    assert summary["failures"] == [
        {"call_id": "c002", "error": "the recording file is missing", "attempts": 1}
    ]
    status = await a.job_status("c002")
    assert status["status"] == "failed" and status["finished_at"].endswith("Z")
    assert await a.requeue_failed() == 1
    assert (await a.job_status("c002"))["status"] == "queued"
    assert await a.enqueue("c002", force=True)
    assert sorted(await a.claim(f"{HOST}:4", 5)) == [("c002", 0), ("c003", 0)]  # c001 not due
    assert not await a.enqueue("c002", force=True)  # running: never queued under the worker
    await a.requeue(["c002"])
    assert (await a.job_status("c002"))["status"] == "queued"


async def test_insights_rows_follow_the_query_and_the_outcome(store):  # noqa: F811
    won = make_call(1, outcome="won")
    other_line = make_call(2, outcome="lost", line="+3726000001")
    await analysed(store, won, [], terms={"hind", "tracker:price"}, result={"talk": {"agent_share": 0.4}})
    await analysed(store, other_line, [], terms={"hind"})
    await analysed(store, make_call(3), [])  # no outcome: not counted
    rows = await store.analysis.analysed_with_outcome(CallQuery(limit=0))
    assert [(r.call_id, r.outcome) for r in rows] == [("c001", "won"), ("c002", "lost")]
    assert rows[0].started_at == T0 + timedelta(minutes=1)
    assert rows[0].result == {"talk": {"agent_share": 0.4}}
    rows = await store.analysis.analysed_with_outcome(CallQuery(line="+3726000001", limit=0))
    assert [r.call_id for r in rows] == ["c002"]
    since = await store.analysis.analysed_with_outcome(CallQuery(since=T0 + timedelta(minutes=2), limit=0))
    assert [r.call_id for r in since] == ["c002"]
    assert await store.analysis.terms_of(["c001", "c002"]) == {
        "c001": {"hind", "tracker:price"},
        "c002": {"hind"},
    }
    assert TZ  # the fixture's zone: started_at compares as an aware time whatever the backend


async def test_two_nodes_claiming_at_once_never_take_one_job_twice(pg_dsn):  # noqa: F811
    """Two stores (two pools, as two nodes have) claim from one queue at the same moment."""
    from salvesti.testing import postgres

    await postgres.truncate(pg_dsn)
    async with PostgresStore(pg_dsn, tz=TZ, pool_size=4) as a, PostgresStore(pg_dsn, tz=TZ, pool_size=4) as b:
        for n in range(40):
            await a.save_call(make_call(n))
            await a.analysis.enqueue(f"c{n:03d}")
        batches = await asyncio.gather(
            *[node.analysis.claim(f"{HOST}:{i}", 3) for i, node in enumerate([a, b] * 10)]
        )
        taken = [call_id for batch in batches for call_id, _ in batch]
        assert len(taken) == len(set(taken)) == 40
        assert (await b.analysis.queue_summary())["counts"]["running"] == 40
        assert await a.analysis.claim(f"{HOST}:99", 5) == []
        # another host's claim is not released here: only that host can tell its process is gone
        await a.analysis.requeue(["c000"])
        assert [c for c, _ in await a.analysis.claim("elsewhere:1", 1)] == ["c000"]
        assert await b.analysis.release_stale(lambda who: False) == 39  # this host's only
        assert (await b.analysis.job_status("c000"))["status"] == "running"
