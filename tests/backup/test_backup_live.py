"""Against a real ``salvesti run``: the backup works while it runs, the restore refuses."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from backup_box import make_box, manifest, only_backup

SALVESTI = str(Path(sys.executable).parent / "salvesti")


def salvesti(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([SALVESTI, *args], cwd=folder, capture_output=True, text=True, timeout=60)


def test_backup_while_salvesti_runs_and_restore_refuses_until_it_stops(tmp_path):
    calls = make_box(tmp_path)
    log = tmp_path / "run.log"
    with log.open("w") as err:
        proc = subprocess.Popen(
            [SALVESTI, "run", "-c", "config.yaml"], cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=err
        )
    try:
        deadline = time.monotonic() + 30  # waiting for start-up, not timing the test
        while "salvesti: running" not in log.read_text():
            assert proc.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
        r = salvesti(tmp_path, "backup", "-c", "config.yaml", "--to", "backups")
        assert r.returncode == 0, r.stderr
        assert manifest(only_backup(tmp_path / "backups"))["counts"]["recordings"] == len(calls)
        assert salvesti(tmp_path, "backup", "verify", "backups").returncode == 0
        r = salvesti(tmp_path, "restore", "-c", "config.yaml", "--from", "backups", "--force")
        assert r.returncode == 1 and "salvesti run is using it" in r.stderr
    finally:
        proc.terminate()
        assert proc.wait(30) == 0
    r = salvesti(tmp_path, "restore", "-c", "config.yaml", "--from", "backups", "--force")
    assert r.returncode == 0, r.stderr
    assert "audit log OK" in r.stdout
