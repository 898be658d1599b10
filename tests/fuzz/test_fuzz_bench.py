"""bench/fuzz.py stays runnable: a tiny run prints a line per target and writes its figures."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "fuzz.py"


@pytest.mark.timeout(90)
def test_bench_fuzz_small_run(tmp_path: Path) -> None:
    figures = tmp_path / "fuzz.json"
    args = ["--inputs", "2500", "--http", "100", "--out", str(tmp_path / "findings"), "--json", str(figures)]
    done = subprocess.run(
        [sys.executable, str(BENCH), *args], capture_output=True, text=True, timeout=80, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    lines = {line.split()[0] for line in done.stdout.splitlines()}
    assert {"sip", "sip-tcp", "sdp", "rtp", "at", "http", "total"} <= lines
    report = json.loads(figures.read_text())
    assert report["total"] == {"inputs": 2500, "seconds": report["total"]["seconds"], "findings": 0}
    assert report["at"]["inputs"] == 480 and report["http"]["crashes"] == 0
