"""The calls API on real files: filters, keyset paging, changes, Range requests, waveform, deletion."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from pathlib import Path

import pytest


# Small sync helpers: test file checks are instant, no need for threads.
def exists(path: str | Path) -> bool:
    return Path(path).exists()


def read(path: str | Path) -> bytes:
    return Path(path).read_bytes()


def cached_peaks(env, call_id: str, points: str = "*") -> list[Path]:
    return list((Path(env.hub.data_dir) / "cache" / "waveforms").glob(f"{call_id}-{points}.json"))


async def _ids(http, env, query: str, who: str = "manager") -> list[str]:
    async with http.get(f"/api/calls?{query}", headers=env.bearer(who)) as r:
        assert r.status == 200, await r.text()
        return [c["id"] for c in (await r.json())["calls"]]


async def test_filters(env, http):
    c = env.calls
    assert await _ids(http, env, "direction=outbound") == [c["a1_out"].id]
    assert await _ids(http, env, "outcome=won") == [c["a1_out"].id]
    assert await _ids(http, env, "tag=vip") == [c["a1_out"].id]
    assert await _ids(http, env, "q=invoice") == [c["a2_in"].id]
    assert await _ids(http, env, "number=5552001") == [c["a2_in"].id]
    assert await _ids(http, env, "extension=101") == [c["a1_out"].id, c["a1_in"].id]
    assert await _ids(http, env, "line=%2B3726000000") == [
        c[k].id for k in ("none", "a2_in", "a1_out", "a1_in")
    ]
    since = c["a2_in"].started_at.isoformat()
    assert await _ids(http, env, f"since={since.replace('+', '%2B')}") == [c["none"].id, c["a2_in"].id]
    assert await _ids(http, env, "until=2026-11-20T09:02:30") == [c["a1_out"].id, c["a1_in"].id]


async def test_search_is_audited_with_its_filters(env, http):
    await _ids(http, env, "q=invoice")
    entries = await env.server.accounts.audit_list(action="search")
    assert entries[0]["user"] == "manager"
    assert entries[0]["detail"]["filters"] == {"q": "invoice"}


async def test_keyset_paging_walks_every_call_once(env, http):
    seen: list[str] = []
    cursor = None
    for _ in range(5):
        query = "limit=3" + (f"&cursor={cursor}" if cursor else "")
        async with http.get(f"/api/calls?{query}", headers=env.bearer("admin")) as r:
            page = await r.json()
        seen += [c["id"] for c in page["calls"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [c.id for c in reversed(list(env.calls.values()))]


@pytest.mark.parametrize(
    "query",
    [
        "direction=sideways",
        "outcome=maybe",
        "limit=0",
        "limit=501",
        "limit=x",
        "since=yesterday",
        "cursor=!!",
        "bogus=1",
    ],
)
async def test_bad_list_parameters_are_400(env, http, query):
    async with http.get(f"/api/calls?{query}", headers=env.bearer("admin")) as r:
        assert r.status == 400
        assert (await r.json())["error"]


async def test_patch_changes_and_audits_without_content(env, http):
    call = env.calls["a1_in"]
    body = {"outcome": "follow_up", "tags": ["price", "price", " callback "], "notes": "secret details"}
    async with http.patch(f"/api/calls/{call.id}", json=body, headers=env.bearer("agent1")) as r:
        assert r.status == 200, await r.text()
        got = await r.json()
    assert (
        got["outcome"] == "follow_up"
        and got["tags"] == ["price", "callback"]
        and got["notes"] == "secret details"
    )
    stored = await env.hub.store.get_call(call.id)
    assert stored.outcome == "follow_up" and stored.notes == "secret details"
    entry = (await env.server.accounts.audit_list(action="change"))[0]
    assert entry["call_id"] == call.id and entry["user"] == "agent1"
    assert "secret" not in json.dumps(entry)
    async with http.patch(f"/api/calls/{call.id}", json={"outcome": None}, headers=env.bearer("agent1")) as r:
        assert (await r.json())["outcome"] is None


@pytest.mark.parametrize(
    "body",
    [
        {"outcome": "maybe"},
        {"tags": "vip"},
        {"tags": [""]},
        {"tags": ["x" * 41]},
        {"notes": 5},
        {"legal_hold": "yes"},
        {"id": "other"},
        ["outcome"],
    ],
)
async def test_patch_rejects_bad_bodies(env, http, body):
    call = env.calls["a1_in"]
    async with http.patch(f"/api/calls/{call.id}", json=body, headers=env.bearer("admin")) as r:
        assert r.status == 400, await r.text()


async def test_patch_needs_json(env, http):
    call = env.calls["a1_in"]
    async with http.patch(f"/api/calls/{call.id}", data="outcome=won", headers=env.bearer("admin")) as r:
        assert r.status == 415


async def test_audio_range_requests(env, http):
    call = env.calls["a1_in"]
    data = read(call.recording.path)
    size = len(data)
    url = f"/api/calls/{call.id}/audio"
    hdr = env.bearer("manager")
    async with http.get(url, headers=hdr) as r:
        assert r.status == 200
        assert r.headers["Accept-Ranges"] == "bytes"
        assert r.headers["Content-Type"] == "audio/wav"
        assert await r.read() == data
    async with http.get(url, headers={**hdr, "Range": "bytes=0-99"}) as r:
        assert r.status == 206
        assert r.headers["Content-Range"] == f"bytes 0-99/{size}"
        assert await r.read() == data[:100]
    async with http.get(url, headers={**hdr, "Range": "bytes=1000-"}) as r:
        assert r.status == 206
        assert r.headers["Content-Range"] == f"bytes 1000-{size - 1}/{size}"
        assert await r.read() == data[1000:]
    async with http.get(url, headers={**hdr, "Range": "bytes=-44"}) as r:
        assert r.status == 206
        assert r.headers["Content-Range"] == f"bytes {size - 44}-{size - 1}/{size}"
        assert await r.read() == data[-44:]
    async with http.get(url, headers={**hdr, "Range": f"bytes={size + 10}-"}) as r:
        assert r.status == 416
    # The player's many Range requests are one playback entry; a download is always logged.
    playbacks = await env.server.accounts.audit_list(action="playback", call_id=call.id)
    assert len(playbacks) == 1 and playbacks[0]["user"] == "manager"
    async with http.get(url + "?download=1", headers=hdr) as r:
        assert r.status == 200
        assert r.headers["Content-Disposition"] == f'attachment; filename="{call.id}.wav"'
    assert len(await env.server.accounts.audit_list(action="download", call_id=call.id)) == 1


async def test_waveform_peaks_per_channel_and_cache(env, http):
    call = env.calls["a1_in"]
    async with http.get(f"/api/calls/{call.id}/waveform?points=40", headers=env.bearer("manager")) as r:
        assert r.status == 200
        body = await r.json()
    assert body["points"] == 40 and len(body["channels"]) == 2
    left, right = body["channels"]
    assert max(left) > 0.3
    assert max(right[:9]) == 0.0 and max(right[12:]) > 0.1  # the right channel starts after 1 s of 4 s
    assert body["duration_s"] == pytest.approx(4.0)
    assert cached_peaks(env, call.id, "40")
    async with http.get(f"/api/calls/{call.id}/waveform?points=0", headers=env.bearer("manager")) as r:
        assert r.status == 400


async def test_delete_removes_the_recording_and_logs_it(env, http):
    call = env.calls["a2_in"]
    path = Path(call.recording.path)
    async with http.get(f"/api/calls/{call.id}/waveform", headers=env.bearer("admin")) as r:
        assert r.status == 200
    async with http.delete(f"/api/calls/{call.id}", headers=env.bearer("admin")) as r:
        assert r.status == 200, await r.text()
        assert (await r.json())["recording"]["status"] == "deleted"
    assert not exists(path)
    assert not cached_peaks(env, call.id)
    stored = await env.hub.store.get_call(call.id)
    assert stored.recording.status == "deleted"
    deletions = await env.hub.store.list_deletions(call_id=call.id)
    assert deletions and deletions[0]["rule"] == "manual" and "admin" in deletions[0]["reason"]
    assert (await env.server.accounts.audit_list(action="delete"))[0]["call_id"] == call.id
    async with http.get(f"/api/calls/{call.id}/audio", headers=env.bearer("admin")) as r:
        assert r.status == 404
    async with http.delete(f"/api/calls/{call.id}", headers=env.bearer("admin")) as r:
        assert r.status == 404


async def test_legal_hold_blocks_deletion(env, http):
    call = env.calls["a1_in"]
    async with http.patch(
        f"/api/calls/{call.id}", json={"legal_hold": True}, headers=env.bearer("manager")
    ) as r:
        assert (await r.json())["retention"]["legal_hold"] is True
    async with http.delete(f"/api/calls/{call.id}", headers=env.bearer("admin")) as r:
        assert r.status == 409
    assert exists(call.recording.path)


async def test_missing_file_is_404_not_500(env, http):
    call = env.calls["none"]
    await asyncio.to_thread(Path(call.recording.path).unlink)
    for suffix in ("audio", "waveform"):
        async with http.get(f"/api/calls/{call.id}/{suffix}", headers=env.bearer("admin")) as r:
            assert r.status == 404


async def test_a_recording_in_another_nodes_spool_says_where_it_is(env, http):
    """Spooled on the node that took the call (the object store was away): not "missing"."""
    call = env.calls["none"]
    call.node = "box-b"
    call.recording.status = "spooled"
    call.recording.path = "/var/lib/salvesti/spool/bucket/elsewhere.wav"  # that node's disk
    await env.hub.store.save_call(call)
    async with http.get(f"/api/calls/{call.id}/audio", headers=env.bearer("admin")) as r:
        assert r.status == 409
        assert "spool of node box-b" in (await r.json())["error"]


async def test_call_says_where_the_notice_ends(env, http):
    call = env.calls["a1_in"]
    async with http.get(f"/api/calls/{call.id}", headers=env.bearer("manager")) as r:
        body = await r.json()
    # The notice started as the recording started and lasts 1 s (the configured file).
    assert body["notice_end_s"] == pytest.approx(1.0)


async def test_notes_taken_during_a_call_survive_its_end(env, http):
    """The source saves its own copy of the call when it ends; the agent's notes must stay."""
    live = env.calls["a1_in"]
    live.ended_at = None
    await env.hub.store.save_call(live)
    body = {"notes": "customer wants fibre", "tags": ["fibre"], "outcome": "won"}
    async with http.patch(f"/api/calls/{live.id}", json=body, headers=env.bearer("agent1")) as r:
        assert r.status == 200
    live.ended_at = live.answered_at + timedelta(seconds=4)  # the source's copy has no notes
    ended: list[dict] = []
    env.hub.bus.subscribe("call_ended", lambda e: ended.append(e.data))
    await env.hub.call_ended(live)
    stored = await env.hub.store.get_call(live.id)  # the save itself kept the edit
    assert (stored.notes, stored.tags, stored.outcome) == ("customer wants fibre", ["fibre"], "won")
    assert stored.ended_at is not None
    assert ended[0]["notes"] == "customer wants fibre"  # and the event says what was stored


async def test_unencoded_plus_in_a_time_is_understood(env, http):
    call = env.calls["a2_in"]
    since = call.started_at.isoformat()  # ...+02:00, sent without encoding the '+'
    async with http.get(f"/api/calls?since={since}", headers=env.bearer("admin")) as r:
        assert r.status == 200
        assert [c["id"] for c in (await r.json())["calls"]] == [env.calls["none"].id, call.id]


async def test_flac_recordings_play_and_have_peaks(env, http):
    """Sinks may store FLAC: served as audio/flac with Range, peaks decoded with PyAV."""
    call = env.calls["a1_out"]
    wav = Path(call.recording.path)
    flac = wav.with_suffix(".flac")
    proc = await asyncio.create_subprocess_exec("sox", str(wav), str(flac))
    assert await asyncio.wait_for(proc.wait(), 30) == 0, "sox (apt sox) converts the test WAV"
    call.recording.path, call.recording.format = str(flac), "flac"
    await env.hub.store.save_call(call)
    async with http.get(
        f"/api/calls/{call.id}/audio", headers={**env.bearer("admin"), "Range": "bytes=0-3"}
    ) as r:
        assert r.status == 206 and r.headers["Content-Type"] == "audio/flac" and await r.read() == b"fLaC"
    async with http.get(f"/api/calls/{call.id}/waveform?points=40", headers=env.bearer("admin")) as r:
        body = await r.json()
    assert body["duration_s"] == pytest.approx(4.0, abs=0.05)
    assert max(body["channels"][0]) > 0.3 and max(body["channels"][1][:9]) == 0.0


async def test_the_unhealthy_filter(env, http):
    from salvesti.core.call import HealthProblem, HealthReason

    call = env.calls["a2_in"]
    call.health = [HealthProblem(HealthReason.NO_AUDIO, "no audio packets for the whole call", "outside")]
    await env.hub.store.save_call(call)
    assert await _ids(http, env, "unhealthy=any") == [call.id]
    assert await _ids(http, env, "unhealthy=channel_no_audio") == [call.id]
    assert await _ids(http, env, "unhealthy=packet_loss") == []
    async with http.get("/api/calls?unhealthy=bad", headers=env.bearer("manager")) as r:
        assert r.status == 400
        assert "unhealthy must be one of any, no_recording" in (await r.json())["error"]
    async with http.get(f"/api/calls/{call.id}", headers=env.bearer("manager")) as r:
        assert (await r.json())["health"][0]["reason"] == "channel_no_audio"
