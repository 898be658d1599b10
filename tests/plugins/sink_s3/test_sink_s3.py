"""The s3 sink on a real SeaweedFS (auth on) inside a real hub with the HTTP API.

Recordings go through ``hub.call_ended`` as from a call source; playback goes through
``GET /api/calls/{id}/audio``.  The spool test kills the object store mid-way, steps the
sink's retry loop with a fake clock (no wall-clock waits), starts the store again and checks
the recording arrives byte for byte.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import numpy as np
import pytest
from prometheus_client.parser import text_string_to_metric_families

from salvesti.core import bus as events
from salvesti.core.call import Call, Direction, Disposition
from salvesti.core.hub import Hub
from salvesti.core.plugins import PluginManager
from salvesti.plugins.http import accounts
from salvesti.plugins.sink_s3.sink import S3Sink
from salvesti.plugins.sink_s3.spool import backoff
from salvesti.testing.seaweedfs import BUCKET, WeedServer

TZ = ZoneInfo("Europe/Tallinn")
T0 = datetime(2026, 3, 1, 9, 0, tzinfo=TZ)


class FakeClock:
    """Stands in for ``asyncio.sleep`` in the spool worker: each sleep waits for the test."""

    def __init__(self) -> None:
        self.now = 0.0
        self.delays: list[float] = []
        self._sleeping: asyncio.Queue[asyncio.Future[None]] = asyncio.Queue()

    async def sleep(self, delay: float) -> None:
        self.delays.append(delay)
        self.now += delay
        wake = asyncio.get_running_loop().create_future()
        await self._sleeping.put(wake)
        await wake

    async def step(self) -> float:
        """Wait (bounded) until the worker sleeps, then end that sleep; returns its delay."""
        wake = await asyncio.wait_for(self._sleeping.get(), 30)
        wake.set_result(None)
        return self.delays[-1]

    async def step_until(self, done: asyncio.Event, *, rounds: int = 20) -> int:
        """End sleeps one by one until ``done`` is set (bounded); returns how many it took."""
        for n in range(1, rounds + 1):
            (await asyncio.wait_for(self._sleeping.get(), 30)).set_result(None)
            sleeping = asyncio.ensure_future(self._sleeping.get())
            finished = asyncio.ensure_future(done.wait())
            await asyncio.wait({sleeping, finished}, timeout=30, return_when=asyncio.FIRST_COMPLETED)
            finished.cancel()
            if sleeping.done():
                self._sleeping.put_nowait(sleeping.result())  # the next round's sleep
            else:
                sleeping.cancel()
            if done.is_set():
                return n
        raise AssertionError(f"not done after {rounds} rounds (delays {self.delays})")


@dataclass
class Env:
    hub: Hub
    sink: S3Sink
    url: str
    token: str
    saved: list[dict[str, Any]] = field(default_factory=list)

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@pytest.fixture
async def env(tmp_path: Path, weed: WeedServer) -> AsyncIterator[Env]:
    config = {
        "salvesti": {"data_dir": str(tmp_path / "data"), "timezone": "Europe/Tallinn", "purpose": "test"},
        "store": {"platform": "sqlite"},
        "sinks": [{
            "platform": "s3", "id": "bucket", "endpoint": weed.endpoint, "bucket": BUCKET,
            "region": weed.credentials.region, "access_key": weed.credentials.access_key,
            "secret_key": weed.credentials.secret_key, "prefix": f"{tmp_path.name}/",
            "part_size_mib": 5, "multipart_threshold_mib": 5, "timeout": 5,
        }],
        "http": {"listen": "127.0.0.1:0"},
    }  # fmt: skip
    plugins = PluginManager()
    plugins.load(entry_points_too=False)
    (tmp_path / "config.yaml").write_text("# written by the test\n")
    hub = Hub(config, config_path=tmp_path / "config.yaml", plugins=plugins)
    await hub.async_start()
    server = hub.integrations["http"]
    now = hub.now().isoformat()
    await server.accounts.add_user("admin", "admin", "not-a-login", None, now)
    token = (await accounts.create_token(server.accounts, "admin", None, "test", now))[1]
    sink = hub.sinks["bucket"]
    assert isinstance(sink, S3Sink), hub.status()
    e = Env(hub, sink, f"http://127.0.0.1:{server.bound_port}", token)
    hub.bus.subscribe(events.RECORDING_SAVED, lambda ev: e.saved.append(ev.data))
    try:
        yield e
    finally:
        await hub.async_stop(call_timeout=0.1)


class Finished:
    """What a call source hands ``hub.call_ended``: a recording whose close() finalises it."""

    def __init__(self, sink: S3Sink, call: Call, seconds: float) -> None:
        self.sink, self.call = sink, call
        self.writer = sink.open(call, 8000)
        t = np.arange(int(seconds * 8000)) / 8000
        left = (np.sin(2 * np.pi * 440 * t) * 8000).astype("<i2")
        right = (np.sin(2 * np.pi * 660 * t) * 6000).astype("<i2")
        stereo = np.empty(2 * len(t), dtype="<i2")
        stereo[0::2], stereo[1::2] = left, right
        self.writer.write_frames(stereo.tobytes())

    async def close(self) -> Any:
        return await self.sink.finalize(self.call, self.writer)


def new_call(n: int) -> Call:
    started = T0 + timedelta(minutes=n)
    call = Call(
        id=f"20260301T09{n:02d}00-{n:012x}", source="office", direction=Direction.INBOUND,
        line="+3726000000", remote_number="+3725551234", started_at=started,
        answered_at=started + timedelta(seconds=2), ended_at=started + timedelta(seconds=4),
        disposition=Disposition.ANSWERED,
    )  # fmt: skip
    call.meta["sink"] = "bucket"
    return call


async def end_call(env: Env, n: int, seconds: float = 2.0) -> Call:
    call = new_call(n)
    await env.hub.call_ended(call, Finished(env.sink, call, seconds))
    stored = await env.hub.store.get_call(call.id)
    assert stored is not None
    return stored


def file_sha256(path: Path) -> str | None:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else None


async def object_bytes(env: Env, key: str) -> bytes:
    async with env.sink.client.request("GET", key) as resp:
        return await resp.read()


async def test_a_finished_recording_is_uploaded_and_played_in_ranges(env):
    call = await end_call(env, 1)
    rec = call.recording
    key = f"{env.sink.prefix}2026/03/01/{call.id}.wav"
    assert (rec.status, rec.path) == ("saved", f"s3://{BUCKET}/{key}")
    body = await object_bytes(env, key)
    assert hashlib.sha256(body).hexdigest() == rec.sha256 and len(body) == rec.bytes == 44 + 2 * 2 * 16000
    assert list(env.sink.spool.folder.iterdir()) == []  # nothing left locally
    assert [e["id"] for e in env.saved] == [call.id]
    async with aiohttp.ClientSession(env.url, headers=env.auth) as http:
        async with http.get(f"/api/calls/{call.id}/audio", headers={"Range": "bytes=100-1099"}) as resp:
            assert resp.status == 206
            assert resp.headers["Content-Range"] == f"bytes 100-1099/{rec.bytes}"
            assert resp.headers["Content-Type"] == "audio/wav"
            assert await resp.read() == body[100:1100]
        async with http.get(f"/api/calls/{call.id}/audio") as resp:
            assert resp.status == 200 and await resp.read() == body


async def test_a_large_recording_goes_up_in_parts(env):
    call = await end_call(env, 2, seconds=200)  # 6.4 MB: two parts of 5 MiB at most
    rec = call.recording
    key = env.sink.key_of(rec.path)
    head = await env.sink.client.head_object(key)
    assert head is not None and head["etag"].endswith("-2"), head
    assert head["bytes"] == rec.bytes and head["meta"]["sha256"] == rec.sha256
    assert hashlib.sha256(await object_bytes(env, key)).hexdigest() == rec.sha256


async def test_deleting_the_recording_removes_the_object(env):
    call = await end_call(env, 3)
    key = env.sink.key_of(call.recording.path)
    async with aiohttp.ClientSession(env.url, headers=env.auth) as http:
        async with http.delete(f"/api/calls/{call.id}") as resp:
            assert resp.status == 200, await resp.text()
            assert (await resp.json())["recording"]["status"] == "deleted"
    assert await env.sink.client.head_object(key) is None


def test_backoff_doubles_and_is_capped_at_half_a_minute():
    assert [backoff(i) for i in range(8)] == [1, 2, 4, 8, 16, 30, 30, 30]


async def test_store_down_the_recording_waits_in_the_spool_then_arrives(env, weed):
    clock = FakeClock()
    env.sink.worker.sleep = clock.sleep
    weed.kill()
    try:
        call = await end_call(env, 4)
        rec = call.recording
        spooled = Path(rec.path)
        assert rec.status == "spooled" and "waiting for the object store" in rec.note
        assert spooled.parent == env.hub.data_dir / "spool" / "bucket"
        assert file_sha256(spooled) == rec.sha256
        async with aiohttp.ClientSession(env.url, headers=env.auth) as http:  # plays from the spool
            async with http.get(f"/api/calls/{call.id}/audio", headers={"Range": "bytes=0-43"}) as resp:
                assert resp.status == 206 and (await resp.read())[:4] == b"RIFF"
        delays = [await clock.step() for _ in range(6)]  # six failed rounds while it is down
        assert delays == [1, 2, 4, 8, 16, 30]
        assert (await env.hub.store.get_call(call.id)).recording.status == "spooled"
    finally:
        weed.start()
        await weed.wait_ready()
    uploaded = asyncio.Event()
    env.hub.bus.subscribe(events.RECORDING_SAVED, lambda _ev: uploaded.set())
    # The store answers again while the worker sleeps its (capped) 30 s: the next try uploads.
    # A write may 5xx just after a restart, so a few more rounds are allowed, each <= 30 s.
    await clock.step_until(uploaded)
    assert max(clock.delays) == 30
    final = (await env.hub.store.get_call(call.id)).recording
    assert final.status == "saved" and final.path == f"s3://{BUCKET}/{env.sink.prefix}2026/03/01/{call.id}.wav"
    assert (final.sha256, final.bytes) == (rec.sha256, rec.bytes)
    body = await object_bytes(env, env.sink.key_of(final.path))
    assert hashlib.sha256(body).hexdigest() == rec.sha256
    assert file_sha256(spooled) is None and list(env.sink.spool.folder.iterdir()) == []
    assert [e["recording"]["path"] for e in env.saved] == [final.path]


async def test_a_recording_deleted_while_it_goes_up_stays_deleted(env, weed):
    """Another node's retention sweep marks the spooled recording deleted while this node uploads
    it: the upload must not write its stale copy of the call back, and the object goes too."""
    clock = FakeClock()
    env.sink.worker.sleep = clock.sleep
    weed.kill()
    try:
        call = await end_call(env, 5)
        assert call.recording.status == "spooled"
    finally:
        weed.start()
        await weed.wait_ready()
    real_put, real_delete = env.sink.client.put_object, env.sink.client.delete_object
    forgotten = asyncio.Event()

    async def put_while_swept(key: str, body: bytes, **kw: Any) -> str:
        etag = await real_put(key, body, **kw)
        swept = await env.hub.store.get_call(call.id)  # what the other node's sweep writes meanwhile
        swept.recording.status = "deleted"
        await env.hub.store.save_call(swept)
        return etag

    async def delete(key: str) -> None:
        await real_delete(key)
        forgotten.set()

    env.sink.client.put_object = put_while_swept
    env.sink.client.delete_object = delete
    await clock.step_until(forgotten)
    key = env.sink.key(call)
    assert await env.sink.client.head_object(key) is None
    assert (await env.hub.store.get_call(call.id)).recording.status == "deleted"
    for _ in range(200):  # the spool entry goes right after the object (bounded)
        if not list(env.sink.spool.folder.iterdir()):
            break
        await asyncio.sleep(0.01)
    assert list(env.sink.spool.folder.iterdir()) == []
    assert env.saved == []  # no recording_saved for a recording that is gone


async def test_metrics_count_the_spooled_recordings(env, weed):
    """``salvesti_queue_length{queue="spool:<id>"}`` is the spool's backlog, scraped live."""
    clock = FakeClock()
    env.sink.worker.sleep = clock.sleep  # the worker's retries wait for the test, never run here

    async def spooled() -> float:
        async with aiohttp.ClientSession(env.url, headers=env.auth) as http, http.get("/metrics") as resp:
            assert resp.status == 200
            text = await resp.text()
        (family,) = (f for f in text_string_to_metric_families(text) if f.name == "salvesti_queue_length")
        return next(s.value for s in family.samples if s.labels["queue"] == "spool:bucket")

    assert await spooled() == 0
    weed.kill()
    try:
        await end_call(env, 5)
        await end_call(env, 6)
        assert await spooled() == 2
    finally:
        weed.start()
        await weed.wait_ready()
