"""Helpers for the HTTP plugin tests: a real Salvesti hub (SQLite store by default, local sink,
notice, HTTP server on a free loopback port) with real WAV recordings and users of every role."""

from __future__ import annotations

import asyncio
import functools
import json
import threading
import wave
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import numpy as np

from salvesti.core.call import Call, Direction, Disposition, NoticeInfo, RecordingInfo
from salvesti.core.config import ConfigMarks
from salvesti.core.hub import Hub
from salvesti.core.plugins import PluginManager
from salvesti.plugins.http import accounts, auth

TZ = ZoneInfo("Europe/Tallinn")
T0 = datetime(2026, 11, 20, 9, 0, tzinfo=TZ)
PASSWORD = "correct horse battery"
ROLES = {
    "admin": ("admin", None),
    "manager": ("manager", None),
    "agent1": ("agent", "101"),
    "agent2": ("agent", "102"),
}


@functools.cache
def password_hash() -> str:
    return auth.hash_password(PASSWORD)


def make_wav(path: Path, seconds: float = 4.0, rate: int = 8000) -> Path:
    """Stereo 16-bit: a 440 Hz tone on the left, 300 Hz on the right after the first second."""
    path.parent.mkdir(parents=True, exist_ok=True)
    t = np.arange(int(seconds * rate)) / rate
    # Syllable-like envelopes so the waveform looks like talk; the right channel (what the
    # outside party heard) starts after the first second, as after a notice.
    talk = np.clip(np.sin(2 * np.pi * 2.3 * t) * np.sin(2 * np.pi * 0.35 * t + 1), 0, 1)
    reply = np.clip(np.sin(2 * np.pi * 1.7 * t + 2) * np.cos(2 * np.pi * 0.3 * t), 0, 1) * (t > 1.0)
    left = (np.sin(2 * np.pi * 440 * t) * 16000 * talk).astype("<i2")
    right = (np.sin(2 * np.pi * 300 * t) * 12000 * reply).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(np.stack([left, right], axis=1).tobytes())
    return path


def make_notice(path: Path, seconds: float = 1.0, rate: int = 8000) -> Path:
    """A mono notice of ``seconds`` (the recording notice the outside party hears first)."""
    t = np.arange(int(seconds * rate)) / rate
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes((np.sin(2 * np.pi * 500 * t) * 8000).astype("<i2").tobytes())
    return path


def make_call(
    rec_dir: Path,
    n: int,
    *,
    ext: str | None,
    number: str,
    direction: Direction = Direction.INBOUND,
    **kw: Any,
) -> Call:
    started = T0 + timedelta(minutes=n)
    call_id = f"20261120T09{n:02d}00-{n:012x}"
    wav = make_wav(rec_dir / f"{call_id}.wav", seconds=kw.pop("seconds", 4.0))
    call = Call(
        id=call_id,
        source="office",
        direction=direction,
        line="+3726000000",
        remote_number=number,
        started_at=started,
        answered_at=started + timedelta(seconds=3),
        ended_at=started + timedelta(seconds=7),
        disposition=Disposition.ANSWERED,
        recording=RecordingInfo(
            path=str(wav), duration_s=4.0, bytes=wav.stat().st_size, status="saved", sample_rate=8000
        ),
        notice=NoticeInfo(played=True, name="et", played_at=started + timedelta(seconds=3), complete=True),
    )
    if ext:
        call.add_extension(ext)
    for key, value in kw.items():
        setattr(call, key, value)
    return call


@dataclass
class Env:
    hub: Hub
    url: str
    tokens: dict[str, str] = field(default_factory=dict)
    calls: dict[str, Call] = field(default_factory=dict)

    @property
    def server(self) -> Any:
        return self.hub.integrations["http"]

    def bearer(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}


def hub_config(tmp: Path, *, store: dict[str, Any] | None = None, **http: Any) -> dict[str, Any]:
    """``store`` replaces the SQLite store (several nodes share a PostgreSQL one)."""
    core = {"data_dir": str(tmp / "data"), "timezone": "Europe/Tallinn", "purpose": "test"}
    if store is not None:
        core["node"] = tmp.name
    return {
        "salvesti": core,
        "store": store or {"platform": "sqlite"},
        "sinks": [
            {"platform": "local", "id": "disk", "path": str(tmp / "data" / "recordings"), "format": "wav"}
        ],
        "notices": [{"platform": "audio_file", "id": "et", "file": str(make_notice(tmp / "notice-et.wav"))}],
        "http": {"listen": "127.0.0.1:0", **http},
    }


async def start_env(
    tmp: Path,
    *,
    config: dict[str, Any] | None = None,
    store: dict[str, Any] | None = None,
    seed: bool = True,
    marks: ConfigMarks | None = None,
    **http: Any,
) -> Env:
    """A started hub; ``config`` adds top-level blocks (validated items: the hub does not
    validate); ``seed`` adds the users of :data:`ROLES` (with a token each) and four calls (a
    second node on a shared store starts with ``seed=False``: it sees the first one's);
    ``marks`` are the lines of a config file the test wrote (and keeps) as config.yaml."""
    plugins = PluginManager()
    plugins.load(entry_points_too=False)
    if not (tmp / "config.yaml").exists():
        (tmp / "config.yaml").write_text("# written by the test\n")
    blocks = {**hub_config(tmp, store=store, **http), **(config or {})}
    hub = Hub(blocks, config_path=tmp / "config.yaml", plugins=plugins, marks=marks)
    await hub.async_start()
    server = hub.integrations["http"]
    assert server.bound_port, hub.status()
    env = Env(hub, f"http://127.0.0.1:{server.bound_port}")
    if not seed:
        return env
    now = hub.now().isoformat()
    for name, (role, ext) in ROLES.items():
        # One real scrypt hash shared by the fixture users keeps each test's setup short.
        await server.accounts.add_user(name, role, password_hash(), ext, now)
        env.tokens[name] = (await accounts.create_token(server.accounts, name, None, "test", now))[1]
    rec_dir = tmp / "data" / "recordings" / "2026" / "11" / "20"
    specs = [
        ("a1_in", dict(ext="101", number="+3725551001")),
        (
            "a1_out",
            dict(ext="101", number="+3725551002", direction=Direction.OUTBOUND, outcome="won", tags=["vip"]),
        ),
        ("a2_in", dict(ext="102", number="+3725552001", notes="wants a callback about the invoice")),
        ("none", dict(ext=None, number="+3725553001", direction=Direction.INBOUND)),
    ]
    for n, (key, spec) in enumerate(specs, start=1):
        call = make_call(rec_dir, n, **spec)  # type: ignore[arg-type]
        await hub.store.save_call(call)
        env.calls[key] = call
    return env


async def next_event(resp: aiohttp.ClientResponse, limit_s: float = 5.0) -> tuple[str, Any]:
    """Read an event stream until one whole event (skipping comments); bounded in time."""
    name, data = None, None
    async with asyncio.timeout(limit_s):
        while True:
            line = (await resp.content.readline()).decode().rstrip("\n")
            if line.startswith("event: "):
                name = line[7:]
            elif line.startswith("data: "):
                data = json.loads(line[6:])
            elif line == "" and name is not None:
                return name, data


async def login(env: Env, who: str, password: str = PASSWORD) -> tuple[aiohttp.ClientSession, str]:
    """A cookie session logged in as ``who`` and its CSRF token (caller closes the session)."""
    session = aiohttp.ClientSession(env.url, cookie_jar=aiohttp.CookieJar(unsafe=True))
    async with session.post("/api/auth/login", json={"username": who, "password": password}) as r:
        assert r.status == 200, await r.text()
        body = await r.json()
    return session, body["csrf_token"]


class LiveServer:
    """The same hub in a background thread with its own loop, for sync clients (browser, schemathesis)."""

    def __init__(
        self,
        tmp: Path,
        *,
        config: dict[str, Any] | None = None,
        prepare: Callable[[], Awaitable[dict[str, Any]]] | None = None,
        marks: ConfigMarks | None = None,
        **http: Any,
    ) -> None:
        """``config`` adds top-level blocks; ``prepare`` makes them on the hub's loop first
        (peers the hub must reach as it starts, such as a carrier socket); ``marks`` as in
        :func:`start_env`."""
        self.tmp = tmp
        self.marks = marks
        self.http = http
        self.config = config
        self.prepare = prepare
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="live-hub", daemon=True)
        self.env: Env | None = None

    def run(self, coro: Any, timeout: float = 30) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def __enter__(self) -> Env:
        self.thread.start()
        if self.prepare is not None:
            self.config = {**(self.config or {}), **self.run(self.prepare())}
        self.env = self.run(start_env(self.tmp, config=self.config, marks=self.marks, **self.http))
        return self.env

    def __exit__(self, *exc: object) -> None:
        if self.env is not None:
            self.run(self.env.hub.async_stop(call_timeout=0.1))
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()
