"""An encrypted local sink through the whole hub: sealed on disk, played with Range, crypto-erased."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import numpy as np
import pytest
from http_env import T0, Env, start_env

from salvesti.core.call import Call, Direction
from salvesti.core.crypto import master
from salvesti.core.recording import CallRecording

SECONDS = 3


@pytest.fixture
async def sealed_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Env]:
    from http_env import hub_config as plain_config

    def encrypted_config(tmp: Path, **http):
        conf = plain_config(tmp, **http)
        conf["sinks"][0]["encrypt"] = True
        conf["salvesti"]["key_file"] = str(tmp / "secret" / "salvesti.key")
        return conf

    monkeypatch.setattr("http_env.hub_config", encrypted_config)
    master.write_new(tmp_path / "secret" / "salvesti.key")
    env = await start_env(tmp_path)
    try:
        yield env
    finally:
        await env.hub.async_stop(call_timeout=0.1)


async def record_call(env: Env) -> tuple[Call, bytes]:
    """A finished 3 s call on extension 101, recorded through the hub; and its PCM (stereo)."""
    hub = env.hub
    call = Call("20261120T110000-sealed000001", "office", Direction.INBOUND, "+3726000000", "+3725550001", T0)
    call.answered_at = T0
    call.add_extension("101")
    await hub.call_started(call)
    clock = [1000.0]
    hub.monotonic = lambda: clock[0]  # an injected clock: the call lasts exactly 3 s
    rec = CallRecording(hub, call, hub.default_sink())
    t0 = clock[0]
    rec.start(t0)
    tone = (np.sin(np.arange(160) / 3) * 9000).astype("<i2").tobytes()
    for i in range(SECONDS * 50):
        rec.put(0, tone, t0 + i * 0.02)
        rec.put(1, tone, t0 + i * 0.02)
    clock[0] += SECONDS
    await hub.call_ended(call, rec)
    stereo = np.repeat(np.frombuffer(tone, "<i2"), 2)
    return call, np.tile(stereo, SECONDS * 50).tobytes()


async def test_sealed_on_disk_played_with_range_and_crypto_erased_on_delete(sealed_env: Env):
    env = sealed_env
    call, audio = await record_call(env)
    stored = await env.hub.store.get_call(call.id)
    rec = stored.recording
    path = Path(rec.path)
    assert path.name == f"{call.id}.wav.enc" and rec.status == "saved" and rec.duration_s == SECONDS
    raw = await asyncio.to_thread(path.read_bytes)
    assert raw[:4] != b"RIFF" and b"WAVE" not in raw and audio[:64] not in raw
    assert rec.bytes == len(raw)  # bytes and sha256 describe the stored (sealed) file

    async with aiohttp.ClientSession(env.url, headers=env.bearer("agent1")) as http:
        url = f"/api/calls/{call.id}/audio"
        async with http.get(url, headers={"Range": "bytes=0-43"}) as r:
            assert r.status == 206 and r.headers["Content-Type"] == "audio/wav"
            head = await r.read()
            assert head[:4] == b"RIFF" and r.headers["Content-Range"] == f"bytes 0-43/{44 + len(audio)}"
        async with http.get(url, headers={"Range": "bytes=40044-41043"}) as r:  # the middle of chunk 1
            assert r.status == 206 and await r.read() == audio[40000:41000]
        async with http.get(url) as r:
            assert r.status == 200 and (await r.read())[44:] == audio
        async with http.get(url, params={"download": "1"}) as r:  # named as the WAV it holds
            assert r.headers["Content-Disposition"] == f'attachment; filename="{call.id}.wav"'
        async with http.get(url, headers={"Range": f"bytes={10**9}-"}) as r:
            assert r.status == 416
        async with http.get(f"/api/calls/{call.id}/waveform?points=30") as r:
            peaks = await r.json()
            assert r.status == 200 and peaks["duration_s"] == SECONDS and peaks["points"] == 30
            assert min(peaks["channels"][0]) > 0.2  # the tone, decrypted
    assert not list((env.hub.data_dir).rglob(f"{call.id}*.json"))  # no derived data in clear on disk

    async with aiohttp.ClientSession(env.url, headers=env.bearer("admin")) as http:
        async with http.delete(f"/api/calls/{call.id}") as r:
            assert r.status == 200, await r.text()
    assert not await asyncio.to_thread(path.exists)
    assert env.hub.keyring.data_key(call.id) is None  # the key is gone: any copy of the file is noise


async def test_a_recording_cut_off_by_a_crash_is_repaired_from_its_sealed_chunks(sealed_env: Env):
    env = sealed_env
    hub = env.hub
    call = Call("20261120T120000-sealed000002", "office", Direction.INBOUND, "+3726000000", "+3725550002", T0)
    call.answered_at = T0
    await hub.call_started(call)
    hub.monotonic = lambda: 1002.0
    rec = CallRecording(hub, call, hub.default_sink())
    rec.start(1000.0)
    rec._render(rec.position(1002.0))  # two seconds written and flushed, then the crash
    await hub.call_updated(call)
    info = await hub.default_sink().repair(await hub.store.get_call(call.id))
    assert info is not None and info.status == "repaired" and info.duration_s == 2.0
