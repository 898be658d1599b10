"""Recordings on the way into the cluster: sealed ones stay sealed, a copy left by a killed run is
recognised, an object with other bytes is a conflict, and a real ``kill -9`` mid-run is survived."""

from __future__ import annotations

import asyncio
import hashlib
import io
import subprocess
import sys
from pathlib import Path

from box import Box, cli, cluster, cluster_config, make_box, migrate, read_object

from salvesti.core.crypto.keyring import Keyring
from salvesti.core.crypto.sealed import SealedFile, SealedWriter
from salvesti.migrate.progress import Bar
from salvesti.plugins.store_sqlite import SqliteStore
from salvesti.testing.seaweedfs import BUCKET, WeedServer

PCM = bytes(range(256)) * 64


async def _put(weed: WeedServer, key: str, data: bytes) -> None:
    client = weed.client()
    try:
        sha = hashlib.sha256(data).hexdigest()
        await client.put_object(key, data, sha256=sha, meta={"sha256": sha})
    finally:
        await client.close()


def _key(box: Box, n: int, prefix: str) -> str:
    call = box.calls[n]
    assert call.recording is not None
    return f"{prefix}{call.started_at:%Y/%m/%d}/{Path(call.recording.path).name}"


def _seal(root: Path, box: Box) -> bytes:
    """Turn the box's first recording into a sealed one (as an ``encrypt: true`` sink writes it)."""
    code, _, err = cli("keys", "init", "-c", str(box.config))
    assert code == 0, err
    call = box.calls[0]
    assert call.recording is not None
    plain = Path(call.recording.path)
    sealed = plain.with_name(plain.name + ".enc")
    ring = Keyring.open(root / "salvesti.key", root / "data" / "keys.db")
    writer = SealedWriter(sealed, ring.new_key(call.id), 8000, channels=2)
    writer.write_frames(PCM)
    writer.close()
    ring.close()
    plain.unlink()
    data = sealed.read_bytes()
    call.recording.path = str(sealed)
    call.recording.bytes, call.recording.sha256 = len(data), hashlib.sha256(data).hexdigest()

    async def save() -> None:
        async with SqliteStore(box.db) as store:
            await store.save_call(call)

    asyncio.run(save())
    return data


def test_a_sealed_recording_arrives_sealed_with_its_wrapped_key(tmp_path, pg_dsn, weed):
    box = make_box(tmp_path / "box", n=2)
    sealed = _seal(tmp_path / "box", box)
    target = cluster_config(tmp_path / "cluster", pg_dsn, weed, "enc/")
    code, out, err = migrate(box, target)
    assert code == 0, out + err
    assert "data_keys: 1 copied" in out
    stored = asyncio.run(read_object(weed, _key(box, 0, "enc/")))
    assert stored == sealed and PCM[:512] not in stored  # byte for byte, still ciphertext
    held = cluster(pg_dsn)["calls"][box.calls[0].id]["recording"]
    assert held["path"] == f"s3://{BUCKET}/{_key(box, 0, 'enc/')}"
    assert held["sha256"] == hashlib.sha256(sealed).hexdigest()
    # the cluster's keys.db and the box's master key open it
    ring = Keyring.open(tmp_path / "box" / "salvesti.key", tmp_path / "cluster" / "data" / "keys.db")
    try:
        key = ring.data_key(box.calls[0].id)
    finally:
        ring.close()
    assert key is not None
    copy = tmp_path / "copy.wav.enc"
    copy.write_bytes(stored)
    with SealedFile(copy, key) as opened:
        wav = opened.read(0, opened.size)
    assert wav.startswith(b"RIFF") and wav.endswith(PCM)  # the WAV the box recorded


def test_a_copy_left_by_a_killed_run_is_used_and_other_bytes_are_a_conflict(tmp_path, pg_dsn, weed):
    box = make_box(tmp_path / "box", n=3)
    target = cluster_config(tmp_path / "cluster", pg_dsn, weed, "left/")
    first = box.calls[0].recording
    assert first is not None
    asyncio.run(_put(weed, _key(box, 0, "left/"), Path(first.path).read_bytes()))  # uploaded, not saved
    asyncio.run(_put(weed, _key(box, 1, "left/"), b"somebody else's recording"))
    code, out, err = migrate(box, target)
    assert code == 1, out + err
    assert f"CONFLICT: call {box.calls[1].id}: s3://{BUCKET}/{_key(box, 1, 'left/')} already holds" in out
    calls = cluster(pg_dsn)["calls"]
    assert set(calls) == {box.calls[0].id, box.calls[2].id}  # the conflicting call stays on the box
    assert asyncio.run(read_object(weed, _key(box, 1, "left/"))) == b"somebody else's recording"


KILLER = """
import asyncio, os, signal, sys
from pathlib import Path
from salvesti.cli_store import sides
from salvesti.core.datalock import DataLock
from salvesti.migrate.run import migrate_box

box, target, phase, at = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3], int(sys.argv[4])
found = sides(box, target)

def cut(where, n):
    if (where, n) == (phase, at):
        os.kill(os.getpid(), signal.SIGKILL)

with DataLock(found.plan.data_dir, exclusive=True):
    asyncio.run(migrate_box(*found, dry_run=False, on_item=cut))
"""


def test_kill_9_mid_run_then_the_same_command_finishes(tmp_path, pg_dsn, weed):
    box = make_box(tmp_path / "box", n=25)  # more calls than the marker's step: the marker is used
    target = cluster_config(tmp_path / "cluster", pg_dsn, weed, "kill/")
    args = [sys.executable, "-c", KILLER, str(box.config), str(target), "calls", "22"]
    done = subprocess.run(args, capture_output=True, text=True, timeout=120)
    assert done.returncode == -9, done.stderr
    assert len(cluster(pg_dsn)["calls"]) == 22
    assert (tmp_path / "box" / "data" / "migrate-progress.json").exists()
    code, out, err = migrate(box, target)
    assert code == 0, out + err
    assert "calls: 3 copied, 22 already in the target" in out  # 20 by the marker, 2 by comparison
    held = cluster(pg_dsn)
    assert len(held["calls"]) == 25 and len(held["audit"]) == 3 and held["verify"].ok


def test_the_bar_redraws_on_a_terminal_and_prints_lines_in_a_log():
    tty, log = io.StringIO(), io.StringIO()
    for out, is_tty in ((tty, True), (log, False)):
        bar = Bar(out, tty=is_tty, width=10)
        bar.start("calls", 20)
        for i in range(1, 21):
            bar.show("calls", i, 20)
        bar.end()
    assert (
        tty.getvalue().endswith("\r[##########] calls 20/20\n")
        and "\r[#####.....] calls 10/20" in tty.getvalue()
    )
    assert log.getvalue().splitlines() == [f"calls: {n}/20" for n in (0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20)]
