"""``salvesti run`` as a real process: starts, sweeps retention, shares the DB, stops on signals."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import textwrap
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from test_cli import CONFIG, make_call, salvesti, seed

SALVESTI = str(Path(sys.executable).parent / "salvesti")
TZ = ZoneInfo("Europe/Tallinn")


def wait_until(predicate, timeout: float = 15.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def running(tmp_path: Path):
    (tmp_path / "config.yaml").write_text(textwrap.dedent(CONFIG).lstrip(), encoding="utf-8")
    old = make_call(tmp_path, 1, minutes=1, line="+3726999999")
    recent = make_call(tmp_path, 2, minutes=0, started_at=datetime.now(TZ) - timedelta(days=1))
    seed(tmp_path, [old, recent])
    log = tmp_path / "run.log"
    with log.open("w") as err:
        proc = subprocess.Popen(
            [SALVESTI, "run", "-c", "config.yaml"], cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=err
        )
    try:
        wait_until(lambda: "salvesti: running" in log.read_text(), what="the running line")
        yield tmp_path, proc, log
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(5)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_run_sweeps_at_start_serves_readers_and_stops_cleanly(running, signum):
    folder, proc, log = running

    def first_deleted() -> bool:
        out = salvesti("calls", "list", "--json", cwd=folder)
        assert out.returncode == 0, out.stderr  # the DB is readable while run holds it
        calls = {c["id"]: c for c in json.loads(out.stdout)}
        return calls["c1"]["recording"]["status"] == "deleted"

    wait_until(first_deleted, what="the start-up retention sweep")
    assert not (folder / "data" / "recordings" / "c1.wav").exists()
    assert (folder / "data" / "recordings" / "c2.wav").exists()
    assert proc.poll() is None
    proc.send_signal(signum)
    assert proc.wait(15) == 0
    text = log.read_text()
    assert f"salvesti: {signal.Signals(signum).name} received, stopping" in text
    assert text.rstrip().endswith("salvesti: stopped")
    assert "sqlite(store): loaded" in text


def test_run_with_an_invalid_config_exits_2_without_starting(tmp_path):
    (tmp_path / "config.yaml").write_text("salvesti: {purpose: x, data_dri: ./d}\n")
    result = salvesti("run", cwd=tmp_path)
    assert result.returncode == 2
    assert (
        result.stderr == "config.yaml:1: salvesti.data_dri: extra key not allowed, did you mean 'data_dir'?\n"
    )
    assert not (tmp_path / "d").exists() and not (tmp_path / "data").exists()
