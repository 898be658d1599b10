"""A stopped box (SQLite store, local sink, users, a token, audit entries, a deletion) and the
cluster config it moves to (PostgreSQL store, s3 sink on the test's SeaweedFS)."""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from salvesti.core.call import Call, Direction, Disposition, NoticeInfo, Pause, RecordingInfo
from salvesti.core.components import CallQuery
from salvesti.plugins.http.db_postgresql import PostgresAccounts
from salvesti.plugins.store_postgresql import PostgresStore
from salvesti.plugins.store_sqlite import SqliteStore
from salvesti.testing.cli import run_cli
from salvesti.testing.seaweedfs import ACCESS_KEY, BUCKET, SECRET_KEY, WeedServer

TZ = ZoneInfo("Europe/Tallinn")
T0 = datetime(2026, 10, 5, 9, 0, tzinfo=TZ)

BOX = """\
salvesti: {data_dir: ./data, timezone: Europe/Tallinn, purpose: "Kvaliteet", node: box-a}
http: {listen: "127.0.0.1:0"}
store: {platform: sqlite}
sinks:
  - {platform: local, id: disk, path: data/recordings, format: wav}
"""

CLUSTER = """\
salvesti: {{data_dir: ./data, timezone: Europe/Tallinn, purpose: "Kvaliteet", node: node-1}}
http: {{listen: "127.0.0.1:0"}}
store: {{platform: postgresql, dsn: "{dsn}"}}
sinks:
  - platform: s3
    id: bucket
    endpoint: {endpoint}
    bucket: {bucket}
    region: eu-north-1
    access_key: {access}
    secret_key: {secret}
    prefix: {prefix}
"""


@dataclass
class Box:
    config: Path
    db: Path
    calls: list[Call]
    token: str


def cli(*args: str, stdin: str = "") -> tuple[int, str, str]:
    """The ``salvesti`` command in this process: (exit code, stdout, stderr)."""
    done = run_cli(*args, stdin=stdin)
    return done.returncode, done.stdout, done.stderr


def _call(root: Path, n: int) -> Call:
    started = T0 + timedelta(minutes=n)
    call_id = f"{started:%Y%m%dT%H%M%S}-{n:012x}"
    wav = root / "data" / "recordings" / f"{started:%Y/%m/%d}" / f"{call_id}.wav"
    wav.parent.mkdir(parents=True, exist_ok=True)
    wav.write_bytes(b"RIFF" + hashlib.sha256(str(n).encode()).digest() * (200 + n))
    data = wav.read_bytes()
    call = Call(
        id=call_id, source="office", direction=Direction.INBOUND, line="+3726000000",
        remote_number=f"+37255500{n:03d}", started_at=started, answered_at=started + timedelta(seconds=2),
        ended_at=started + timedelta(seconds=40), disposition=Disposition.ANSWERED,
        recording=RecordingInfo(
            path=str(wav.resolve()), format="wav", sample_rate=8000, channels=2, duration_s=38.0,
            bytes=len(data), sha256=hashlib.sha256(data).hexdigest(), status="saved",
        ),
        notice=NoticeInfo(played=True, name="et", played_at=started + timedelta(seconds=2), complete=True),
        outcome="won" if n % 2 else None, tags=[f"t{n}", "sales"], notes=f"märkus {n}",
        pauses=[Pause(5.0, 9.5, "boss", "boss")], meta={"sink": "disk"},
    )  # fmt: skip
    call.add_extension("101")
    call.set_delete_after(30, "default")
    return call


def make_box(root: Path, n: int = 4) -> Box:
    """``n`` calls with recordings; the last one's recording deleted (and logged)."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "config.yaml").write_text(BOX)
    calls = [_call(root, i) for i in range(1, n + 1)]
    db = root / "data" / "salvesti.db"

    async def save() -> None:
        async with SqliteStore(db, tz=TZ) as store:
            for call in calls:
                await store.save_call(call)
            gone = calls[-1]
            await store.log_deletion(gone, rule="default", reason="30 days", when=T0 + timedelta(days=31))
            assert gone.recording is not None
            gone.recording.status = "deleted"
            await asyncio.to_thread(Path(gone.recording.path).unlink)
            await store.save_call(gone)

    asyncio.run(save())
    config = str(root / "config.yaml")
    for name in ("boss", "mari"):
        code, _, err = cli("users", "add", name, "--role", "admin", "-c", config, stdin=f"{name} pass word\n")
        assert code == 0, err
    code, token, err = cli("tokens", "create", "mari", "-c", config)
    assert code == 0, err
    return Box(root / "config.yaml", db, calls, token.strip())


def migrate(box: Box, target: Path, *extra: str) -> tuple[int, str, str]:
    return cli("store", "migrate", "--to", str(target), "-c", str(box.config), *extra)


async def _cluster(dsn: str) -> dict[str, Any]:
    """What the target holds: calls (JSON), users with hashes, tokens, deletions, audit rows."""
    async with PostgresStore(dsn) as store:
        accounts = await PostgresAccounts.open(store.pool)
        users = {u.name: (await accounts.get_user(u.name)) for u in await accounts.list_users()}
        audit_rows = await store.pool.fetch("SELECT seq, action, detail FROM http_audit ORDER BY seq")
        return {
            "calls": {c.id: c.to_json() for c in await store.list_calls(CallQuery(limit=0))},
            "hashes": {name: found[1] for name, found in users.items() if found},
            "tokens": await accounts.list_tokens(),
            "deletions": await store.list_deletions(limit=100),
            "audit": [dict(r) for r in audit_rows],
            "verify": await accounts.audit_verify(),
        }


def cluster(dsn: str) -> dict[str, Any]:
    return asyncio.run(_cluster(dsn))


async def read_object(weed: WeedServer, key: str) -> bytes:
    client = weed.client()
    try:
        async with client.request("GET", key, ok=(200,)) as resp:
            return await resp.read()
    finally:
        await client.close()


def cluster_config(root: Path, dsn: str, weed: WeedServer, prefix: str) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    text = CLUSTER.format(
        dsn=dsn, endpoint=weed.endpoint, bucket=BUCKET, access=ACCESS_KEY, secret=SECRET_KEY, prefix=prefix
    )
    (root / "config.yaml").write_text(text)
    return root / "config.yaml"
