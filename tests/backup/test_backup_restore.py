"""``salvesti restore``: refuses where it must, gives back the same calls, users and audit chain,
never brings back what was deleted after the backup, keeps sealed recordings playable."""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
import wave
from datetime import timedelta
from pathlib import Path

from backup_box import (
    CONFIG,
    PASSWORD,
    T0,
    cli,
    make_box,
    new_call,
    only_backup,
    save,
    store_calls,
    table,
    write_config,
)

from salvesti.core.call import RetentionInfo
from salvesti.core.crypto.keyring import Keyring
from salvesti.core.crypto.sealed import SealedWriter
from salvesti.core.datalock import hold_for_restore, hold_for_run


def backup(tmp: Path) -> Path:
    r = cli("backup", "-c", str(tmp / "config.yaml"), "--to", str(tmp / "backups"))
    assert r.returncode == 0, r.stderr
    return only_backup(tmp / "backups")


def restore(tmp: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return cli("restore", "-c", str(tmp / "config.yaml"), "--from", str(tmp / "backups"), *extra)


def test_restore_refuses_a_non_empty_data_folder_and_a_running_salvesti(tmp_path):
    make_box(tmp_path)
    b = backup(tmp_path)
    r = restore(tmp_path)
    assert r.returncode == 1
    assert f"restore refused: {tmp_path / 'data'} is not empty" in r.stderr and "--force" in r.stderr
    with hold_for_run(tmp_path / "data"):
        r = restore(tmp_path, "--force")
    assert r.returncode == 1
    assert "restore refused: the data folder" in r.stderr and "salvesti run is using it" in r.stderr
    # and the other way round: salvesti run does not start half-way through a restore
    with hold_for_restore(tmp_path / "data"):
        run = subprocess.run(
            [sys.executable, "-m", "salvesti", "run", "-c", str(tmp_path / "config.yaml")],
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
    assert run.returncode == 1 and "could not start" in run.stderr and "a restore is running" in run.stderr
    # nor does it restore a backup that does not verify
    (b / "config" / "config.yaml").write_text("changed")
    r = restore(tmp_path, "--force")
    assert r.returncode == 1 and "does not verify, nothing restored" in r.stderr
    assert "config/config.yaml has 7 bytes" in r.stderr


def test_restore_round_trip_on_a_new_box(tmp_path):
    calls = make_box(tmp_path)
    config = str(tmp_path / "config.yaml")
    assert cli("tokens", "create", "boss", "-c", config).returncode == 0  # a second audit entry
    before = store_calls(tmp_path / "data" / "salvesti.db")
    users = cli("users", "list", "-c", config).stdout
    audit = table(tmp_path / "data" / "salvesti.db", "SELECT seq, hash FROM http_audit ORDER BY seq")
    recordings = {c.id: Path(c.recording.path).read_bytes() for c in calls}
    backup(tmp_path)

    shutil.rmtree(tmp_path / "data")  # the SD card died; same config on a new card
    r = restore(tmp_path)
    assert r.returncode == 0, r.stderr
    assert "databases: store, http; recordings: 3" in r.stdout
    assert "audit log OK: 2 entries, chain intact" in r.stdout
    assert store_calls(tmp_path / "data" / "salvesti.db") == before
    assert cli("users", "list", "-c", config).stdout == users
    assert table(tmp_path / "data" / "salvesti.db", "SELECT seq, hash FROM http_audit ORDER BY seq") == audit
    assert cli("audit", "verify", "-c", config).returncode == 0
    for call in calls:
        assert Path(call.recording.path).read_bytes() == recordings[call.id]
    # the restored users are there
    assert cli("users", "add", "boss", "--role", "admin", "-c", config, stdin=PASSWORD).returncode == 1


def test_deletions_after_the_backup_are_re_applied_and_retention_says_what_is_next(tmp_path):
    calls = make_box(tmp_path, n=2)
    old = new_call(tmp_path, 3, started_at=T0 - timedelta(days=400))
    held = new_call(tmp_path, 4, started_at=T0 - timedelta(days=400))
    old.retention = RetentionInfo(delete_after=T0 - timedelta(days=300), rule="default")
    held.retention = RetentionInfo(delete_after=T0 - timedelta(days=300), rule="default", legal_hold=True)
    save(tmp_path, [old, held])
    config = str(tmp_path / "config.yaml")
    erased_number = calls[0].remote_number
    backup(tmp_path)

    # after the backup: the owner erases a caller's recordings on request
    r = cli("subject", "erase", erased_number, "--yes", "-c", config)
    assert r.returncode == 0, r.stderr
    assert not Path(calls[0].recording.path).exists()

    late = new_call(tmp_path, 8)
    save(tmp_path, [late])  # recorded after the backup: the restore says it drops it
    r = restore(tmp_path, "--force")
    assert r.returncode == 0, r.stderr
    assert "1 call(s) recorded after the backup are no longer listed" in r.stdout
    assert Path(late.recording.path).exists()
    assert "the live store deleted 1 call recording(s) after this backup was made" in r.stdout
    assert f"{calls[0].id}" in r.stdout and "rule=erasure" in r.stdout
    assert not Path(calls[0].recording.path).exists()  # not brought back
    assert Path(calls[1].recording.path).exists()
    restored = store_calls(tmp_path / "data" / "salvesti.db")
    assert restored[calls[0].id]["recording"]["status"] == "deleted"
    assert restored[calls[0].id]["remote_number"] is None  # the erasure's blanking, too
    log = table(tmp_path / "data" / "salvesti.db", "SELECT call_id, rule FROM deletions")
    assert log == [(calls[0].id, "erasure")]
    assert "1 recording(s) passed their retention while in the backup" in r.stdout
    assert "1 recording(s) under legal hold stay" in r.stdout
    assert "audit log OK: 2 entries" in r.stdout  # user_add + the erasure, both kept
    assert "1 audit entries written after the backup were carried over" in r.stdout

    # the next sweep deletes the expired one and keeps the held one
    r = cli("retention", "sweep", "-c", config)
    assert r.returncode == 0 and old.id in r.stdout and held.id not in r.stdout
    assert Path(held.recording.path).exists()

    # a second restore of the same backup finds the same deletion and re-applies it once more
    r = restore(tmp_path, "--force")
    assert r.returncode == 0, r.stderr
    assert not Path(calls[0].recording.path).exists()
    ids = [row[0] for row in table(tmp_path / "data" / "salvesti.db", "SELECT call_id FROM deletions")]
    assert sorted(ids) == sorted([calls[0].id, old.id])


def test_sealed_recordings_play_after_a_restore(tmp_path):
    write_config(tmp_path, CONFIG.replace("format: wav}", "format: wav, encrypt: true}"))
    config = str(tmp_path / "config.yaml")
    assert cli("keys", "init", "-c", config).returncode == 0
    call = new_call(tmp_path, 1)
    plain = Path(call.recording.path)
    with wave.open(str(plain)) as w:
        frames = w.readframes(w.getnframes())
    ring = Keyring.open(tmp_path / "salvesti.key", tmp_path / "data" / "keys.db")
    sealed = plain.with_name(plain.name + ".enc")
    writer = SealedWriter(sealed, ring.new_key(call.id), 8000)
    writer.write_frames(frames)
    writer.close()
    ring.close()
    plain.unlink()
    call.recording.path, call.recording.sha256, call.recording.bytes = str(sealed), None, None
    save(tmp_path, [call])
    b = backup(tmp_path)
    assert (b / "db" / "keys.db").exists()
    assert "the master key" in cli("backup", "-c", config, "--to", str(tmp_path / "x")).stdout

    shutil.rmtree(tmp_path / "data")  # salvesti.key was kept apart, as the docs say
    r = restore(tmp_path)
    assert r.returncode == 0, r.stderr
    assert "keys" in r.stdout
    out = tmp_path / "export"
    r = cli("subject", "export", call.remote_number, "--out", str(out), "-c", config)
    assert r.returncode == 0, r.stderr
    with wave.open(str(out / f"{call.id}.wav")) as w:
        assert w.readframes(w.getnframes()) == frames


def test_a_new_box_that_keeps_recordings_elsewhere_gets_them_there(tmp_path):
    calls = make_box(tmp_path, n=2)
    backup(tmp_path)
    shutil.rmtree(tmp_path / "data")
    write_config(tmp_path, CONFIG.replace("path: data/recordings", "path: media/calls"))
    r = restore(tmp_path)
    assert r.returncode == 0, r.stderr
    restored = store_calls(tmp_path / "data" / "salvesti.db")
    for call in calls:
        moved = Path(restored[call.id]["recording"]["path"])
        assert moved.is_relative_to(tmp_path / "media" / "calls")
        assert (
            moved.read_bytes()
            == (tmp_path / "backups")
            .joinpath(
                only_backup(tmp_path / "backups"),
                "recordings",
                "disk",
                moved.relative_to(tmp_path / "media" / "calls"),
            )
            .read_bytes()
        )
        assert restored[call.id]["recording"]["sha256"] == call.recording.sha256


def test_a_live_audit_log_that_does_not_continue_the_backup_is_kept_in_a_file(tmp_path):
    make_box(tmp_path, n=1)
    config = str(tmp_path / "config.yaml")
    backup(tmp_path)
    db = tmp_path / "data" / "salvesti.db"
    con = sqlite3.connect(db)
    con.execute("UPDATE http_audit SET hash = ? WHERE seq = 1", ("f" * 64,))  # the live log was altered
    con.commit()
    con.close()
    assert cli("tokens", "create", "boss", "-c", config).returncode == 0  # entry 2, after the backup
    r = restore(tmp_path, "--force")
    assert r.returncode == 0, r.stderr
    assert "the live audit log does not continue the backup's; its entries are kept in" in r.stdout
    kept = json.loads(next((tmp_path / "data").glob("audit-before-restore-*.json")).read_text())
    assert [e["action"] for e in kept] == ["user_add", "token_create"]
    assert "audit log OK: 1 entries, chain intact" in r.stdout
