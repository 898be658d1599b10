"""A real Salvesti box for backup tests: config and secrets files, a SQLite store with calls
and their WAV files, a web UI user (so the audit log has a chain), the CLI run in-process."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import sqlite3
import wave
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from salvesti.core.call import Call, Direction, Disposition, RecordingInfo
from salvesti.plugins.store_sqlite import SqliteStore
from salvesti.testing.cli import run_cli

TZ = ZoneInfo("Europe/Tallinn")
T0 = datetime(2026, 11, 20, 9, 0, tzinfo=TZ)
PASSWORD = "correct horse battery"

CONFIG = """\
salvesti:
  data_dir: ./data
  timezone: Europe/Tallinn
  purpose: "Klienditeeninduse kvaliteedi parandamine"
http:
  listen: 127.0.0.1:0
store: {platform: sqlite}
sinks:
  - {platform: local, id: disk, path: data/recordings, format: wav}
retention:
  - {platform: max_age, id: default, days: 30}
integrations:
  - {platform: webhook, id: crm, url: "https://crm.example/hook", secret: !secret hook, events: [call_ended]}
"""


cli = run_cli  # ``salvesti.cli.main`` in this process; stdout and stderr captured


def write_config(tmp: Path, text: str = CONFIG) -> Path:
    (tmp / "config.yaml").write_text(text)
    secrets = tmp / "secrets.yaml"
    secrets.write_text("hook: s3cret-webhook-key\n")
    os.chmod(secrets, 0o600)
    return tmp / "config.yaml"


def write_wav(path: Path, seed: int, seconds: float = 0.5) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    frames = hashlib.sha256(str(seed).encode()).digest() * int(seconds * 8000 * 4 / 32)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(frames)
    return path


def new_call(tmp: Path, n: int, **kw: Any) -> Call:
    """Call ``n``, ended, with a saved recording (size and sha256 as the sink would record)."""
    started = kw.pop("started_at", T0 + timedelta(minutes=n))
    call_id = f"{started:%Y%m%dT%H%M%S}-{n:012x}"
    wav = write_wav(tmp / "data" / "recordings" / f"{started:%Y/%m/%d}" / f"{call_id}.wav", n)
    data = wav.read_bytes()
    rec = RecordingInfo(
        path=str(wav.resolve()), format="wav", sample_rate=8000, channels=2, duration_s=0.5,
        bytes=len(data), sha256=hashlib.sha256(data).hexdigest(), status="saved",
    )  # fmt: skip
    call = Call(
        id=call_id,
        source="office",
        direction=Direction.INBOUND,
        line="+3726000000",
        remote_number=kw.pop("number", f"+37255500{n:03d}"),
        started_at=started,
        answered_at=started + timedelta(seconds=2),
        ended_at=started + timedelta(seconds=30),
        disposition=Disposition.ANSWERED,
        recording=rec,
        meta={"sink": "disk"},
    )
    call.add_extension("101")
    for key, value in kw.items():
        setattr(call, key, value)
    return call


def save(tmp: Path, calls: list[Call]) -> None:
    async def go() -> None:
        async with SqliteStore(tmp / "data" / "salvesti.db", tz=TZ) as store:
            for call in calls:
                await store.save_call(call)

    asyncio.run(go())


def make_box(tmp: Path, n: int = 3, **kw: Any) -> list[Call]:
    """A configured box with ``n`` calls and one admin user (one audit entry)."""
    config = write_config(tmp, kw.pop("config", CONFIG))
    calls = [new_call(tmp, i) for i in range(1, n + 1)]
    save(tmp, calls)
    r = cli("users", "add", "boss", "--role", "admin", "-c", str(config), stdin=PASSWORD + "\n")
    assert r.returncode == 0, r.stderr
    return calls


def store_calls(db: Path) -> dict[str, dict[str, Any]]:
    con = sqlite3.connect(db)
    try:
        return {i: json.loads(d) for i, d in con.execute("SELECT id, data FROM calls")}
    finally:
        con.close()


def table(db: Path, sql: str) -> list[tuple[Any, ...]]:
    con = sqlite3.connect(db)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def only_backup(folder: Path) -> Path:
    found = [p for p in folder.iterdir() if p.is_dir()]
    assert len(found) == 1, found
    return found[0]


def manifest(backup: Path) -> dict[str, Any]:
    return json.loads((backup / "manifest.json").read_text())
