"""``salvesti backup verify``: a flipped byte, a missing file, a broken database, loose secrets."""

from __future__ import annotations

import os

from backup_box import cli, make_box, manifest, only_backup


def backed_up(tmp_path):
    make_box(tmp_path)
    r = cli("backup", "-c", str(tmp_path / "config.yaml"), "--to", str(tmp_path / "backups"))
    assert r.returncode == 0, r.stderr
    return only_backup(tmp_path / "backups")


def test_a_whole_backup_verifies_and_a_folder_of_backups_means_the_newest(tmp_path):
    backup = backed_up(tmp_path)
    r = cli("backup", "verify", str(tmp_path / "backups"))
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith(f"{backup}: OK, {len(manifest(backup)['files'])} files match the manifest")


def test_verify_names_a_flipped_byte_and_a_missing_file(tmp_path):
    backup = backed_up(tmp_path)
    recs = [f for f in manifest(backup)["files"] if f["kind"] == "recording"]
    damaged = backup / recs[0]["path"]
    data = bytearray(damaged.read_bytes())
    data[100] ^= 0x01
    damaged.write_bytes(bytes(data))
    (backup / recs[1]["path"]).unlink()
    r = cli("backup", "verify", str(backup))
    assert r.returncode == 1
    lines = r.stderr.splitlines()
    assert f"PROBLEM: {recs[0]['path']} is damaged: its sha256 is not the one in the manifest" in lines
    assert f"PROBLEM: {recs[1]['path']} is missing (recording of call {recs[1]['call_id']})" in lines
    assert lines[-1] == f"{backup}: 2 problem(s); do not rely on this backup"


def test_verify_opens_the_databases_and_checks_secrets_and_strays(tmp_path):
    backup = backed_up(tmp_path)
    db = backup / "db" / "salvesti.db"
    entry = next(f for f in manifest(backup)["files"] if f["path"] == "db/salvesti.db")
    with open(db, "r+b") as fh:  # same size, garbage over the first page's b-tree: a broken file
        fh.seek(100)
        fh.write(b"\xff" * 200)
    os.chmod(backup / "config" / "secrets.yaml", 0o644)
    (backup / "extra.txt").write_text("?")
    r = cli("backup", "verify", str(backup))
    assert r.returncode == 1
    assert "PROBLEM: db/salvesti.db is damaged" in r.stderr
    assert "PROBLEM: database db/salvesti.db " in r.stderr
    assert "config/secrets.yaml is readable by others (mode 0o644; should be 0o600)" in r.stderr
    assert "extra.txt is not in the manifest" in r.stderr
    assert entry["kind"] == "database"


def test_a_cut_off_backup_is_not_a_backup(tmp_path):
    backup = backed_up(tmp_path)
    (backup / "manifest.json").unlink()
    r = cli("backup", "verify", str(backup))
    assert r.returncode == 1
    assert "holds no backup" in r.stderr
