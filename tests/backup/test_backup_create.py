"""``salvesti backup``: databases by the online backup API, recordings copied once, the rest
linked to the previous backup, calls in progress left out while a writer keeps inserting."""

from __future__ import annotations

import asyncio
import os
import stat
import threading
from datetime import timedelta
from pathlib import Path

from backup_box import T0, TZ, cli, make_box, manifest, new_call, only_backup, store_calls, table

from salvesti.plugins.store_sqlite import SqliteStore


def test_a_backup_holds_databases_recordings_config_and_a_manifest(tmp_path):
    calls = make_box(tmp_path)
    r = cli("backup", "-c", str(tmp_path / "config.yaml"), "--to", str(tmp_path / "backups"))
    assert r.returncode == 0, r.stderr
    backup = only_backup(tmp_path / "backups")
    man = manifest(backup)
    assert man["format"] == "salvesti-backup" and man["version"] == 1 and man["node"]
    assert man["counts"] | {"calls": 3, "users": 1, "audit_entries": 1, "recordings": 3} == man["counts"]
    kinds = sorted((f["kind"], f["path"]) for f in man["files"])
    assert ("database", "db/salvesti.db") in kinds and ("config", "config/secrets.yaml") in kinds
    recs = {f["call_id"]: f for f in man["files"] if f["kind"] == "recording"}
    assert set(recs) == {c.id for c in calls}
    for call in calls:
        assert recs[call.id]["sha256"] == call.recording.sha256
        assert (backup / recs[call.id]["path"]).read_bytes() == Path(call.recording.path).read_bytes()
        assert os.stat(backup / recs[call.id]["path"]).st_ino != os.stat(call.recording.path).st_ino
    assert stat.S_IMODE((backup / "config" / "secrets.yaml").stat().st_mode) == 0o600
    assert stat.S_IMODE(backup.stat().st_mode) == 0o700
    assert set(store_calls(backup / "db" / "salvesti.db")) == {c.id for c in calls}
    assert table(backup / "db" / "salvesti.db", "PRAGMA journal_mode") == [("delete",)]
    assert "this backup holds personal data" in r.stdout


def test_a_second_backup_copies_nothing_new_and_keep_rotates(tmp_path):
    calls = make_box(tmp_path)
    args = ("backup", "-c", str(tmp_path / "config.yaml"), "--to", str(tmp_path / "backups"))
    assert cli(*args).returncode == 0
    r = cli(*args)
    assert r.returncode == 0, r.stderr
    assert "3 recordings: 0 copied, 3 unchanged since the previous backup" in r.stdout
    first, second = sorted((tmp_path / "backups").iterdir())
    assert manifest(second)["counts"]["recordings_copied"] == 0
    for f in (f for f in manifest(second)["files"] if f["kind"] == "recording"):
        assert os.stat(first / f["path"]).st_ino == os.stat(second / f["path"]).st_ino

    # a new call is the only recording copied; --keep 2 deletes the oldest backup
    late = new_call(tmp_path, 9)
    from backup_box import save

    save(tmp_path, [late])
    r = cli(*args, "--keep", "2")
    assert r.returncode == 0, r.stderr
    assert "4 recordings: 1 copied, 3 unchanged" in r.stdout
    assert f"rotated away (--keep 2): {first.name}" in r.stdout
    assert sorted(p.name for p in (tmp_path / "backups").iterdir())[0] == second.name
    assert len(list((tmp_path / "backups").iterdir())) == 2
    assert calls  # the recordings of the rotated backup live on in the newer ones
    assert cli("backup", "verify", str(second)).returncode == 0


def test_no_recordings_and_since(tmp_path):
    calls = make_box(tmp_path)
    config = str(tmp_path / "config.yaml")
    r = cli("backup", "-c", config, "--to", str(tmp_path / "a"), "--no-recordings")
    assert r.returncode == 0, r.stderr
    assert not [f for f in manifest(only_backup(tmp_path / "a"))["files"] if f["kind"] == "recording"]
    since = (T0 + timedelta(minutes=2)).isoformat()
    assert cli("backup", "-c", config, "--to", str(tmp_path / "b"), "--since", since).returncode == 0
    recs = [f["call_id"] for f in manifest(only_backup(tmp_path / "b"))["files"] if f["kind"] == "recording"]
    assert sorted(recs) == [calls[1].id, calls[2].id]


def test_backup_while_a_writer_keeps_inserting_calls(tmp_path):
    """A second connection writes calls (one stays in progress) during the whole backup."""
    make_box(tmp_path, n=2)
    db = tmp_path / "data" / "salvesti.db"
    long_call = new_call(tmp_path, 50)
    long_call.ended_at = None
    long_call.recording.status = "recording"
    ready, stop = threading.Event(), threading.Event()
    written: list[str] = []

    def writer() -> None:
        async def go() -> None:
            async with SqliteStore(db, tz=TZ) as store:
                await store.save_call(long_call)
                n = 100
                while not stop.is_set():
                    call = new_call(tmp_path, n)
                    ended = call.ended_at
                    call.ended_at, call.recording.status = None, "recording"
                    await store.save_call(call)  # starts: in progress
                    call.ended_at, call.recording.status = ended, "saved"
                    await store.save_call(call)  # ends: recording saved
                    written.append(call.id)
                    n += 1
                    if n == 110:
                        ready.set()

        asyncio.run(go())

    thread = threading.Thread(target=writer, name="writer")
    thread.start()
    try:
        assert ready.wait(60)
        r = cli("backup", "-c", str(tmp_path / "config.yaml"), "--to", str(tmp_path / "backups"))
    finally:
        stop.set()
        thread.join(60)
    assert r.returncode == 0, r.stderr
    backup = only_backup(tmp_path / "backups")
    assert cli("backup", "verify", str(backup)).returncode == 0
    man = manifest(backup)
    snap = store_calls(backup / "db" / "salvesti.db")
    assert 2 + 1 + 10 <= len(snap) <= 2 + 1 + len(written) + 1
    assert long_call.id in man["in_progress"] and f"still being recorded: {long_call.id}" in r.stdout
    recorded = {f["call_id"] for f in man["files"] if f["kind"] == "recording"}
    ended = {i for i, c in snap.items() if c["ended_at"] and c["recording"]["status"] == "saved"}
    in_progress = {i for i, c in snap.items() if not c["ended_at"]}
    assert recorded == ended  # exactly the recordings finished in the snapshot
    assert set(man["in_progress"]) == in_progress


def test_a_postgresql_store_says_pg_dump(tmp_path):
    (tmp_path / "config.yaml").write_text(
        "salvesti: {data_dir: ./data, purpose: test}\nstore: {platform: postgresql, dsn: 'postgresql://rec:pw@db/salvesti'}\n"
        "http: {listen: '127.0.0.1:0'}\n"
    )
    r = cli("backup", "-c", str(tmp_path / "config.yaml"), "--to", str(tmp_path / "b"), "--no-recordings")
    assert r.returncode == 0, r.stderr
    assert "pg_dump --format=custom" in r.stdout and "'postgresql://rec@db/salvesti'" in r.stdout
    assert "pw@" not in r.stdout
    # the HTTP plugin's users and audit log are in that database too, not in a file to copy
    assert "users, tokens and audit log" in r.stdout and "salvesti.db" not in r.stdout


S3_SINK = (
    "  - {platform: s3, id: cloud, endpoint: 'https://s3.example', bucket: calls,"
    " access_key: AK, secret_key: SK}\n"
)


def test_recordings_of_an_s3_sink_stay_in_the_object_store(tmp_path):
    from backup_box import CONFIG, save

    make_box(tmp_path, n=1, config=CONFIG.replace("retention:", S3_SINK.rstrip() + "\nretention:", 1))
    up = new_call(tmp_path, 7)
    up.meta["sink"] = "cloud"
    save(tmp_path, [up])
    r = cli("backup", "-c", str(tmp_path / "config.yaml"), "--to", str(tmp_path / "b"))
    assert r.returncode == 0, r.stderr
    assert "1 recordings: 1 copied" in r.stdout
    assert (
        "1 recording(s) of the s3 sink 'cloud' not copied: an object store keeps its own copies" in r.stdout
    )
    assert "same disk as the data folder" in r.stdout


def test_backup_without_to_is_a_usage_error(tmp_path):
    make_box(tmp_path, n=1)
    r = cli("backup", "-c", str(tmp_path / "config.yaml"))
    assert r.returncode == 2 and "--to DIR is required" in r.stderr
