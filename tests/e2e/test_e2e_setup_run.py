"""`salvesti run -c FILE` with no FILE: setup first, then the real hub in the same process.

The written config listens on 0.0.0.0:5060 like a real box, so the walk runs in a network
namespace of its own (``unshare -n`` with only ``lo``), where that port is free whatever
else this machine runs."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e
HERE = Path(__file__).resolve().parent


def test_run_without_config_sets_up_then_runs(tmp_path: Path) -> None:
    assert shutil.which("unshare") and shutil.which("ip"), "util-linux and iproute2 are needed"
    flags = ["-n"] if os.geteuid() == 0 else ["-r", "-n"]
    inner = [sys.executable, str(HERE / "setup_handover.py"), str(tmp_path / "box")]
    cmd = ["unshare", *flags, "sh", "-c", 'ip link set lo up && exec "$@"', "sh", *inner]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert res.returncode == 0 and "HANDOVER OK" in res.stdout, (res.stdout[-4000:], res.stderr[-4000:])
    assert (tmp_path / "box" / "config.yaml").is_file()
